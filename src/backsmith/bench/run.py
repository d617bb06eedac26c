"""A whole bench run: target, rows, requests, the generator's ceiling, each operation, report.

Example:
    report = run_bench(BenchOptions("api.yaml", duration=1, warmup=0.2, rows=50))
    report.exit_code  # 1: a budget missed, or an unhandled exception in the service's log
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from backsmith.bench.driver import Generators, Load, ProgressLine, RunResult
from backsmith.bench.options import BenchOptions, check
from backsmith.bench.requests import GROUPS, Choice, Plan, Planned, plan_requests
from backsmith.bench.results import (
    MISSED,
    BenchReport,
    Ceiling,
    OperationResult,
    ceiling_of,
    summarize,
)
from backsmith.bench.worker import write_requests
from backsmith.errors import InputError
from backsmith.model.types import Model

CEILING_SECONDS = 1.0  # long enough for a steady figure, short beside the operations' runs
NEAR_CEILING = 0.8  # a throughput this close to the ceiling may be the generator's limit
CREATES_PER_SECOND = 2000  # a guess at creates per second, until a warm-up has measured them
MIN_CREATES_PER_SECOND = 1000  # bodies are made for at least this rate
MIN_FRESH = 2000  # and never fewer than this many (a short run's cold warm-up says too few)
MAX_CREATES = 100_000  # fresh create bodies per run at most (about 10 s to make)


def run_bench(options: BenchOptions, progress: IO[str] | None = None) -> BenchReport:
    """Measure every chosen operation; write the files; return the report.

    Args:
        options: the run's settings (checked here: InputError names a bad one).
        progress: where progress lines go (stderr by default).
    """
    check(options)
    started = time.monotonic()
    model = served_model(options)
    choice = _choice(model, options)
    out = options.out or Path("bench-results") / datetime.now().strftime("%Y%m%d-%H%M%S")
    out.mkdir(parents=True, exist_ok=True)
    wrk = _wrk(options)
    line = ProgressLine(progress)
    with tempfile.TemporaryDirectory(prefix="backsmith-bench-") as scratch_name:
        scratch = Path(scratch_name)
        target = _target(model, options, scratch, out)
        try:
            line.finish(f"measuring {target.base} ({_load_text(options)})")
            pool = _pool(model, options, target)
            host = f"{target.host}:{target.port}"
            plan = plan_requests(model, pool, target.minting, host, choice, target.prefix)
            local = options.url is None
            generators = Generators(scratch, target.host, target.port, local, wrk)
            try:
                ceiling = _ceiling(generators, options, host, target.health, scratch, line)
                operations, notes = _measure(generators, options, plan, scratch, line)
            finally:
                generators.close()
        finally:
            target.stop()
    for result in operations if options.rate is None else ():
        result.generator_bound = result.throughput >= NEAR_CEILING * ceiling.throughput
    exceptions, first = None, ""
    if target.log_path is not None:
        from backsmith.bench.target import unhandled_exceptions

        exceptions, first = unhandled_exceptions(target.log_path)
    report = BenchReport(
        contract=options.contract,
        settings=_settings(options, ceiling, target),
        operations=operations,
        left_out=[
            {"operation_id": x.operation_id, "method": x.method, "path": x.path, "reason": x.reason}
            for x in plan.left_out
        ],
        ceiling=ceiling,
        exceptions=exceptions,
        first_exception=first,
        wall_seconds=time.monotonic() - started,
        out=str(out),
        notes=notes,
    )
    from backsmith.bench.report import write_files

    write_files(report, out)
    return report


def served_model(options: BenchOptions) -> Model:
    """The contract's model with the handlers its hooks module serves (with --url, only
    the declared ones when that module cannot be loaded here)."""
    from backsmith.api import load_model
    from backsmith.logic.loading import with_handlers
    from backsmith.settings import load_settings

    model = load_model(options.contract, options.dbml)
    try:  # handlers a hooks module serves by operationId count as served
        return with_handlers(model, load_settings(model.options))
    except InputError:
        if options.url is None:
            raise  # the service would refuse to start for the same reason
        return model  # a running service found them; here only declared ones count


def _choice(model: Model, options: BenchOptions) -> Choice:
    known = {op.operation_id for op in model.operations}
    unknown = [name for name in options.ops if name not in known]
    if unknown:
        listed = ", ".join(sorted(known)[:12]) + (", ..." if len(known) > 12 else "")
        raise InputError(f"--ops: the contract has no operation {unknown[0]!r} (it has {listed})")
    groups = tuple(kind for kind, _ in options.mix)
    if groups and not any(GROUPS.get(op.kind) in groups for op in model.operations):
        raise InputError(f"--mix: the contract has no operation of kind {', '.join(groups)}")
    return Choice(
        ops=options.ops,
        groups=groups,
        include_deletes=options.include_deletes,
        serial=1_000_000 if options.url is None else int(time.time()) % 1_000_000 * 1_000_000,
    )


def _wrk(options: BenchOptions) -> str | None:
    from backsmith.bench.wrk import wrk_binary

    if options.generator == "builtin" or options.open_loop or options.mix:
        return None
    found = wrk_binary()
    if found is None and options.generator == "wrk":
        raise InputError("--generator wrk: wrk is not on PATH (apt-get install wrk)")
    return found


def _target(model: Model, options: BenchOptions, scratch: Path, out: Path) -> Any:
    from backsmith.bench import target

    if options.url is not None:
        return target.remote_service(model, options)
    return target.start_service(model, options, scratch, out / "server.log")


def _pool(model: Model, options: BenchOptions, target: Any) -> Any:
    from backsmith.bench.target import read_pool, seed

    return seed(options, target, model) if options.url is None else read_pool(model, target)


def _ceiling(
    generators: Generators,
    options: BenchOptions,
    host: str,
    health: str,
    scratch: Path,
    line: ProgressLine,
) -> Ceiling:
    """The same generator and connections on /healthz: what it can send at most. Always a
    fixed-concurrency run: an open loop would only send its own rate."""
    file = scratch / "healthz.req"
    write_requests(file, [f"GET {health} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()])
    streams = [("/healthz", file, 1, False)]
    load = Load(options.connections, min(CEILING_SECONDS, options.duration), None)
    tick = _ticker(line, "/healthz", load.duration, min(0.2, options.warmup))
    if options.warmup > 0:
        generators.warm(streams, load, min(0.2, options.warmup), tick)
    # The generator the operations get: wrk measures the ceiling only if it measures them.
    theirs = Load(options.connections, options.duration, options.rate)
    builtin = not generators.uses_wrk(theirs, 1)
    found = generators.measure(streams, load, tick, builtin)
    ceiling = ceiling_of(found.streams["/healthz"], found.elapsed, found.generator)
    line.finish(ceiling.line)
    return ceiling


class _Batches:
    """The request files of one run: each operation's cycle, or its creates' fresh bodies."""

    def __init__(self, scratch: Path, options: BenchOptions) -> None:
        self.scratch = scratch
        self.options = options
        self.next: dict[str, int] = {}  # by operation: the number of its next fresh request
        self.fresh: dict[str, int] = {}  # by create: the fresh requests of its last batch
        self.files = 0

    def write(self, planned: Planned, seconds: float, per_second: float | None) -> Path:
        """Requests for `seconds` at `per_second` (None: not known yet, a generous guess)."""
        name = planned.op.operation_id
        if self.options.rate:
            count = int(self.options.rate * seconds) + 100  # an open loop sends exactly that
        else:
            # A short warm-up starts cold, and wrk may outrun the built-in generator: twice
            # the rate it showed, and never less than a modest service's.
            rate = max(per_second or CREATES_PER_SECOND, MIN_CREATES_PER_SECOND)
            count = max(int(rate * seconds * 2) + 200, MIN_FRESH)
        start = self.next.get(name, 0)
        requests = planned.batch(start, min(count, MAX_CREATES))
        self.next[name] = start + len(requests)
        if planned.distinct is None:
            self.fresh[name] = len(requests)
        self.files += 1
        file = self.scratch / f"requests-{self.files:04d}.req"
        write_requests(file, requests)
        return file


def _measure(
    generators: Generators,
    options: BenchOptions,
    plan: Plan,
    scratch: Path,
    line: ProgressLine,
) -> tuple[list[OperationResult], list[str]]:
    if options.mix:
        return _mixed(generators, options, plan, scratch, line)
    results: list[OperationResult] = []
    notes: list[str] = []
    for planned in plan.planned:
        name = planned.op.operation_id
        found = _warm_and_measure(generators, options, [(planned, 1)], scratch, line, name, notes)
        result = summarize(planned, found.streams[name], found.elapsed, options.rate)
        line.finish(_done_line(result))
        results.append(result)
    return results, notes


def _warm_and_measure(
    generators: Generators,
    options: BenchOptions,
    weighted: list[tuple[Planned, int]],
    scratch: Path,
    line: ProgressLine,
    label: str,
    notes: list[str],
) -> RunResult:
    """A warm-up, then the measured run; creates get as many fresh bodies as the warm-up
    showed the service takes, so none repeats and none is made in vain."""
    load = Load(options.connections, options.duration, options.rate)
    tick = _ticker(line, label, options.duration, options.warmup)
    batches = _Batches(scratch, options)
    # Deletes and transitions alone go once over their rows, unwarmed: a warm-up would
    # use the rows up, and a second round measure only 404s and 409s.
    once = len(weighted) == 1 and weighted[0][0].consumes
    warm = None
    if options.warmup > 0 and not once:
        streams = [
            (p.op.operation_id, batches.write(p, options.warmup, None), w, False)
            for p, w in weighted
        ]
        warm = generators.warm(streams, load, options.warmup, tick)
    streams = []
    for planned, weight in weighted:
        name = planned.op.operation_id
        taken = warm.streams[name].answered / warm.elapsed if warm and warm.elapsed else None
        streams.append((name, batches.write(planned, options.duration, taken), weight, once))
    found = generators.measure(streams, load, tick)
    for name, made in batches.fresh.items():
        if found.streams[name].answered > made:
            note = f"{name}: its {made} fresh bodies ran out; repeats may have answered 409"
            line.finish(note)
            notes.append(note)
    return found


def _mixed(
    generators: Generators,
    options: BenchOptions,
    plan: Plan,
    scratch: Path,
    line: ProgressLine,
) -> tuple[list[OperationResult], list[str]]:
    """One run of every operation at once, each kind's weight shared by its operations."""
    weights = dict(options.mix)
    members: dict[str, list[Planned]] = {}
    for planned in plan.planned:
        members.setdefault(planned.group, []).append(planned)
    weighted = []
    for kind, group in members.items():
        for planned in group:
            weighted.append((planned, max(1, round(weights.get(kind, 0) * 1000 / len(group)))))
    notes = [f"mix: no operation of kind {kind} to run" for kind in weights if kind not in members]
    if not weighted:
        return [], notes
    found = _warm_and_measure(generators, options, weighted, scratch, line, "mix", notes)
    results = []
    for planned in plan.planned:
        name = planned.op.operation_id
        results.append(summarize(planned, found.streams[name], found.elapsed, None))
    total = sum(r.requests for r in results) / found.elapsed if found.elapsed else 0.0
    said = f"mix {_mix_text(options)}: {total:,.0f} req/s in all"
    line.finish(said)
    return results, [*notes, said]


def _ticker(
    line: ProgressLine, label: str, seconds: float, warmup: float
) -> Callable[[dict[str, Any]], None]:
    def tick(progress: dict[str, Any]) -> None:
        line.update(label, progress, warmup if progress.get("phase") == "warmup" else seconds)

    return tick


def _done_line(result: OperationResult) -> str:
    verdict = "MISSED " + "; ".join(result.missed) if result.verdict == MISSED else result.verdict
    return (
        f"{result.operation_id:<28} {result.requests:>7} requests {result.throughput:>8.0f} req/s"
        f"  p50 {result.p50_ms:.2f}  p99 {result.p99_ms:.2f} ms  errors {result.errors}"
        f"  {verdict}"
    )


def _load_text(options: BenchOptions) -> str:
    load = f"{options.connections} connections"
    if options.rate is not None:
        load = f"open loop at {options.rate:g} req/s"
    return f"{load}, {options.warmup:g} s warm-up + {options.duration:g} s per operation"


def _mix_text(options: BenchOptions) -> str:
    return ",".join(f"{kind}={weight}" for kind, weight in options.mix)


def _database_text(options: BenchOptions, target: Any) -> str:
    if options.url is not None:
        return "the service's own"
    if options.database_url:
        return f"postgresql (scratch {target.scratch_name}, dropped)"
    return "sqlite (scratch)"


def _settings(options: BenchOptions, ceiling: Ceiling, target: Any) -> dict[str, Any]:
    return {
        "contract": options.contract,
        "dbml": options.dbml,
        "target": target.base,
        "started_here": options.url is None,
        "database": _database_text(options, target),
        "rows": options.rows if options.url is None else None,
        "connections": options.connections,
        "duration": options.duration,
        "warmup": options.warmup,
        "rate": options.rate,
        "mix": dict(options.mix) or None,
        "ops": list(options.ops) or None,
        "include_deletes": options.include_deletes,
        "generator": ceiling.generator,
        "cores": os.cpu_count(),
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
