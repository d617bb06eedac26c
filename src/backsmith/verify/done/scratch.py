"""Scratch databases for a build: SQLite files in the build's folder, made anew, or
databases on the PostgreSQL server `--database-url` names, dropped when the build ends."""

from __future__ import annotations

import secrets
from pathlib import Path
from types import TracebackType

from backsmith.bench.target import postgres_statement
from backsmith.errors import InputError


class Scratch:
    def __init__(self, out: Path, server_url: str | None) -> None:
        self.folder = out / "scratch"
        self.server_url = server_url
        self.made: list[str] = []
        self.admin = ""

    def __enter__(self) -> Scratch:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        for name in self.made:
            postgres_statement(self.admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def database(self, purpose: str) -> str:
        """The URL of a new, empty database for `purpose`."""
        if self.server_url is None:
            self.folder.mkdir(parents=True, exist_ok=True)
            path = self.folder / f"{purpose}.db"
            for leftover in self.folder.glob(f"{purpose}.db*"):  # -wal, -shm too
                leftover.unlink()
            return f"sqlite:///{path.resolve()}"
        from sqlalchemy.engine import make_url

        try:
            server = make_url(self.server_url).set(drivername="postgresql")
        except Exception as error:
            raise InputError(f"--database-url {self.server_url}: not a URL: {error}") from None
        self.admin = server.render_as_string(hide_password=False)
        name = f"backsmith_build_{purpose}_{secrets.token_hex(4)}"
        postgres_statement(self.admin, f'CREATE DATABASE "{name}"')
        self.made.append(name)
        return server.set(database=name).render_as_string(hide_password=False)
