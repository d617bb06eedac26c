"""Webhook delivery as the Standard Webhooks 1.0 specification says.

Each request is a POST of the event's JSON with three headers: `webhook-id` (the event's
id, the same on every retry, so a receiver de-duplicates by it), `webhook-timestamp`
(seconds since the epoch, when it was sent) and `webhook-signature`: `v1,` and the base64
of HMAC-SHA256, keyed with the secret's bytes, over `id.timestamp.body`. The secret is
written `whsec_` and its base64. Any 2xx answer is delivered; anything else, or no answer
within the timeout, is a failure the relay retries.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import time

import httpx

from backsmith.events.message import DeliveryFailed, Message
from backsmith.settings import Settings

log = logging.getLogger("backsmith.events")

# Signs webhooks where no secret is set outside production: known to anyone, so a receiver
# can check its code in development; production refuses to start without a real one.
DEVELOPMENT_SECRET = "whsec_" + base64.b64encode(b"backsmith-development-secret-32b").decode()


def secret_bytes(secret: str) -> bytes:
    """The key a `whsec_...` secret stands for."""
    return base64.b64decode(secret.removeprefix("whsec_"))


def signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` value of one request."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_bytes(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def webhook_secret(settings: Settings) -> str:
    """The secret webhooks are signed with (production has one: see `targets_of`)."""
    if settings.webhook_secret:
        return settings.webhook_secret
    log.warning(
        "webhooks are signed with the development secret %s; set BACKSMITH_WEBHOOK_SECRET",
        DEVELOPMENT_SECRET,
    )
    return DEVELOPMENT_SECRET


class WebhookSender:
    """POSTs events to one URL, signed; one HTTP client, its connections kept alive."""

    def __init__(self, url: str, secret: str, timeout: float = 10.0) -> None:
        self.name = url
        self._secret = secret
        self._client = httpx.AsyncClient(timeout=timeout, follow_redirects=False)

    async def publish(self, message: Message) -> None:
        now = int(time.time())
        headers = {
            "content-type": "application/json",
            "user-agent": "backsmith-webhooks",
            "webhook-id": message.id,
            "webhook-timestamp": str(now),
            "webhook-signature": signature(self._secret, message.id, now, message.body),
        }
        try:
            answer = await self._client.post(self.name, content=message.body, headers=headers)
        except httpx.HTTPError as error:
            raise DeliveryFailed(f"{type(error).__name__}: {error}".rstrip(": ")) from error
        if not 200 <= answer.status_code < 300:
            raise DeliveryFailed(f"answered {answer.status_code}")

    async def close(self) -> None:
        await self._client.aclose()
