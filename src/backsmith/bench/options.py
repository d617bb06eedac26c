"""The settings of one bench run, checked before anything starts: a bad one is one line, exit 2."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from backsmith.errors import InputError

# The kinds a --mix names, each covering the model's kinds of the same nature.
MIX_KINDS = ("read", "list", "create", "update", "delete", "custom")
GENERATORS = ("auto", "builtin", "wrk")


@dataclass(frozen=True, slots=True)
class BenchOptions:
    """Everything a run is told. Durations are seconds; `rate` is requests per second.

    Example:
        BenchOptions("api.yaml", duration=1, warmup=0.2, rows=50, out=Path("results"))
    """

    contract: str
    dbml: str | None = None
    url: str | None = None  # a running service; None: start one on a scratch database
    database_url: str | None = None  # postgresql://... : scratch databases made on that server
    jwt_secret: str | None = None  # with --url: mint tokens with it
    rows: int = 200  # generated rows per resource
    ops: tuple[str, ...] = ()  # operationIds to measure; () for all
    mix: tuple[tuple[str, int], ...] = ()  # (kind, weight): one weighted mixed run
    connections: int = 16
    duration: float = 3.0
    warmup: float = 1.0
    rate: float | None = None  # open loop at this rate; None: fixed concurrency
    include_deletes: bool = False
    out: Path | None = None  # None: bench-results/<timestamp>/
    generator: str = "auto"  # auto: wrk when on PATH (fixed concurrency), else built-in

    @property
    def open_loop(self) -> bool:
        return self.rate is not None


def parse_mix(text: str | None) -> tuple[tuple[str, int], ...]:
    """`read=80,list=15,create=5` -> (("read", 80), ...); InputError on anything else."""
    if not text:
        return ()
    found: dict[str, int] = {}
    for part in text.split(","):
        kind, equals, weight = part.strip().partition("=")
        kind = kind.strip()
        if not equals or kind not in MIX_KINDS:
            raise InputError(
                f"--mix {text}: '{part.strip()}' is not KIND=WEIGHT with KIND one of "
                f"{', '.join(MIX_KINDS)} (e.g. read=80,list=15,create=5)"
            )
        if not weight.strip().isdigit():
            raise InputError(
                f"--mix {text}: the weight of {kind} must be a whole number, not '{weight}'"
            )
        if kind in found:
            raise InputError(f"--mix {text}: {kind} is given twice")
        found[kind] = int(weight)
    if not any(found.values()):
        raise InputError(f"--mix {text}: every weight is 0; give at least one above 0")
    return tuple((kind, weight) for kind, weight in found.items() if weight > 0)


def parse_ops(text: str | None) -> tuple[str, ...]:
    """`a,b` -> ("a", "b"); whether they exist is checked against the contract later."""
    if not text:
        return ()
    names = tuple(name.strip() for name in text.split(",") if name.strip())
    if not names:
        raise InputError(f"--ops {text!r}: name at least one operationId")
    return names


def check(options: BenchOptions) -> None:
    """Refuse numbers that cannot make a run, naming the option."""
    if options.connections < 1 or options.connections > 10_000:
        raise InputError(
            f"--connections {options.connections}: must be a whole number from 1 to 10000"
        )
    if not (0 < options.duration <= 3600) or not math.isfinite(options.duration):
        raise InputError(f"--duration {options.duration:g}: must be above 0 s and at most 3600 s")
    if not (0 <= options.warmup <= 600) or not math.isfinite(options.warmup):
        raise InputError(f"--warmup {options.warmup:g}: must be from 0 to 600 s")
    if options.rate is not None and not (0 < options.rate <= 1_000_000):
        raise InputError(f"--rate {options.rate:g}: must be above 0 and at most 1000000 req/s")
    if options.rows < 1 or options.rows > 1_000_000:
        raise InputError(f"--rows {options.rows}: must be a whole number from 1 to 1000000")
    if options.generator not in GENERATORS:
        raise InputError(f"--generator {options.generator}: must be one of {', '.join(GENERATORS)}")
    if options.url is not None and not options.url.startswith(("http://", "https://")):
        raise InputError(f"--url {options.url}: must be an http:// URL of a running service")
    if options.url is not None and options.url.startswith("https://"):
        raise InputError(f"--url {options.url}: the generators speak plain HTTP/1.1 only")
    check_database_url(options.url, options.database_url)
    if options.generator == "wrk" and options.open_loop:
        raise InputError("--generator wrk: wrk runs fixed concurrency only; drop --rate")
    if options.generator == "wrk" and options.duration != int(options.duration):
        raise InputError(
            f"--generator wrk: wrk takes whole seconds, not --duration {options.duration:g}"
        )
    if options.generator == "wrk" and options.mix:
        raise InputError("--generator wrk: a --mix run needs the built-in generator")


def check_database_url(url: str | None, database_url: str | None) -> None:
    """A scratch database's server: PostgreSQL, and only for a service started here."""
    if url is not None and database_url is not None:
        raise InputError("--database-url: only without --url (it names where scratch data goes)")
    if database_url is not None and not database_url.startswith(
        ("postgresql://", "postgresql+asyncpg://", "postgres://")
    ):
        raise InputError(
            f"--database-url {database_url}: must be a postgresql:// server URL "
            "(SQLite scratch files are the default)"
        )
