"""The polling loop a user would script instead of running tagwatch: the official
UCloud Python SDK (ucloud-sdk-python3) lists every tag of each image, page by page
(advancing Offset by what came back, stopping at TotalCount or an empty page), and
keeps the newest UpdateTime per image.

Run by the scale benchmark (benches/scale.rs) with the venv `make python-sdk`
installs. One poll of the first image warms the loop up (the connection and the
modules the SDK loads on first use, which a running script pays once) outside the
measurement; then passes over the images repeat until `--polls` polls were made,
back to back, or with `--pace SECONDS` one poll every that many seconds (the rate of
a script that polls each of N images once per interval, evenly spread, as the operator
does).
Prints one JSON object: {"polls": N, "requests": N, "cpuSeconds": S}, the CPU time
(user + system) this process spent in the measured polls alone.
"""

import argparse
import json
import logging
import resource
import time

from ucloud.services.uhub.client import UHubClient


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--public-key", required=True)
    parser.add_argument("--private-key", required=True)
    parser.add_argument("--repo", required=True)
    parser.add_argument("--image", action="append", required=True)
    parser.add_argument("--page-size", type=int, default=100)
    parser.add_argument("--polls", type=int, default=0, help="polls to measure (default: one per image)")
    parser.add_argument("--pace", type=float, default=0.0, help="seconds from one poll's start to the next's")
    args = parser.parse_args()

    logging.getLogger("ucloud").setLevel(logging.WARNING)
    client = UHubClient(
        {
            "public_key": args.public_key,
            "private_key": args.private_key,
            "base_url": args.url,
            "max_retries": 0,
            "timeout": 30,
        }
    )
    newest = {}

    def poll(image: str) -> int:
        requests, offset, total = 0, 0, None
        while total is None or offset < total:
            resp = client.get_image_tag(
                {"RepoName": args.repo, "ImageName": image, "Offset": offset, "Limit": args.page_size}
            )
            requests += 1
            tags = resp.get("TagSet", [])
            total = resp.get("TotalCount", 0)
            if not tags:
                break
            offset += len(tags)
            for tag in tags:
                if str(tag["UpdateTime"]) > newest.get(image, ""):
                    newest[image] = str(tag["UpdateTime"])
        return requests

    poll(args.image[0])
    polls = max(args.polls, len(args.image))
    requests = 0
    start = cpu_seconds()
    begun = time.monotonic()
    for i in range(polls):
        if args.pace > 0:
            time.sleep(max(0.0, begun + i * args.pace - time.monotonic()))
        requests += poll(args.image[i % len(args.image)])
    spent = cpu_seconds() - start
    print(json.dumps({"polls": polls, "requests": requests, "cpuSeconds": spent}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
