"""A webhook receiver for the tour: prints each event it takes and whether its signature
holds. Run it with `.venv/bin/python examples/bookshop/receiver.py [PORT]` (default 9000).

It checks Standard Webhooks signatures with BACKSMITH_WEBHOOK_SECRET, or the development
secret `serve` signs with when none is set.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import sys
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

from backsmith.events.webhooks import DEVELOPMENT_SECRET

SECRET = os.environ.get("BACKSMITH_WEBHOOK_SECRET") or DEVELOPMENT_SECRET


def verify(headers: dict[str, str], body: bytes) -> bool:
    key = base64.b64decode(SECRET.removeprefix("whsec_"))
    msg_id, stamp = headers["webhook-id"], headers["webhook-timestamp"]
    if abs(time.time() - int(stamp)) > 300:
        return False
    digest = hmac.new(key, f"{msg_id}.{stamp}.".encode() + body, hashlib.sha256).digest()
    expected = base64.b64encode(digest).decode()
    signatures = [s.split(",", 1)[1] for s in headers["webhook-signature"].split(" ")]
    return any(hmac.compare_digest(expected, s) for s in signatures)


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        headers = {k.lower(): v for k, v in self.headers.items()}
        event = json.loads(body)
        verdict = "signature ok" if verify(headers, body) else "BAD SIGNATURE"
        print(f"{event['type']} {event['id']} {verdict}: {json.dumps(event['data'])}", flush=True)
        self.send_response(204)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:  # only the events, please
        pass


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 9000
    print(f"taking webhooks on http://127.0.0.1:{port}/hooks", flush=True)
    HTTPServer(("127.0.0.1", port), Receiver).serve_forever()
