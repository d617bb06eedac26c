"""The service measured: one this run starts on a scratch database and seeds, or one at a URL.

A started service is `python -m backsmith serve` in a process of its own (pinned to the
last core when there are several, the generator taking the first), on a new SQLite file in
the run's folder or a `backsmith_bench_<random>` database on the PostgreSQL server given,
dropped at the end. Its JWT secret is random, so only this run's tokens pass. Its log is
JSON lines in a file, searched for unhandled exceptions once it has stopped.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from backsmith.bench.callers import Minting
from backsmith.bench.options import BenchOptions
from backsmith.bench.pool import RowPool
from backsmith.errors import BacksmithError, InputError
from backsmith.model.types import Model

START_SECONDS = 60.0  # a large contract on a cold PostgreSQL takes a while
STOP_SECONDS = 20.0


@dataclass
class Target:
    """Where requests go, how tokens are minted for it, and how to put everything away."""

    host: str
    port: int
    prefix: str  # a path the service is mounted under (from --url); "" when started here
    minting: Minting
    database_url: str | None = None  # the scratch database, when this run made it
    scratch_name: str = ""  # a scratch PostgreSQL database's name, for the record
    ops_prefix: str = ""  # where the service keeps /healthz (BACKSMITH_OPS_PREFIX)
    log_path: Path | None = None  # the started service's log
    process: subprocess.Popen[bytes] | None = None
    cleanups: list[Callable[[], None]] = field(default_factory=list)

    @property
    def base(self) -> str:
        return f"http://{self.host}:{self.port}{self.prefix}"

    @property
    def health(self) -> str:
        """The path of the service's /healthz."""
        return f"{self.prefix}{self.ops_prefix}/healthz"

    def stop(self) -> None:
        """Stop the service (SIGTERM, then SIGKILL) and drop what was made for it."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_SECONDS)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=STOP_SECONDS)
        for cleanup in reversed(self.cleanups):
            cleanup()
        self.cleanups.clear()


def start_service(model: Model, options: BenchOptions, scratch: Path, log_path: Path) -> Target:
    """Start the contract's service on a scratch database (a file in `scratch`, or on the
    PostgreSQL server given), logging to `log_path`; stop() ends it and drops the database."""
    from backsmith.settings import load_settings

    secret = secrets.token_urlsafe(32)
    target = Target("127.0.0.1", free_port(), "", Minting(None))
    try:
        url, flags = _scratch_database(model, options, scratch, target)
        env = {**os.environ, "BACKSMITH_DATABASE_URL": url, "BACKSMITH_JWT_SECRET": secret}
        env["BACKSMITH_LOG_FORMAT"] = "json"
        settings = load_settings(model.options, env)
        target.minting = _minting(settings, secret)
        target.ops_prefix = settings.ops_prefix
        target.database_url = url
        target.log_path = log_path
        command = [sys.executable, "-m", "backsmith", "serve", options.contract]
        command += ["--port", str(target.port), "--host", target.host, *flags]
        command += ["--dbml", options.dbml] if options.dbml else []
        with target.log_path.open("wb") as log:
            target.process = subprocess.Popen(
                command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        pin(target.process.pid, server=True)
        _wait_healthy(target)
    except BaseException:
        target.stop()
        raise
    return target


def seed(options: BenchOptions, target: Target, model: Model) -> RowPool:
    """`backsmith seed --fake N` on the scratch database, then the rows to address."""
    from backsmith import api
    from backsmith.bench.pool import from_database

    assert target.database_url is not None
    api.seed(options.contract, options.dbml, fake=options.rows, database_url=target.database_url)
    return from_database(model, target.database_url)


def remote_service(model: Model, options: BenchOptions, healthz: bool = True) -> Target:
    """A running service at --url; tokens only when --jwt-secret is given. With `healthz`,
    its /healthz must answer first (a hand-written backend may have none)."""
    from backsmith.settings import load_settings

    assert options.url is not None
    parts = urlsplit(options.url)
    if not parts.hostname:
        raise InputError(f"--url {options.url}: names no host")
    port = parts.port or 80
    settings = load_settings(model.options)
    minting = _minting(settings, options.jwt_secret)
    target = Target(parts.hostname, port, parts.path.rstrip("/"), minting)
    target.ops_prefix = settings.ops_prefix
    if healthz:
        _wait_healthy(target, seconds=5)
    return target


def read_pool(model: Model, target: Target) -> RowPool:
    """The rows a running service lists, read through its list operations."""
    import httpx

    from backsmith.bench.callers import caller_for
    from backsmith.bench.pool import from_lists

    def fetch(op: Any, path: str) -> Any:
        caller = caller_for(model, op, target.minting, RowPool())
        headers = dict([caller.header]) if caller.header else {}
        answer = httpx.get(target.base + path, headers=headers, timeout=10)
        answer.raise_for_status()
        return answer.json()

    return from_lists(model, fetch)


def _minting(settings: Any, secret: str | None) -> Minting:
    return Minting(
        secret,
        settings.roles_claim,
        tuple(sorted({"admin", *settings.admin_role_names})),
        settings.jwt_issuer,
        settings.jwt_audience,
    )


def _scratch_database(
    model: Model, options: BenchOptions, folder: Path, target: Target
) -> tuple[str, list[str]]:
    """The scratch database's URL and the serve flags it needs (tables made on PostgreSQL)."""
    if options.database_url is None:
        return f"sqlite:///{(folder / 'bench.db').resolve()}", []
    from backsmith import api
    from backsmith.settings import load_settings
    from backsmith.storage.migrations.folder import migrations_folder

    url = _create_postgres(options.database_url, target)
    settings = load_settings(model.options, database_url=url)
    if migrations_folder(model, settings).exists:  # serve refuses pending migrations there
        api.migrate("up", options.contract, options.dbml, database_url=url)
        return url, []
    return url, ["--create-tables"]


def _create_postgres(server_url: str, target: Target) -> str:
    """A new database on the server of `server_url`; dropped by target.stop()."""
    url, target.scratch_name, drop = scratch_postgres(server_url, "backsmith_bench")
    target.cleanups.append(drop)
    return url


def scratch_postgres(server_url: str, prefix: str) -> tuple[str, str, Callable[[], None]]:
    """A new database on the server of `server_url`, named `prefix` and a random suffix:
    its URL, its name, and what drops it."""
    from sqlalchemy.engine import make_url

    try:
        admin = make_url(server_url).set(drivername="postgresql")
    except Exception as error:
        raise InputError(f"--database-url {server_url}: not a database URL: {error}") from None
    name = f"{prefix}_{secrets.token_hex(4)}"
    admin_dsn = admin.render_as_string(hide_password=False)
    postgres_statement(admin_dsn, f'CREATE DATABASE "{name}"')
    drop = f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'
    url = admin.set(database=name).render_as_string(hide_password=False)
    return url, name, lambda: postgres_statement(admin_dsn, drop)


def postgres_statement(dsn: str, statement: str) -> None:
    """Run one statement (CREATE or DROP DATABASE) on the server `dsn` names."""
    import asyncpg

    async def run() -> None:
        connection = await asyncpg.connect(dsn, timeout=10)
        try:
            await connection.execute(statement)
        finally:
            await connection.close()

    try:
        asyncio.run(run())
    except (OSError, asyncpg.PostgresError) as error:
        verb = statement.split(" ")[0].lower()
        raise BacksmithError(f"--database-url: {verb} database failed: {error}") from None


def _wait_healthy(target: Target, seconds: float = START_SECONDS) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if target.process is not None and target.process.poll() is not None:
            raise BacksmithError(f"the service did not start: {_last_line(target.log_path)}")
        if _healthy(target):
            return
        time.sleep(0.1)
    where = f"http://{target.host}:{target.port}{target.health}"
    raise BacksmithError(f"no answer from {where} within {seconds:g} s")


def _healthy(target: Target) -> bool:
    request = f"GET {target.health} HTTP/1.1\r\nHost: {target.host}\r\nConnection: close\r\n\r\n"
    try:
        with socket.create_connection((target.host, target.port), timeout=2) as sock:
            sock.sendall(request.encode())
            return sock.recv(64).startswith(b"HTTP/1.1 2")
    except OSError:
        return False


def _last_line(path: Path | None) -> str:
    if path is None or not path.exists():
        return "no log"
    lines = [line for line in path.read_text(errors="replace").splitlines() if line.strip()]
    if not lines:
        return "no log"
    try:
        return str(json.loads(lines[-1]).get("message", lines[-1]))
    except (ValueError, AttributeError):
        return lines[-1]


def unhandled_exceptions(path: Path) -> tuple[int, str]:
    """How many unhandled exceptions a JSON log holds, and the first one's last line."""
    count, first = 0, ""
    lines = path.read_text(errors="replace").splitlines() if path.exists() else []
    for number, line in enumerate(lines):
        entry = None
        if '"exception"' in line:  # one line per request: parse only those that may tell
            try:
                entry = json.loads(line)
            except ValueError:
                entry = None
        if isinstance(entry, dict) and entry.get("exception"):
            said = str(entry["exception"]).strip().splitlines()[-1:]
        elif "Traceback (most recent call last)" in line:
            # A traceback printed as text: its exception is the first line not indented.
            rest = (text for text in lines[number + 1 :] if text and not text[0].isspace())
            said = [next(rest, line).strip()]
        else:
            continue
        count += 1
        first = first or (said[0] if said else "an exception")
    return count, first


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def pin(pid: int, server: bool) -> None:
    """The service on the last core, the generator on the first: neither slows the other."""
    cores = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    if len(cores) < 2:
        return
    with contextlib.suppress(OSError):  # a container may forbid it: the run goes unpinned
        os.sched_setaffinity(pid, {cores[-1]} if server else set(cores[:-1]))
