"""The error tree: every failure backsmith reports is one of these, each with a stable code.

    BacksmithError            BSM000  the root; the database or the server refused (exit 1)
    ├── StartFailed           BSM010  the server's address is taken or unusable (api)
    ├── ContractError         BSM100  a contract that cannot be served (exit 2)
    ├── InputError            BSM200  other input that cannot be used (exit 2)
    │   ├── KeyConfigError    BSM201  token keys or algorithms (security.tokens)
    │   ├── CorsRefused       BSM202  CORS settings wider than they say (http.cors)
    │   ├── ExposureRefused   BSM203  what production must not serve (security.exposure)
    │   ├── MigrationsError   BSM210  an unreadable migrations folder (storage.migrations.folder)
    │   ├── PlanError         BSM211  a change no migration can make alone (...migrations.alter)
    │   ├── SeedError         BSM220  fixtures that cannot be loaded (storage.seed)
    │   ├── FakeError         BSM221  a value no generator can make (storage.fake)
    │   ├── HandlerError      BSM240  a handler that cannot be imported or called (logic)
    │   └── SettingError      BSM230  a setting's value cannot be used (settings)
    ├── StartupError          BSM500  the database is not ready to serve (storage.schema)
    ├── MigrationFailed       BSM501  a revision failed, rolled back (storage.migrations.runner)
    │   └── Unreachable       BSM502  the database could not be reached (...migrations.runner)
    ├── DestructivePlan       BSM503  a plan that drops data (storage.migrations.project)
    ├── KeysUnavailable       BSM504  no table of API keys (storage.api_keys)
    ├── LedgerUnavailable     BSM505  no outbox or audit table to read (events.ledger)
    ├── StorageFault          BSM520  the database refused a request's work (storage.faults)
    │   ├── IntegrityViolation  BSM521  the change breaks a constraint of the stored data
    │   │   ├── UniqueViolation     BSM522  a row with the same unique value exists
    │   │   ├── ReferenceViolation  BSM523  a referenced row is missing, or still referred to
    │   │   ├── NotNullViolation    BSM524  a required value is missing
    │   │   └── CheckViolation      BSM525  a value breaks a CHECK constraint
    │   ├── ValueRejected     BSM526  a value does not fit its column
    │   ├── ValueOutOfRange   BSM527  a value the driver cannot bind (an integer past 64 bits)
    │   ├── Unavailable       BSM528  the database cannot be reached now
    │   └── DatabaseFailure   BSM529  the server's own fault (a missing table, bad SQL): a 500
    └── Problem               BSM001  500  an HTTP answer as RFC 9457 problem+json
        ├── Unauthorized      BSM300  401  missing or bad credentials
        ├── Forbidden         BSM301  403  no role or scope asked for; another owner's public row
        ├── TooManyRequests   BSM302  429  login attempts over the limit
        │   └── QuotaExceeded BSM303  429  requests over an operation's rate limit
        ├── BadRequest        BSM400  400  malformed JSON, a bad cursor
        ├── ValidationFailed  BSM401  400/422  parameters or body break the contract's schemas
        ├── NotFound          BSM402  404  unknown path, missing row, another owner's private row
        ├── MethodNotAllowed  BSM403  405  path known, method not declared
        ├── PayloadTooLarge   BSM404  413  body over the configured cap
        ├── UnsupportedMediaType  BSM405  415  body media type not declared
        ├── NotImplementedOperation  BSM406  501  a declared operation that needs a handler
        ├── Refused           BSM407  4xx  a refusal a handler raised: `backsmith.logic.Problem`
        ├── IdempotencyKeyReused  BSM408  422  an Idempotency-Key sent with another request
        ├── IdempotencyKeyInUse   BSM409  409  its first request with the key still runs
        ├── RequestTimeout    BSM410  408  a body that stopped arriving
        ├── PreconditionFailed    BSM411  412  If-Match names a version the row no longer has
        ├── PreconditionRequired  BSM412  428  a write the contract guards sent no If-Match
        ├── Conflict          BSM510  409  a unique or foreign-key conflict
        ├── Unprocessable     BSM511  422  a write the database refuses (a missing reference)
        └── ServiceUnavailable  BSM512  503  the database is unreachable

Codes are `BSM` and three digits, grouped by area as PostgREST groups `PGRST1xx`; the
number is never the HTTP status:

    BSM0xx  the root and the unexpected (a 500)
    BSM1xx  the contract
    BSM2xx  settings, keys and the other files a command reads
    BSM3xx  authentication and authorization
    BSM4xx  the request: its form, its address, its parameters and body
    BSM5xx  storage: the database, migrations, the tables backsmith keeps

A code never changes its meaning once released; a new error takes the next free code of
its area. `docs/errors.md` lists every code, and a test keeps it, this tree and the
classes in step. A class defined here states its code; a class defined in another module
takes its code from `CODES_ELSEWHERE` by its name, when the class is made. A problem's
code is also sent as the `code` member of its problem+json body.

Three exceptions are signals inside backsmith and never reach a user: a
`security.tokens.TokenRejected` becomes an Unauthorized, a `policies.counters.CountersDown`
a 503 or a request served without its limit (`rate_limit_failure`), and a
`storage.database.DatabaseError` becomes a `StorageFault` in the unit of work
(`storage.unit`), which `http.faults` answers as a Problem, or a 500.

Problems become responses in exactly one place, `backsmith.http.error_bodies`: RFC 9457
problem+json (`backsmith.http.problems`), or the error body the operation's contract
declares, with the status it names.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

# The codes of the error classes defined outside this module, by class name.
CODES_ELSEWHERE: dict[str, str] = {
    "KeyConfigError": "BSM201",
    "CorsRefused": "BSM202",
    "ExposureRefused": "BSM203",
    "MigrationsError": "BSM210",
    "PlanError": "BSM211",
    "SeedError": "BSM220",
    "FakeError": "BSM221",
    "HandlerError": "BSM240",
    "StartupError": "BSM500",
    "MigrationFailed": "BSM501",
    "Unreachable": "BSM502",
    "DestructivePlan": "BSM503",
    "KeysUnavailable": "BSM504",
    "LedgerUnavailable": "BSM505",
    "StartFailed": "BSM010",
    "SettingError": "BSM230",
    "StorageFault": "BSM520",
    "IntegrityViolation": "BSM521",
    "UniqueViolation": "BSM522",
    "ReferenceViolation": "BSM523",
    "NotNullViolation": "BSM524",
    "CheckViolation": "BSM525",
    "ValueRejected": "BSM526",
    "ValueOutOfRange": "BSM527",
    "Unavailable": "BSM528",
    "DatabaseFailure": "BSM529",
}


class BacksmithError(Exception):
    """Root of every error backsmith raises on purpose."""

    code: ClassVar[str] = "BSM000"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "code" not in cls.__dict__ and cls.__name__ in CODES_ELSEWHERE:
            cls.code = CODES_ELSEWHERE[cls.__name__]


class InputError(BacksmithError):
    """Files the user gave, other than the contract, that cannot be used as they are."""

    code = "BSM200"


@dataclass(frozen=True, slots=True)
class Issue:
    """One finding about a contract: where it is and what is wrong."""

    message: str
    file: str = ""
    line: int | None = None
    pointer: str = ""
    severity: str = "error"
    fix: str = ""  # what to change, when the message alone does not say it
    rule: str = ""  # a lint rule's stable id, which configuration can turn off

    def render(self) -> str:
        where = self.file or "<contract>"
        if self.line is not None:
            where = f"{where}:{self.line}"
        rule = f" [{self.rule}]" if self.rule else ""
        pointer = f" at #{self.pointer}" if self.pointer else ""
        fix = f"; fix: {self.fix}" if self.fix else ""
        return f"{where}: {self.severity}{rule}{pointer}: {self.message}{fix}"


class ContractError(BacksmithError):
    """A contract that cannot be read, validated or mapped."""

    code = "BSM100"

    def __init__(self, issues: list[Issue]) -> None:
        self.issues = issues
        super().__init__("\n".join(issue.render() for issue in issues))


class Problem(BacksmithError):
    """An HTTP error answered as application/problem+json."""

    code = "BSM001"
    status: int = 500
    slug: str = "internal-error"  # the last part of the problem's type URI
    title: str = "Internal Server Error"

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


class Unauthorized(Problem):
    code, status, slug, title = "BSM300", 401, "unauthorized", "Unauthorized"


class Forbidden(Problem):
    code, status, slug, title = "BSM301", 403, "forbidden", "Forbidden"


class TooManyRequests(Problem):
    code, status, slug, title = "BSM302", 429, "too-many-requests", "Too Many Requests"


class QuotaExceeded(TooManyRequests):
    # the problem type of the IETF draft on RateLimit fields
    code, slug, title = "BSM303", "quota-exceeded", "Quota Exceeded"


class IdempotencyKeyReused(Problem):
    code, status, slug, title = "BSM408", 422, "idempotency-key-reused", "Idempotency Key Reused"


class IdempotencyKeyInUse(Problem):
    code, status, slug, title = "BSM409", 409, "idempotency-key-in-use", "Idempotency Key In Use"


class RequestTimeout(Problem):
    code, status, slug, title = "BSM410", 408, "request-timeout", "Request Timeout"


class PreconditionFailed(Problem):
    code, status, slug, title = "BSM411", 412, "precondition-failed", "Precondition Failed"


class PreconditionRequired(Problem):
    code, status, slug, title = "BSM412", 428, "precondition-required", "Precondition Required"


class BadRequest(Problem):
    code, status, slug, title = "BSM400", 400, "bad-request", "Bad Request"


class ValidationFailed(Problem):
    """Parameters or a body that break the contract; every error is listed."""

    code, slug, title = "BSM401", "validation-error", "Request validation failed"

    def __init__(self, errors: list[dict[str, Any]], status: int = 422) -> None:
        noun = "error" if len(errors) == 1 else "errors"
        super().__init__(
            f"The request has {len(errors)} validation {noun}.", errors=errors, status=status
        )


class NotFound(Problem):
    code, status, slug, title = "BSM402", 404, "not-found", "Not Found"


class MethodNotAllowed(Problem):
    code, status, slug, title = "BSM403", 405, "method-not-allowed", "Method Not Allowed"


class PayloadTooLarge(Problem):
    code, status, slug, title = "BSM404", 413, "payload-too-large", "Content Too Large"


class UnsupportedMediaType(Problem):
    code, status = "BSM405", 415
    slug, title = "unsupported-media-type", "Unsupported Media Type"


class NotImplementedOperation(Problem):
    code, status, slug, title = "BSM406", 501, "handler-required", "Not Implemented"


class Refused(Problem):
    """A refusal the team's own code raised, with the status and title it chose.

    Handlers and hooks import it as `backsmith.logic.Problem`:
    `raise Problem(409, "Out of stock", "Only 2 copies are left.")`.
    """

    code, slug = "BSM407", "refused"

    def __init__(
        self,
        status: int = 400,
        title: str = "Refused",
        detail: str = "",
        *,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        if not isinstance(status, int) or not 400 <= status <= 599:
            raise ValueError(f"a problem's status is 400 to 599, not {status!r}")
        super().__init__(detail, errors=errors, headers=headers, status=status)
        self.title = title
        words = "".join(c if c.isalnum() else " " for c in title.lower()).split()
        self.slug = "-".join(words) or "refused"


class Conflict(Problem):
    code, status, slug, title = "BSM510", 409, "conflict", "Conflict"


class Unprocessable(Problem):
    code, status, slug, title = "BSM511", 422, "unprocessable", "Unprocessable Content"


class ServiceUnavailable(Problem):
    code, status, slug, title = "BSM512", 503, "service-unavailable", "Service Unavailable"
