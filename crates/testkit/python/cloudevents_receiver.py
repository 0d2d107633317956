"""A CloudEvents receiver for tests: the official CloudEvents Python SDK (the
`cloudevents` package, pinned in the Makefile) parses and validates every request.

Each request is parsed twice, by the SDK's current API
(`cloudevents.core.bindings.http.from_http_event`, which picks binary mode when any `ce-`
header is present) and by its strict v1 API (`cloudevents.v1.http.from_http`, which also
rejects a missing `id` or `specversion`). Both must accept it: the answer is then
`202 Accepted`, otherwise `400` with the SDK's error.

Prints `listening on <port>` once, then one JSON line per request:
`{"mode", "headers", "body", "attributes", "data", "error"}` (attributes and data from
the current API; error null when accepted).
"""

import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cloudevents.core.bindings.http import HTTPMessage, from_http_event
from cloudevents.v1.http import from_http as strict_from_http

# Requests are handled on concurrent threads: one record per line needs one writer at a time.
OUTPUT = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        headers = {name.lower(): value for name, value in self.headers.items()}
        mode = "binary" if any(h.startswith("ce-") for h in headers) else "structured"
        record = {
            "mode": mode,
            "headers": headers,
            "body": body.decode("utf-8", "replace"),
            "attributes": None,
            "data": None,
            "error": None,
        }
        try:
            event = from_http_event(HTTPMessage(headers, body))
            strict_from_http(headers, body)
            attributes = {
                name: (value.isoformat() if hasattr(value, "isoformat") else value)
                for name, value in event.get_attributes().items()
            }
            record["attributes"] = attributes
            record["data"] = event.get_data()
            status = 202
        except Exception as error:  # the SDK's validation errors, reported to the test
            record["error"] = f"{type(error).__module__}.{type(error).__name__}: {error}"
            status = 400
        line = json.dumps(record) + "\n"
        with OUTPUT:
            sys.stdout.write(line)
            sys.stdout.flush()
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format, *args):
        pass


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(f"listening on {server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
