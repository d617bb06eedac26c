"""A webhook receiver on loopback for the tests: real HTTP, verifying Standard Webhooks.

The signature check is written here from the specification, not taken from backsmith:
HMAC-SHA256 keyed with the base64-decoded secret over `id.timestamp.body`, in base64,
after `v1,`; the timestamp must be within five minutes.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
from typing import Any

import uvicorn
from loopback_ports import free_port

SECRET = "whsec_" + base64.b64encode(b"a-test-secret-of-thirty-two-byte").decode()


def verify(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """Whether a request carries a valid Standard Webhooks signature."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    message_id, stamp = headers["webhook-id"], headers["webhook-timestamp"]
    if abs(time.time() - int(stamp)) > 300:
        return False
    expected = hmac.new(key, f"{message_id}.{stamp}.".encode() + body, hashlib.sha256).digest()
    given = [part.split(",", 1)[1] for part in headers["webhook-signature"].split(" ")]
    return any(hmac.compare_digest(base64.b64encode(expected).decode(), g) for g in given)


class Receiver:
    """Takes webhooks on 127.0.0.1; `status` is what it answers, `received` what it took."""

    def __init__(self, secret: str = SECRET) -> None:
        self.secret = secret
        self.port = free_port()
        self.status = 200
        self.delay = 0.0  # seconds to wait before answering (the request is kept at once)
        self.received: list[dict[str, Any]] = []  # each: id, headers, body, valid
        self.attempts: list[float] = []  # when each request came, taken or not
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        self.attempts.append(time.monotonic())
        status = self.status
        if status == 200:
            self.received.append(
                {
                    "id": headers.get("webhook-id"),
                    "headers": headers,
                    "body": json.loads(body),
                    "raw": body,
                    "valid": verify(self.secret, headers, body),
                }
            )
        if self.delay:
            await asyncio.sleep(self.delay)
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def start(self) -> None:
        config = uvicorn.Config(
            self,
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            timeout_graceful_shutdown=1,  # a request left hanging on purpose is not waited for
        )
        self._server = uvicorn.Server(config)
        self._task = asyncio.create_task(self._server.serve())
        while not self._server.started:
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            await self._task
            self._server = self._task = None

    def types(self) -> list[str]:
        return [item["body"]["type"] for item in self.received]

    async def wait_for(self, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        """The first `count` events taken, waiting for them up to `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while len(self.received) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(self.received)} of {count} events came: {self.types()}")
            await asyncio.sleep(0.02)
        return self.received[:count]
