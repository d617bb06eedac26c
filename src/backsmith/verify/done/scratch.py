"""Scratch databases for a build: SQLite files in the build's folder, made anew, or
databases on the PostgreSQL server `--database-url` names, dropped when the build ends."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from backsmith.bench.target import scratch_postgres


class Scratch:
    def __init__(self, out: Path, server_url: str | None) -> None:
        self.folder = out / "scratch"
        self.server_url = server_url
        self.drops: list[Callable[[], None]] = []

    def __enter__(self) -> Scratch:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        for drop in self.drops:
            drop()

    def database(self, purpose: str) -> str:
        """The URL of a new, empty database for `purpose`."""
        if self.server_url is None:
            self.folder.mkdir(parents=True, exist_ok=True)
            path = self.folder / f"{purpose}.db"
            for leftover in self.folder.glob(f"{purpose}.db*"):  # -wal, -shm too
                leftover.unlink()
            return f"sqlite:///{path.resolve()}"
        url, _, drop = scratch_postgres(self.server_url, f"backsmith_build_{purpose}")
        self.drops.append(drop)
        return url
