"""Drives the official UCloud Python SDK (ucloud-sdk-python3) against a UHub endpoint.

Run by tests/emulator_python_sdk.rs with the venv that `make python-sdk` installs.
Prints one JSON object on stdout:

- `list`: pages through GetImageTag with `--page-size`, as a careful client does
  (advance Offset by what came back, stop at TotalCount or an empty page):
  {"pages": N, "totalCount": N, "tags": [{"TagName", "UpdateTime", "Digest"?}, ...]}
- `once`: one GetImageTag call: {"totalCount": N, "tags": [...]}

A RetCodeException becomes {"retCode": code, "message": ..., "requestUuid": ...}.
"""

import argparse
import json
import logging
import sys

from ucloud.core import exc
from ucloud.services.uhub.client import UHubClient


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["list", "once"])
    parser.add_argument("--url", required=True)
    parser.add_argument("--public-key", required=True)
    parser.add_argument("--private-key", required=True)
    parser.add_argument("--project-id")
    parser.add_argument("--repo", required=True)
    parser.add_argument("--image", required=True)
    parser.add_argument("--page-size", type=int, default=20)
    args = parser.parse_args()

    # The SDK logs every request (with its signature) at INFO.
    logging.getLogger("ucloud").setLevel(logging.WARNING)
    config = {
        "public_key": args.public_key,
        "private_key": args.private_key,
        "base_url": args.url,
        "max_retries": 0,
        "timeout": 5,
    }
    if args.project_id:
        config["project_id"] = args.project_id
    client = UHubClient(config)

    def page(offset):
        return client.get_image_tag(
            {
                "RepoName": args.repo,
                "ImageName": args.image,
                "Offset": offset,
                "Limit": args.page_size,
            }
        )

    try:
        if args.mode == "once":
            resp = page(0)
            result = {"totalCount": resp["TotalCount"], "tags": resp["TagSet"]}
        else:
            tags, pages, total = [], 0, None
            while True:
                resp = page(len(tags))
                pages += 1
                total = resp["TotalCount"]
                tags.extend(resp["TagSet"])
                if not resp["TagSet"] or len(tags) >= total:
                    break
            result = {"pages": pages, "totalCount": total, "tags": tags}
    except exc.RetCodeException as e:
        result = {"retCode": e.code, "message": e.message, "requestUuid": e.request_uuid}
    json.dump(result, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
