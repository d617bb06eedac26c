"""What `backsmith build` is told, checked before anything starts."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from backsmith.errors import InputError


@dataclass(frozen=True, slots=True)
class BuildOptions:
    """Example:
    BuildOptions("docs/api-spec.md", out=Path("build-report"), bench_seconds=0.5)
    """

    contract: str
    dbml: str | None = None
    out: Path = Path("build-report")  # the report, the draft, results, the scratch database
    database_url: str | None = None  # a PostgreSQL server for the scratch databases
    migrations: str | None = None  # the migrations folder (default: beside the contract)
    baseline: str | None = None  # the last released contract (default: the last git tag's)
    bench_seconds: float = 1.0  # per operation
    examples: int = 10  # schemathesis examples per operation and mode

    def check(self) -> None:
        """Refuse options that cannot make a build, naming the option."""
        if self.out.exists() and not self.out.is_dir():
            raise InputError(f"--out {self.out}: is a file, not a folder")
        if not 0 < self.bench_seconds <= 600:
            raise InputError(f"--bench-seconds {self.bench_seconds}: must be more than 0, ≤ 600")
        if not 0 <= self.examples <= 1000:
            raise InputError(f"--examples {self.examples}: must be a whole number from 0 to 1000")
        if self.database_url is not None and not self.database_url.startswith(
            ("postgresql://", "postgres://", "postgresql+asyncpg://")
        ):
            raise InputError(
                f"--database-url {self.database_url}: must be a postgresql:// server URL "
                "(a scratch SQLite file is the default)"
            )
