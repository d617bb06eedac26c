"""The public entry points: one function per command, shared by the command line and tests.

Each function raises the error tree of `backsmith.errors` (ContractError, InputError and
SettingError: the input is unusable; BacksmithError: the database or the server refused);
the command line turns those into exit codes. Heavy modules are imported inside each
function, so that `backsmith --help` and a start of one command stay quick.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import socket
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from backsmith import __version__
from backsmith.contract.cache import fill_apart
from backsmith.contract.load import load_contract
from backsmith.contract.validate import validate_openapi
from backsmith.errors import BacksmithError, ContractError, Issue

# The checklist around the code (diff, test, docs, init, build) lives beside this module.
from backsmith.handover import breaking_since as breaking_since
from backsmith.handover import build as build
from backsmith.handover import diff as diff
from backsmith.handover import docs as docs
from backsmith.handover import init as init
from backsmith.handover import test as test
from backsmith.model.build import build_model
from backsmith.model.types import Kind, Model
from backsmith.settings import Resolved, SettingError, Settings, database_scheme, load_settings
from backsmith.settings import resolve as resolve_settings
from backsmith.settings import setting as declared
from backsmith.verify.reports import CheckReport, ModelDescription

if TYPE_CHECKING:
    from backsmith.bench.options import BenchOptions
    from backsmith.bench.results import BenchReport
    from backsmith.contract.draft.write import Written
    from backsmith.storage.api_keys import StoredKey
    from backsmith.storage.migrations.folder import MigrationsFolder

Contract = str | Path


class StartFailed(BacksmithError):
    """The server could not start: its address is taken or cannot be used (exit code 1)."""


def load_model(path: Contract, dbml: Contract | None = None) -> Model:
    """Read, validate and map a contract; raises ContractError with every issue found."""
    contract = load_contract(path, dbml)
    validate_openapi(contract)
    return build_model(contract)


def _loaded(
    contract: Contract, dbml: Contract | None, flags: Mapping[str, Any]
) -> tuple[Model, Settings]:
    """The contract's model, and the settings from its root options and the flags given."""
    loaded = load_model(contract, dbml)
    return loaded, load_settings(loaded.options, **flags)


# ------------------------------------------------------------------------ check, model


def check(
    contract: Contract,
    dbml: Contract | None = None,
    environ: Mapping[str, str] | None = None,
    **flags: Any,
) -> CheckReport:
    """Read, validate and map a contract, sort its operations into CRUD and the rest, and
    find what a start with these settings (the environment's, and `flags`) would say."""
    from backsmith.http.kind_plans import compile_plans
    from backsmith.logic.loading import with_handlers
    from backsmith.security.exposure import startup_findings
    from backsmith.storage.tables import build_metadata
    from backsmith.verify.lint.run import lint

    model = load_model(contract, dbml)
    settings = load_settings(model.options, environ, **flags)
    tables = {table.name: table for table in build_metadata(model).tables.values()}
    findings = startup_findings(model, compile_plans(model, settings, tables), settings)
    model = with_handlers(model, settings)  # compiling the plans imported them already
    handled = [op for op in model.operations if op.policies.serves]
    rest = [op for op in model.operations if not op.policies.serves]
    custom = [op for op in rest if op.kind == Kind.CUSTOM]
    crud = [op for op in rest if op.kind != Kind.CUSTOM]
    reviewed = lint(model, settings)
    return CheckReport(model, crud, custom, findings, settings.production, handled, reviewed)


def model(contract: Contract, dbml: Contract | None = None) -> ModelDescription:
    """Describe the model of a contract: each operation's kind, resource and table."""
    from backsmith.logic.loading import with_handlers
    from backsmith.verify.describe import describe, render_table

    loaded, settings = _loaded(contract, dbml, {})
    loaded = with_handlers(loaded, settings)  # those found in a hooks module too
    return ModelDescription(render_table(loaded), describe(loaded))


def convert(contract: Contract) -> dict[str, Any]:
    """The OpenAPI 3.0 document a Swagger 2.0 contract is read as, checked, its other files'
    `$ref`s bundled in; ContractError for a broken contract or one that is OpenAPI 3 already."""
    from backsmith.contract.conversion import converted_document

    return converted_document(contract)


def draft(spec: Contract, output: Contract, dbml: Contract | None = None) -> Written:
    """Draft a prose Markdown spec into an OpenAPI contract, a DBML model and a report."""
    from backsmith.contract.draft.write import write_draft

    return write_draft(Path(spec), Path(output), Path(dbml) if dbml else None, load_model)


# ------------------------------------------------------------------------------ config


def config(
    contract: Contract | None = None,
    dbml: Contract | None = None,
    environ: Mapping[str, str] | None = None,
    **flags: Any,
) -> list[Resolved]:
    """Every setting's effective value and where it came from (default, contract, ...)."""
    loaded = load_model(contract, dbml) if contract else None
    resolved = resolve_settings(loaded.options if loaded else {}, environ, flags)
    base_path = resolved["base_path"]
    if loaded is not None and base_path.value is None:  # the contract's servers decide
        resolved["base_path"] = Resolved(base_path.setting, loaded.base_path.path, "contract")
    return list(resolved.values())


# ------------------------------------------------------------------------------- serve


def serve(
    contract: Contract,
    dbml: Contract | None = None,
    *,
    announce: Callable[[str], None] | None = None,
    **flags: Any,
) -> None:
    """Check everything a start needs, then serve the contract until stopped."""
    import uvicorn

    from backsmith.logs import configure_logging, log_config, resolve_format
    from backsmith.observe.metrics import share_between_workers

    # A first start checks the contract in a child process: the server keeps none of it.
    fill_apart()
    loaded, settings = _loaded(contract, dbml, flags)  # fail fast, with exit code 2
    if settings.workers > 1 and settings.metrics:
        share_between_workers()  # before the metrics are first made, in this process too
    from backsmith.http.app import create_app

    if database_scheme(settings.database_url) in ("mysql", "mariadb"):
        raise SettingError(
            "database_url: serve takes sqlite:// or postgresql://; "
            "MariaDB (mysql://) is for migrate and seed only"
        )
    log_format = resolve_format(settings.log_format, settings.production)
    configure_logging(settings.log_level, log_format)  # the preflight's work is logged too
    # Said first, before the warnings and the preflight's log, so it is never scrolled away;
    # a line of the log where the log is JSON, so that every line of it parses.
    to_log = functools.partial(logging.getLogger("backsmith").info, "%s")
    say = announce or (to_log if log_format == "json" else _to_stderr)
    say(serving_line(contract, settings, loaded))
    _check_counters(loaded, settings)
    app = create_app(loaded, settings)  # compiles every plan: refuses an unsafe production start
    revision = asyncio.run(_preflight(loaded, settings))
    _check_address(settings.host, settings.port)
    env: dict[str, str] = {declared("contract").env: os.path.abspath(contract)}
    env[declared("dbml").env] = os.path.abspath(dbml) if dbml else ""
    env.update(settings.environment())  # the workers read their settings from here
    os.environ.update(env)
    if settings.workers == 1:  # one process: serve the model already loaded, not a second copy
        target: Any = app
        target.tables_ready = True  # the preflight above prepared them
        target.schema_revision = revision
    else:
        target = "backsmith.http.factory:from_environment"
    uvicorn.run(
        target,
        factory=settings.workers != 1,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        log_level=settings.log_level.lower(),
        log_config=log_config(settings.log_level, log_format),  # in every worker too
        access_log=False,  # the request layer logs each request, by its route
        server_header=False,  # the server's name and version are not told (OWASP API8)
        # X-Forwarded-For and -Proto are believed only from the proxies named
        limit_concurrency=settings.max_connections,  # past it: 503, not a server that drowns
        timeout_graceful_shutdown=settings.shutdown_seconds,
        proxy_headers=bool(settings.trusted_proxies.strip()),
        forwarded_allow_ips=settings.trusted_proxies.strip() or None,
        http="backsmith.http.server:ProblemHTTPProtocol",  # unparsable requests: problem+json
    )


def _check_counters(model: Model, settings: Settings) -> None:
    """Several workers counting rate limits each in their own memory would each allow the
    whole limit, and would each keep cached answers a write elsewhere outdated: refused in
    production, said in development."""
    limited = model.counts_callers
    cached = any(op.policies.cache_seconds for op in model.operations)
    if settings.workers == 1 or settings.redis_url or not (limited or cached):
        return
    workers = settings.workers
    if limited:
        message = (
            f"redis_url: with {workers} workers and no Redis, each worker counts rate and "
            f"login limits alone, allowing {workers} times each limit; set BACKSMITH_REDIS_URL"
        )
    else:
        message = (
            f"redis_url: with {workers} workers and no Redis, a write drops the cached "
            "answers of its own worker only: the others serve theirs until they expire; "
            "set BACKSMITH_REDIS_URL"
        )
    if settings.production:
        raise SettingError(message)
    logging.getLogger("backsmith").warning("%s", message)


def serving_line(contract: Contract, settings: Settings, loaded: Model | None = None) -> str:
    """The first line of a start: what is served, where (with its base path), and where
    its docs are."""
    from backsmith.model.servers import base_path_for, link_path

    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    base = f"http://{host}:{settings.port}"
    root = loaded.base_path.path if loaded is not None else ""
    api = base + link_path(base_path_for(root, settings.base_path), "")
    docs = f"docs at {base}{settings.ops_prefix}/docs" if settings.docs else "docs off"
    workers = f" with {settings.workers} workers" if settings.workers != 1 else ""
    return f"backsmith {__version__} serving {contract} on {api}{workers} — {docs}"


def _to_stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def bench(options: BenchOptions, progress: Any = None) -> BenchReport:
    """Measure each operation against its latency budget (docs/bench.md)."""
    from backsmith.bench.run import run_bench

    return run_bench(options, progress=progress)


def _check_address(host: str, port: int) -> None:
    """Refuse a start on an address taken or unusable, before the server tries it."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        # create_server sets SO_REUSEADDR, as the server does: only a live listener is a clash.
        socket.create_server((host, port), family=family).close()
    except OSError as error:
        reason = error.strerror or str(error)
        raise StartFailed(
            f"cannot listen on {host}:{port}: {reason.lower()} "
            f"({declared('port').option} or {declared('port').env} chooses another port)"
        ) from None


async def _preflight(loaded: Model, settings: Settings) -> str | None:
    """Open the database and prepare tables before the server starts, for a clear error."""
    from backsmith.storage.room import pools_too_large
    from backsmith.storage.schema import prepare_database
    from backsmith.storage.tables import build_metadata

    revision = await prepare_database(build_metadata(loaded), settings, model=loaded)
    warning = await pools_too_large(settings)
    if warning:
        logging.getLogger("backsmith").warning("%s", warning)
    return revision


# ------------------------------------------------------------------- migrate, seed, keys


def _project(
    contract: Contract | None, dbml: Contract | None, flags: Mapping[str, Any]
) -> tuple[Model, Settings, MigrationsFolder]:
    from backsmith.storage.migrations import project

    contract = contract or os.environ.get(declared("contract").env)
    if not contract:
        message = f"name the contract (or set {declared('contract').env})"
        raise ContractError([Issue(message, file="<command line>")])
    loaded, settings = _loaded(contract, dbml, flags)
    return loaded, settings, project.migrations_folder(loaded, settings)


def migrate(
    action: str,
    contract: Contract | None = None,
    dbml: Contract | None = None,
    *,
    message: str = "",
    allow_destructive: bool = False,
    to: str | None = None,
    **flags: Any,
) -> Any:
    """Run one migrate action: plan, up, down, status, check or adopt; returns its outcome.

    plan gives a `Planned`, up and down an `Outcome`, adopt the revision recorded, status and
    check a `Status` (check's caller decides what a difference means).
    """
    from backsmith.storage.migrations import project

    loaded, settings, folder = _project(contract, dbml, flags)
    url = settings.database_url
    if action == "plan":
        return project.plan_next(loaded, folder, message, allow_destructive)
    if action == "up":
        return asyncio.run(project.upgrade(url, folder, to or "head"))
    if action == "down":
        return asyncio.run(project.downgrade(url, folder, to or "-1"))
    if action == "adopt":
        return asyncio.run(project.adopt(url, folder, loaded))
    if action in ("status", "check"):
        return asyncio.run(project.status(url, folder, loaded))
    raise ValueError(f"no migrate action {action!r}")


def migrations_folder(contract: Contract | None, dbml: Contract | None, **flags: Any) -> Path:
    """Where a contract's migration files live, with these settings."""
    return _project(contract, dbml, flags)[2].path


def seed(
    contract: Contract,
    dbml: Contract | None = None,
    *,
    fixtures: str | None = None,
    fake: int = 0,
    **flags: Any,
) -> list[str]:
    """Load fixtures and/or `fake` generated rows per resource; returns what was done."""
    from backsmith.storage.seed import seed_database

    loaded, settings = _loaded(contract, dbml, flags)
    return asyncio.run(seed_database(loaded, settings.database_url, fixtures=fixtures, fake=fake))


def keys(
    action: str,
    contract: Contract,
    dbml: Contract | None = None,
    *,
    subject: str = "",
    roles: tuple[str, ...] = (),
    name: str | None = None,
    key_id: str = "",
    **flags: Any,
) -> str | list[StoredKey] | bool:
    """create (the new key, shown once), list (the stored keys) or revoke (whether one was)."""
    from backsmith.storage import api_keys
    from backsmith.storage.migrations.runner import on_connection

    _, settings = _loaded(contract, dbml, flags)  # a contract that loads, its settings

    def work(conn: Any) -> str | list[StoredKey] | bool:
        result: str | list[StoredKey] | bool
        if action == "create":
            result = api_keys.create_key(conn, subject, roles, name)
        elif action == "list":
            result = list(api_keys.list_keys(conn))
        else:
            result = api_keys.revoke_key(conn, key_id)
        conn.commit()
        return result

    return asyncio.run(on_connection(settings.database_url, work))


# -------------------------------------------------------------- relay, events, audit


def relay(
    contract: Contract,
    dbml: Contract | None = None,
    *,
    until: Callable[[], bool] | None = None,
    **flags: Any,
) -> None:
    """Deliver events and run scheduled jobs, without serving requests, until stopped."""
    from backsmith.events.background import run_alone
    from backsmith.logs import log_to_stderr

    loaded, settings = _loaded(contract, dbml, flags)
    log_to_stderr(settings.log_level)
    asyncio.run(run_alone(loaded, settings, until))


def events(
    action: str, contract: Contract, dbml: Contract | None = None, **options: Any
) -> list[dict[str, Any]] | int:
    """list (the latest outbox rows), retry (dead ones again) or replay (events again)."""
    from backsmith.events import ledger
    from backsmith.storage.migrations.runner import on_connection

    flags = {k: options.pop(k) for k in ("database_url",) if k in options}
    _, settings = _loaded(contract, dbml, flags)
    actions: dict[str, Callable[..., Any]] = {
        "list": ledger.list_events,
        "retry": ledger.retry,
        "replay": ledger.replay,
    }
    work = actions[action]
    result: list[dict[str, Any]] | int = asyncio.run(
        on_connection(settings.database_url, lambda c: work(c, **options))
    )
    return result


def audit(
    contract: Contract,
    resource: str,
    key: str | None = None,
    dbml: Contract | None = None,
    **flags: Any,
) -> list[dict[str, Any]]:
    """The recorded changes of a resource's rows (of one row when `key` is given)."""
    from backsmith.events.ledger import audit_trail
    from backsmith.storage.migrations.runner import on_connection

    loaded, settings = _loaded(contract, dbml, flags)
    found = loaded.resources.get(resource) or loaded.resource_for_table(resource)
    if found is None:
        named = next((r for r in loaded.resources.values() if r.schema == resource), None)
        if named is None:
            known = ", ".join(sorted(r.table for r in loaded.resources.values()))
            raise SettingError(f"RESOURCE: the contract has no resource '{resource}' ({known})")
        found = named
    table = found.table
    return asyncio.run(on_connection(settings.database_url, lambda c: audit_trail(c, table, key)))
