"""The error tree: every failure backsmith reports is one of these.

    BacksmithError                the database or the server refused (exit code 1), e.g.
    │                             StartupError, MigrationFailed, DestructivePlan
    ├── ContractError             a contract that cannot be served (exit code 2)
    ├── InputError                other files that cannot be used (exit code 2):
    │                             MigrationsError, PlanError, SeedError, FakeError
    └── Problem                   an HTTP request answered with RFC 9457 problem+json
        ├── BadRequest            400  malformed JSON, bad cursor
        ├── ValidationFailed      400/422  parameters or body break the contract's schemas
        ├── Unauthorized          401  missing or bad credentials
        ├── Forbidden             403  credentials without the role or scope asked for
        ├── NotFound              404  unknown path, missing row, or another owner's row
        ├── MethodNotAllowed      405  path known, method not declared
        ├── Conflict              409  unique or foreign-key conflict
        ├── PayloadTooLarge       413  body over the configured cap
        ├── UnsupportedMediaType  415  body media type not declared
        ├── Unprocessable         422  a write the database refuses (missing reference)
        ├── TooManyRequests       429  login attempts over the limit
        ├── NotImplementedOperation 501  declared operation that needs a handler
        └── ServiceUnavailable    503  database unreachable

Problems are rendered in exactly one place, `backsmith.http.problems`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class BacksmithError(Exception):
    """Root of every error backsmith raises on purpose."""


class InputError(BacksmithError):
    """Files the user gave, other than the contract, that cannot be used as they are."""


@dataclass(frozen=True, slots=True)
class Issue:
    """One finding about a contract: where it is and what is wrong."""

    message: str
    file: str = ""
    line: int | None = None
    pointer: str = ""
    severity: str = "error"

    def render(self) -> str:
        where = self.file or "<contract>"
        if self.line is not None:
            where = f"{where}:{self.line}"
        pointer = f" at #{self.pointer}" if self.pointer else ""
        return f"{where}: {self.severity}{pointer}: {self.message}"


class ContractError(BacksmithError):
    """A contract that cannot be read, validated or mapped."""

    def __init__(self, issues: list[Issue]) -> None:
        self.issues = issues
        super().__init__("\n".join(issue.render() for issue in issues))


class Problem(BacksmithError):
    """An HTTP error answered as application/problem+json."""

    status = 500
    code = "internal-error"
    title = "Internal Server Error"

    def __init__(
        self,
        detail: str = "",
        *,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or []
        self.headers = headers or {}
        self.column = ""  # the column a database refusal names, when it names one
        if status is not None:
            self.status = status

    def __str__(self) -> str:
        return f"{self.status} {self.title}: {self.detail}"


def _problem(status: int, code: str, title: str) -> type[Problem]:
    """Make a Problem subclass with a fixed status, code and title."""
    name = "".join(part.title() for part in code.split("-"))
    return type(name, (Problem,), {"status": status, "code": code, "title": title})


BadRequest = _problem(400, "bad-request", "Bad Request")
Unauthorized = _problem(401, "unauthorized", "Unauthorized")
Forbidden = _problem(403, "forbidden", "Forbidden")
NotFound = _problem(404, "not-found", "Not Found")
MethodNotAllowed = _problem(405, "method-not-allowed", "Method Not Allowed")
Conflict = _problem(409, "conflict", "Conflict")
PayloadTooLarge = _problem(413, "payload-too-large", "Content Too Large")
UnsupportedMediaType = _problem(415, "unsupported-media-type", "Unsupported Media Type")
Unprocessable = _problem(422, "unprocessable", "Unprocessable Content")
TooManyRequests = _problem(429, "too-many-requests", "Too Many Requests")
NotImplementedOperation = _problem(501, "handler-required", "Not Implemented")
ServiceUnavailable = _problem(503, "service-unavailable", "Service Unavailable")


class ValidationFailed(Problem):
    """Parameters or a body that break the contract; every error is listed."""

    code = "validation-error"
    title = "Request validation failed"

    def __init__(self, errors: list[dict[str, Any]], status: int = 422) -> None:
        noun = "error" if len(errors) == 1 else "errors"
        super().__init__(
            f"The request has {len(errors)} validation {noun}.", errors=errors, status=status
        )
