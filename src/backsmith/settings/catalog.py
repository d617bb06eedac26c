"""Every setting backsmith has, declared once, in the order `config` and the README list them."""

from __future__ import annotations

import base64
import re
from collections.abc import Callable

from backsmith.settings.declared import DATABASE_SCHEMES, Setting, database_scheme


def _database_url_problem(url: str) -> str | None:
    if "://" not in url or database_scheme(url) not in DATABASE_SCHEMES:
        return "must start with sqlite://, postgresql:// or mysql:// (MariaDB)"
    return None


def _module_problem(name: str) -> str | None:
    if name and not _MODULE.match(name.strip()):
        return "must be a Python module path such as shop.hooks"
    return None


_MODULE = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")


def _base_path_problem(path: str) -> str | None:
    if path and not path.startswith("/"):
        return "must be empty or a path starting with /, such as /api"
    if re.search(r"[?#{}\s]", path):
        return "must be a plain path: no query, fragment, {template} or spaces"
    return None


def _urls_problem(schemes: tuple[str, ...]) -> Callable[[str], str | None]:
    def problem(text: str) -> str | None:
        for url in (item.strip() for item in text.split(",")):
            scheme = url.split("://", 1)[0].lower() if "://" in url else ""
            if url and scheme not in schemes:
                wanted = " or ".join(f"{scheme}://" for scheme in schemes)
                return f"must be URLs starting with {wanted}, comma-separated"
            if len(url) > 255:  # the outbox keeps each target's URL in 255 characters
                return "must be URLs of at most 255 characters"
        return None

    return problem


def _webhook_secret_problem(secret: str) -> str | None:
    if not secret:
        return None
    try:
        raw = base64.b64decode(secret.removeprefix("whsec_"), validate=True)
    except ValueError:
        raw = b""
    if not 24 <= len(raw) <= 64:
        return "must be whsec_ and 24 to 64 bytes in base64 (Standard Webhooks)"
    return None


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "database_url",
        str,
        "sqlite:///backsmith.db",
        "database URL: sqlite:///file.db or postgresql://...; mysql://... (MariaDB) "
        "for migrations and seeds",
        "database",
        flag=True,
        metavar="URL",
        problem=_database_url_problem,
    ),
    Setting("host", str, "127.0.0.1", "address to listen on", flag=True),
    Setting("port", int, 8000, "port to listen on", flag=True, minimum=1, maximum=65535),
    Setting(
        "workers", int, 1, "server worker processes", flag=True, metavar="N", minimum=1, maximum=256
    ),
    Setting("page_size", int, 20, "default page size of lists", "page-size", minimum=1),
    Setting(
        "max_page_size", int, 100, "largest page a client may ask for", "max-page-size", minimum=1
    ),
    Setting(
        "max_body_size",
        int,
        1_048_576,
        "largest request body, in bytes",
        "max-body-size",
        minimum=1,
    ),
    Setting(
        "max_body_depth", int, 64, "deepest nesting of arrays and objects in a body", minimum=1
    ),
    Setting("server_timing", bool, False, "send each request's step timings in Server-Timing"),
    Setting(
        "tracing",
        bool,
        False,
        "trace requests, their steps and SQL statements with OpenTelemetry, sent over "
        "OTLP/HTTP where the OTEL_* variables say (docs/tracing.md)",
    ),
    Setting(
        "datetime_precision",
        str,
        "milliseconds",
        "fractional digits of every date-time answered: seconds, milliseconds or microseconds",
        "datetime-precision",
        choices=("seconds", "milliseconds", "microseconds"),
    ),
    Setting(
        "create_tables", bool, False, "create missing tables on PostgreSQL at start-up", flag=True
    ),
    Setting(
        "pgbouncer",
        bool,
        False,
        "PostgreSQL is reached through PgBouncer in transaction pooling: no prepared "
        "statement is kept, and lock and statement timeouts are left to PgBouncer",
    ),
    Setting(
        "migrations",
        str,
        "",
        "folder of migration files (empty: migrations/ beside the contract)",
        "migrations",
        flag=True,
        metavar="DIR",
    ),
    Setting(
        "base_path",
        str,
        None,
        "path the contract's operations are served under (unset: the path of the contract's "
        "first server URL; empty: none)",
        problem=_base_path_problem,
    ),
    Setting("ops_prefix", str, "", "path prefix of /healthz, /readyz, /openapi.json and /docs"),
    Setting("docs", bool, True, "serve /docs and /openapi.json"),
    Setting(
        "ready_timeout_seconds",
        float,
        2.0,
        "longest /readyz waits for each dependency it checks (database, Redis, brokers) "
        "before it counts that one as failed",
        minimum=0.05,
    ),
    Setting(
        "log_level",
        str,
        "info",
        "log level; info logs one line per request",
        flag=True,
        choices=("critical", "error", "warning", "info", "debug"),
    ),
    Setting(
        "log_format",
        str,
        "auto",
        "json (a JSON object per line), console (for reading), or auto: json in "
        "production, console elsewhere",
        flag=True,
        choices=("auto", "json", "console"),
    ),
    Setting("metrics", bool, True, "serve Prometheus metrics at metrics_path"),
    Setting(
        "metrics_path",
        str,
        "/metrics",
        "path of the Prometheus metrics",
        problem=_base_path_problem,
    ),
    Setting(
        "metrics_token",
        str,
        "",
        "bearer token a scrape of the metrics must send (unset: none asked)",
        secret=True,
    ),
    Setting(
        "metrics_role",
        str,
        "",
        "role a scrape's bearer JWT must carry (unset: none asked)",
    ),
    Setting(
        "env",
        str,
        "development",
        "development, or production: refuse open writes, missing keys and weak secrets",
        flag=True,
        flag_const="production",
        flag_name="--production",
        choices=("development", "production"),
    ),
    Setting(
        "jwt_secret",
        str,
        "",
        "secret of HS256/384/512 bearer tokens (no key set: every token is refused)",
        secret=True,
    ),
    Setting("jwt_public_key", str, "", "PEM file of the public key of RS/ES/EdDSA tokens"),
    Setting("jwt_jwks", str, "", "JWKS file or https URL of token keys, chosen by kid"),
    Setting(
        "jwt_algorithms",
        str,
        "",
        "accepted token algorithms, comma-separated (empty: by key, HS256 or RS256,ES256,EdDSA)",
    ),
    Setting("jwt_issuer", str, "", "the iss tokens must carry (empty: not checked)"),
    Setting("jwt_audience", str, "", "the aud tokens must carry (empty: not checked)"),
    Setting("jwt_leeway", int, 60, "seconds of clock skew allowed on exp and nbf", minimum=0),
    Setting("roles_claim", str, "roles", "token claim listing the caller's roles", "roles-claim"),
    Setting(
        "admin_roles",
        str,
        "admin",
        "roles that see and change every owner's rows, comma-separated",
        "admin-roles",
        contract_types=(str, list),
    ),
    Setting(
        "access_token_seconds", int, 900, "lifetime of access tokens accounts issue", minimum=1
    ),
    Setting(
        "refresh_token_seconds", int, 2_592_000, "lifetime of refresh tokens (30 days)", minimum=1
    ),
    Setting("login_rate_limit", str, "5/minute", "logins per account and per client address"),
    Setting(
        "redis_url",
        str,
        "",
        "Redis that rate limits count in and cache invalidations travel through, shared "
        "by every worker and instance (redis://host:6379/0; unset: each process alone)",
        secret=True,
        problem=_urls_problem(("redis", "rediss")),
    ),
    Setting(
        "rate_limit_failure",
        str,
        "open",
        "when Redis cannot be reached: open (serve, and log a warning) or closed (answer 503)",
        "rate-limit-failure",
        choices=("open", "closed"),
    ),
    Setting(
        "cache_entries",
        int,
        10000,
        "answers of cached reads each process keeps at most; the oldest go first",
        minimum=1,
    ),
    Setting(
        "idempotency_hours",
        int,
        24,
        "hours an Idempotency-Key's answer is kept and replayed",
        minimum=1,
    ),
    Setting(
        "idempotency_lease_seconds",
        int,
        60,
        "seconds a request holds its Idempotency-Key before a retry may take it over (SQLite)",
        minimum=1,
    ),
    Setting(
        "pool_size",
        int,
        10,
        "most database connections each worker holds for requests (SQLite: half)",
        flag=True,
        metavar="N",
        minimum=1,
        maximum=1000,
    ),
    Setting(
        "pool_timeout_ms",
        int,
        5000,
        "longest wait for a free database connection before a 503 (0: no limit)",
        minimum=0,
    ),
    Setting(
        "lock_timeout_ms",
        int,
        2000,
        "longest wait for a row or table lock another transaction holds, on PostgreSQL, "
        "before a 503 (0: no limit)",
        minimum=0,
    ),
    Setting(
        "statement_timeout_ms",
        int,
        30000,
        "longest a statement may run on PostgreSQL before it is stopped and answered 503 "
        "(0: no limit)",
        minimum=0,
    ),
    Setting(
        "read_timeout_seconds",
        int,
        10,
        "longest a client may take to send a request's head, and between two parts of its "
        "body (408 or closed)",
        minimum=1,
    ),
    Setting(
        "max_connections",
        int,
        1000,
        "open connections and requests a worker takes at once; past them it answers 503",
        minimum=1,
    ),
    Setting(
        "shutdown_seconds",
        int,
        30,
        "on SIGTERM, how long requests in flight may take to finish before they are cut",
        minimum=0,
    ),
    Setting(
        "trusted_proxies",
        str,
        "",
        "addresses or networks of proxies whose X-Forwarded-For and X-Forwarded-Proto are "
        "believed, comma-separated (unset: none; * for any)",
        flag=True,
        metavar="ADDRESSES",
    ),
    Setting(
        "hsts", int, 0, "Strict-Transport-Security max-age in seconds (0: not sent)", minimum=0
    ),
    Setting(
        "cors_origins",
        str,
        "",
        "origins allowed to call from a browser, comma-separated",
        "cors-origins",
        contract_types=(str, list),
    ),
    Setting("cors_credentials", bool, False, "let those origins send cookies and Authorization"),
    Setting(
        "hooks",
        str,
        "",
        "Python module whose functions serve operations named by their operationId",
        "hooks",
        problem=_module_problem,
    ),
    Setting(
        "webhooks",
        str,
        "",
        "URLs that receive the contract's events as Standard Webhooks, comma-separated",
        "webhooks",
        contract_types=(str, list),
        problem=_urls_problem(("http", "https")),
    ),
    Setting(
        "webhook_secret",
        str,
        "",
        "whsec_... secret webhooks are signed with (unset: a development secret, refused "
        "in production)",
        secret=True,
        problem=_webhook_secret_problem,
    ),
    Setting(
        "events_url",
        str,
        "",
        "brokers that receive the events, comma-separated: amqp://... (RabbitMQ) or "
        "nats://... (NATS JetStream)",
        problem=_urls_problem(("amqp", "amqps", "nats", "tls")),
    ),
    Setting("relay", bool, True, "deliver events from within `serve` (off: run `backsmith relay`)"),
    Setting(
        "event_attempts", int, 8, "delivery attempts before an event is dead-lettered", minimum=1
    ),
    Setting(
        "event_retention_days",
        int,
        7,
        "days delivered events stay in the event log (0: for ever); dead ones stay until retried",
        minimum=0,
    ),
    Setting(
        "event_backoff_ms",
        int,
        1000,
        "wait before the first retry, in milliseconds; doubled at each attempt, with jitter",
        minimum=1,
    ),
    Setting(
        "lint_ignore",
        str,
        "",
        "lint rules `check` turns off for the whole contract, comma-separated ids",
        "lint-ignore",
        contract_types=(str, list),
    ),
    Setting(
        "contract",
        str,
        "",
        "the contract `migrate` and the server's workers read when none is named",
        attribute=False,
    ),
    Setting("dbml", str, "", "the DBML model the server's workers read", attribute=False),
    Setting(
        "cache_dir",
        str,
        "~/.cache/backsmith",
        "store of contracts validated and DBML parsed before ($XDG_CACHE_HOME/backsmith "
        "when that is set; empty: off)",
        attribute=False,
    ),
)
