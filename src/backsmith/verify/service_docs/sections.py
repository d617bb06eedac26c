"""The sections of the service's README, each from the model and the effective settings.

Only what the project really does is said: the commands are backsmith's own, and each
setting is named by the variable the settings declare. The settings are those the
contract sets over the defaults, never this machine's environment, so the same contract
always gives the same page.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from backsmith.model.types import Model, SchemeKind
from backsmith.settings import Settings, setting
from backsmith.settings.markdown import settings_table
from backsmith.storage.migrations.folder import MigrationsFolder
from backsmith.verify.describe import event_lines, needs_handler
from backsmith.verify.service_docs.operations import markdown_table, operations_table


@dataclass(frozen=True, slots=True)
class Page:
    """What every section may need: the model, the settings, and the paths as typed."""

    model: Model
    settings: Settings
    contract: str  # as the reader should type it, with `--dbml FILE` when one was given
    contract_settings: dict[str, Any]  # the settings the contract's root x-backsmith sets
    migrations: MigrationsFolder
    migrations_shown: str

    def run(self, command: str) -> str:
        return f"backsmith {command} {self.contract}"

    def env(self, name: str, value: str = "") -> str:
        """The setting's variable, in backticks; `VARIABLE=value` when given one."""
        return f"`{setting(name).env}={value}`" if value else f"`{setting(name).env}`"

    @property
    def ops_path(self) -> str:
        return self.settings.ops_prefix.rstrip("/")


def counted(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _info(model: Model) -> dict[str, Any]:
    """The `info` the service publishes at /openapi.json: the one place the model keeps the
    contract's summary and description."""
    info = json.loads(model.published_openapi or b"{}").get("info")
    return info if isinstance(info, dict) else {}


def heading(page: Page) -> list[str]:
    model = page.model
    info = _info(model)
    lines = [f"# {model.title} {model.version}".rstrip(), ""]
    for key in ("summary", "description"):
        if isinstance(info.get(key), str) and info[key].strip():
            lines += [info[key].strip(), ""]
    lines += [
        "The README of this service, for whoever runs it next. `"
        + page.run("docs")
        + "` wrote it from the contract and backsmith's settings: write it again after "
        "changing either, rather than editing it.",
        "",
    ]
    return lines


def serves(page: Page) -> list[str]:
    model = page.model
    operations = model.operations
    custom = [op for op in operations if needs_handler(op)]
    served = [op for op in operations if op.policies.serves]
    crud = len(operations) - len(custom) - len(served)
    under = f", served under `{model.base_path.path}`" if model.base_path.path else ""
    lines = [
        "## What it serves",
        "",
        f"`{page.contract}` (OpenAPI {model.openapi_version}): "
        f"{counted(len(operations), 'operation')} over "
        f"{counted(len(model.resources), 'resource')}{under}. {crud} are served by backsmith "
        f"itself (CRUD and accounts), {len(served)} by handlers or transitions, and {len(custom)} "
        "need a handler (they answer 501 until one is written).",
        "",
    ]
    rows = [
        (
            f"`{name}`",
            f"`{resource.table}`",
            ", ".join(resource.primary_key),
            ", ".join(field.name for field in resource.fields if not field.hidden),
        )
        for name, resource in sorted(model.resources.items())
    ]
    lines += markdown_table(("resource", "table", "key", "fields"), rows)
    events = event_lines(model)
    if events:
        lines += ["", *(f"- {line}" for line in events)]
    return [*lines, ""]


def shell(*commands: tuple[str, str]) -> list[str]:
    """A `sh` block of (command, comment) lines, the comments in one column."""
    width = max(len(command) for command, said in commands if said)
    lines = [
        f"{command.ljust(width)}   # {said}" if said else command for command, said in commands
    ]
    return ["```sh", *lines, "```", ""]


def setup(page: Page) -> list[str]:
    settings = page.settings
    address = f"http://{settings.host}:{settings.port}"
    docs = f" (try each operation at {address}{page.ops_path}/docs)" if settings.docs else ""
    on_postgres: tuple[tuple[str, str], ...] = (
        (page.run("migrate up"), "apply the migrations first"),
        (page.run("serve") + " --workers 4", ""),
    )
    if not page.migrations.exists:
        on_postgres = (
            (page.run("serve") + " --workers 4 --create-tables", "tables made at start"),
        )
    lines = [
        "## Set up and run",
        "",
        *shell(
            ("pip install backsmith", "Python 3.11 or later"),
            (page.run("check"), "the contract reads; what serve would warn about"),
            (page.run("serve"), "the backend"),
        ),
        f"It listens on {address}{docs}, on `{settings.database_url}` "
        f"({page.env('database_url')}, `--database-url`). On PostgreSQL:",
        "",
        *shell(
            ("export BACKSMITH_DATABASE_URL=postgresql://user:password@host:5432/dbname", ""),
            *on_postgres,
        ),
    ]
    modules = sorted(
        {op.policies.handler.module for op in page.model.operations if op.policies.handler}
    )
    if modules:
        names = ", ".join(f"`{module}`" for module in modules)
        lines += [
            f"The handlers' modules ({names}) are imported from the contract's folder or the "
            "working folder, at start-up.",
            "",
        ]
    return lines


def operations(page: Page) -> list[str]:
    return [
        "## Operations",
        "",
        "Auth names the security schemes a caller may use (`a + b`: both, `a or b`: either); "
        "owner, the column that makes a row its caller's; budget, the latency `/readyz` and "
        f"`backsmith bench` hold it to. `{page.run('model')}` says more of each.",
        "",
        *operations_table(page.model),
        "",
    ]


def settings_section(page: Page) -> list[str]:
    lines = [
        "## Settings",
        "",
        "Each setting comes from its default, the contract's root `x-backsmith`, the "
        "environment, then the command line, later ones winning. `backsmith config "
        f"{page.contract}` shows each one's value and where it came from.",
        "",
    ]
    if page.contract_settings:
        lines += ["The contract sets:", ""]
        lines += [f"- `{name}`: `{value}`" for name, value in page.contract_settings.items()]
        lines.append("")
    return [*lines, settings_table(), ""]


def migrations(page: Page) -> list[str]:
    folder = page.migrations
    revisions = folder.revisions()
    lines = ["## Migrations and rollback", ""]
    if revisions:
        lines += [
            f"The schema's history is in `{page.migrations_shown}`, {len(revisions)} Alembic "
            "revisions, oldest first:",
            "",
        ]
        rows = [(r.id, (r.message.splitlines() or [""])[0]) for r in revisions]
        lines += [*markdown_table(("revision", "what it does"), rows), ""]
    else:
        lines += [
            f"No migrations yet (`{page.migrations_shown}` holds none): SQLite gets the "
            "contract's tables at start-up, PostgreSQL with `--create-tables`. Plan the first "
            "one to keep the schema's history from now on.",
            "",
        ]
    lines += [
        *shell(
            (page.run("migrate plan") + ' -m "what changed"', "the next file, from the contract"),
            (page.run("migrate up"), "apply pending ones (or --to REV)"),
            (page.run("migrate status"), "applied, pending, and whether the database matches"),
            (page.run("migrate down"), "roll back one (or --to REV; --to base for all)"),
            (page.run("migrate check"), "exit 1 listing each difference from the contract"),
        ),
        "Each revision runs in its own transaction on SQLite and PostgreSQL: one that fails "
        "leaves the database at the revision before it. On PostgreSQL `serve` refuses to "
        "start while a migration is pending; run `migrate` against PostgreSQL itself, not "
        "through PgBouncer.",
        "",
    ]
    return lines


def seed(page: Page) -> list[str]:
    return [
        "## Seed data",
        "",
        *shell(
            (page.run("seed") + " --fixtures seed/", "seed/<resource>.yaml or .json, a list each"),
            (page.run("seed") + " --fake 100", "100 generated rows per resource"),
        ),
        "A record already stored is left alone, so a second run changes nothing; a bad record "
        "stops the load with nothing written.",
        "",
    ]


def observability(page: Page) -> list[str]:
    settings, ops = page.settings, page.ops_path
    metrics = (
        f"`{settings.metrics_path}` serves Prometheus metrics (requests, latency histograms, "
        f"pool, limits, cache, outbox); {page.env('metrics_token')} or "
        f"{page.env('metrics_role')} guard it."
        if settings.metrics
        else f"Metrics are off ({page.env('metrics')})."
    )
    lines = [
        "## Health, metrics, logs and traces",
        "",
        f"- `{ops}/healthz`: the process is alive (restart it when this stops answering).",
        f"- `{ops}/readyz`: the database, Redis and brokers, each checked within "
        f"{settings.ready_timeout_seconds:g} s ({page.env('ready_timeout_seconds')}); 503 "
        "takes the instance out of a balancer's rotation.",
        f"- {metrics}",
        f"- Logs: one line per request on standard error, with its request id, operation and "
        f"route, never a secret; {page.env('log_format')} (JSON in production) and "
        f"{page.env('log_level')}.",
        f"- Traces: {page.env('tracing', 'true')} sends OpenTelemetry spans of each request, "
        "its steps and its statements to `OTEL_EXPORTER_OTLP_ENDPOINT`.",
    ]
    budgets = [op for op in page.model.operations if op.policies.slo is not None]
    if budgets:
        named = ", ".join(
            f"{op.operation_id} ({op.policies.slo.describe()})"
            for op in budgets
            if op.policies.slo is not None
        )
        lines.append(f"- Budgets: `/readyz` warns when one of these runs over its own: {named}.")
    return [*lines, ""]


def deployment(page: Page) -> list[str]:
    model = page.model
    ops = model.operations
    counted = [op.operation_id for op in ops if op.policies.rate_limit or op.policies.cache_seconds]
    shared = counted or model.accounts is not None
    redis = (
        "needed as soon as there is more than one process: the contract declares rate limits, "
        "caching or accounts, which are counted and dropped there for every worker and "
        "instance (without it, `--workers 2` is refused in production)"
        if shared
        else "not needed by this contract (it declares no rate limit, cache or account)"
    )
    lines = [
        "## Deployment",
        "",
        f"- **Workers.** `--workers N` ({page.env('workers')}) processes per instance; SIGTERM "
        f"lets requests in flight finish within {page.env('shutdown_seconds')}.",
        "- **PostgreSQL** is the database for concurrent writers (SQLite has one writer): "
        f"{page.env('database_url', 'postgresql://...')}, migrations applied first.",
        f"- **Redis** ({page.env('redis_url')}): {redis}.",
        "- **Several instances** run behind any load balancer on one PostgreSQL and one Redis; "
        f"set {page.env('trusted_proxies')} to the balancer's address. Many instances: "
        f"PgBouncer in transaction pooling, with {page.env('pgbouncer', 'true')}.",
    ]
    if model.events.publishes or model.events.schedules:
        lines.append(
            "- **Events** go through the outbox to "
            f"{page.env('webhooks')} (signed with {page.env('webhook_secret')}) and brokers "
            f"{page.env('events_url')} (`amqp://`, `nats://`), relayed inside `serve` or by "
            f"`{page.run('relay')}` with {page.env('relay', 'false')}; scheduled jobs run once "
            "per tick across instances."
        )
    lines.append(
        f"- **Production.** {page.env('env', 'production')} (`--production`) refuses open writes, "
        f"missing keys and weak secrets; `{page.run('check')} --production` lists what it "
        "would refuse." + _secrets(page)
    )
    return [*lines, ""]


def _secrets(page: Page) -> str:
    model = page.model
    kinds = {scheme.kind for scheme in model.schemes.values()}
    needed = []
    if kinds & {SchemeKind.BEARER_JWT, SchemeKind.PREFIXED_JWT} or model.accounts is not None:
        needed.append(
            f"{page.env('jwt_secret')} (or {page.env('jwt_public_key')}, "
            f"{page.env('jwt_jwks')}) for its tokens"
        )
    if model.events.publishes:
        needed.append(f"{page.env('webhook_secret')} for its webhooks")
    return " It needs " + " and ".join(needed) + "." if needed else ""
