"""Requests as the suite sends them, and the one HTTP client that sends them.

A request is data (method, target, body, headers), so a check makes its variants by
replacing one part: the body without a field, the headers without a token. Answers of 429
are waited out and sent again (a short `Retry-After` only), so a rate limit met by one
check does not fail the next; the rate-limit check itself sends impatiently.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, replace
from typing import Any

import httpx

MAX_WAIT_SECONDS = 5.0  # a longer Retry-After is answered as it is, not waited out
RETRIES = 3
TIMEOUT_SECONDS = 30.0


class NoAnswer(Exception):
    """The service did not answer (refused the connection, timed out); says which request."""


@dataclass(frozen=True, slots=True)
class Request:
    """One request: `target` is the path and query under the service's base URL."""

    method: str
    target: str
    body: Any = None
    sends_body: bool = False
    headers: tuple[tuple[str, str], ...] = ()
    media_type: str = "application/json"
    bare: bool = False  # without the headers every request carries (--header): no credentials

    @property
    def line(self) -> str:
        return f"{self.method} {self.target}"

    def with_body(self, body: Any) -> Request:
        return replace(self, body=body, sends_body=True)

    def with_header(self, name: str, value: str) -> Request:
        return replace(self, headers=(*self.without_header(name).headers, (name, value)))

    def without_header(self, name: str) -> Request:
        kept = tuple((n, v) for n, v in self.headers if n.lower() != name.lower())
        return replace(self, headers=kept)

    def with_target(self, target: str) -> Request:
        return replace(self, target=target)

    def header(self, name: str) -> str | None:
        return next((v for n, v in self.headers if n.lower() == name.lower()), None)


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    headers: httpx.Headers
    content: bytes

    @property
    def media_type(self) -> str:
        return str(self.headers.get("content-type", "")).split(";")[0].strip().lower()

    def json(self) -> Any:
        """The body as JSON, or None when it is empty or not JSON."""
        try:
            return json.loads(self.content) if self.content else None
        except ValueError:
            return None

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


class Client:
    """Sends the suite's requests to one service, with the headers every request carries."""

    def __init__(self, base: str, headers: tuple[tuple[str, str], ...] = ()) -> None:
        self.base = base.rstrip("/")
        self.headers = headers
        self.sent = 0
        self._http = httpx.Client(timeout=TIMEOUT_SECONDS, follow_redirects=False)

    def close(self) -> None:
        self._http.close()

    def send(self, request: Request, patient: bool = True) -> Answer:
        """The service's answer; a 429 with a short Retry-After is waited out when `patient`."""
        for _ in range(RETRIES):
            answer = self._once(request)
            wait = _retry_after(answer)
            if not patient or answer.status != 429 or wait is None or wait > MAX_WAIT_SECONDS:
                return answer
            time.sleep(wait)
        return answer

    def _once(self, request: Request) -> Answer:
        every = () if request.bare else self.headers
        headers = {name: value for name, value in (*every, *request.headers)}
        content = None
        if request.sends_body:
            content = json.dumps(request.body, ensure_ascii=False).encode()
            headers["content-type"] = request.media_type
        self.sent += 1
        try:
            response = self._http.request(
                request.method, self.base + request.target, content=content, headers=headers
            )
        except httpx.HTTPError as error:
            raise NoAnswer(f"{request.line}: no answer ({type(error).__name__}: {error})") from None
        return Answer(response.status_code, response.headers, response.content)


def _retry_after(answer: Answer) -> float | None:
    text = answer.headers.get("retry-after", "")
    try:
        return max(0.0, float(text))
    except ValueError:
        return None
