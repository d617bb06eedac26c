"""From HDR histograms to what a reader judges: percentiles, errors, budgets met or missed.

Latencies are kept in microseconds and shown in milliseconds. An error is any answer
outside 2xx and 3xx, or a transport failure (refused, reset, no answer); those the
operation's kind allows (a second delete finds nothing) are counted apart as `allowed`.
A budget (`x-backsmith: {slo: {p95, p99, rps}}`) is met when each declared percentile
is at or under its bound and, for rps, the measured throughput reaches it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from backsmith.bench.driver import StreamResult
from backsmith.bench.requests import Planned
from backsmith.model.policies import Slo

# Percentiles kept for the chart: a log scale towards 100, as HdrHistogram plots them.
CURVE = (0, 10, 25, 50, 75, 90, 95, 97, 99, 99.5, 99.9, 99.95, 99.99, 99.995, 99.999, 100)
MET, MISSED, NO_BUDGET = "met", "missed", "no budget"


@dataclass(slots=True)
class OperationResult:
    """One row of the table and of results.json."""

    operation_id: str
    method: str
    path: str
    kind: str
    requests: int
    errors: int  # answers outside 2xx/3xx the kind does not allow, and transport failures
    allowed: int  # error answers its kind allows (a repeated delete's 404)
    statuses: dict[str, int]  # every non-2xx/3xx status, and "transport"
    throughput: float  # requests per second
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    budget: dict[str, float] = field(default_factory=dict)  # p95_ms, p99_ms, rps as declared
    verdict: str = NO_BUDGET
    missed: list[str] = field(default_factory=list)  # what missed: "p99 12.3 ms > 10 ms"
    untested: list[str] = field(default_factory=list)  # budgets this run could not judge
    curve: list[tuple[float, float]] = field(default_factory=list)  # (percentile, ms)
    first_failure: str = ""
    generator_bound: bool = False  # its throughput was near the generator's ceiling

    def as_json(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def budget_text(self) -> str:
        named = [name for name in ("p95_ms", "p99_ms") if name in self.budget]
        parts = [f"{name[:3]} {_ms(self.budget[name])}" for name in named]
        if "rps" in self.budget:
            parts.append(f"{self.budget['rps']:g} rps")
        return ", ".join(parts) or "—"


def summarize(
    planned: Planned, found: StreamResult, elapsed: float, rate: float | None
) -> OperationResult:
    """An operation's figures from its histogram and statuses, judged against its budget."""
    histogram = found.histogram
    count = int(histogram.get_total_count())
    statuses = {str(s): n for s, n in sorted(found.statuses.items()) if not 200 <= s < 400}
    if found.transport:
        statuses["transport"] = found.transport
    allowed = sum(n for s, n in found.statuses.items() if s in planned.allowed)
    errors = sum(statuses.values()) - allowed
    op = planned.op
    result = OperationResult(
        operation_id=op.operation_id,
        method=op.method,
        path=op.path,
        kind=str(op.kind),
        requests=count + found.transport,
        errors=errors,
        allowed=allowed,
        statuses=statuses,
        throughput=round(count / elapsed, 1) if elapsed > 0 else 0.0,
        p50_ms=_at(histogram, 50),
        p95_ms=_at(histogram, 95),
        p99_ms=_at(histogram, 99),
        max_ms=round(histogram.get_max_value() / 1000, 3) if count else 0.0,
        curve=curve(histogram),
        first_failure=found.first_failure,
    )
    judge(result, op.policies.slo, rate)
    return result


def judge(result: OperationResult, slo: Slo | None, rate: float | None) -> None:
    """Set the verdict: each declared percentile at or under its bound, rps reached."""
    if slo is None:
        return
    missed, untested = [], []
    for name, bound in (("p95", slo.p95_ms), ("p99", slo.p99_ms)):
        if bound is None:
            continue
        result.budget[f"{name}_ms"] = bound
        measured = getattr(result, f"{name}_ms")
        if result.requests == 0 or measured > bound:
            missed.append(f"{name} {_ms(measured)} > {_ms(bound)}")
    if slo.rps is not None:
        result.budget["rps"] = slo.rps
        if rate is not None and rate < slo.rps:  # an open loop slower than the budget's rate
            untested.append(f"rps {slo.rps:g}: the run sent {rate:g} req/s")
        elif result.throughput < slo.rps:
            missed.append(f"rps {result.throughput:g} < {slo.rps:g}")
    result.missed, result.untested = missed, untested
    result.verdict = MISSED if missed else MET


def curve(histogram: Any) -> list[tuple[float, float]]:
    """(percentile, ms) points up to the last one the count of requests can tell apart."""
    count = int(histogram.get_total_count())
    if not count:
        return []
    points = []
    for percentile in CURVE:
        if percentile < 100 and 100 - percentile < 100 / count:
            continue  # fewer requests than this percentile needs: max stands for it
        points.append((float(percentile), _at(histogram, percentile)))
    return points


def _at(histogram: Any, percentile: float) -> float:
    if not histogram.get_total_count():
        return 0.0
    return round(float(histogram.get_value_at_percentile(percentile)) / 1000, 3)


def _ms(value: float) -> str:
    return f"{value:.3g} ms" if value < 10 else f"{value:.0f} ms"


@dataclass(slots=True)
class Ceiling:
    """The generator on /healthz, a static answer: the most the run can ask of a service."""

    throughput: float
    p50_ms: float
    p99_ms: float
    generator: str
    errors: int = 0

    @property
    def line(self) -> str:
        return (
            f"generator ceiling: {self.throughput:,.0f} req/s on /healthz "
            f"({self.generator}, p50 {self.p50_ms:g} ms, p99 {self.p99_ms:g} ms)"
        )


def ceiling_of(found: StreamResult, elapsed: float, generator: str) -> Ceiling:
    histogram = found.histogram
    count = int(histogram.get_total_count())
    bad = sum(n for s, n in found.statuses.items() if not 200 <= s < 400) + found.transport
    return Ceiling(
        round(count / elapsed, 1) if elapsed > 0 else 0.0,
        _at(histogram, 50),
        _at(histogram, 99),
        generator,
        bad,
    )


@dataclass(slots=True)
class BenchReport:
    """A whole run: its settings, the ceiling, each operation, what was left out, the log."""

    contract: str
    settings: dict[str, Any]
    operations: list[OperationResult]
    left_out: list[dict[str, str]]
    ceiling: Ceiling | None
    exceptions: int | None  # None: not checked (a service this run did not start)
    first_exception: str = ""
    wall_seconds: float = 0.0
    out: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def missed(self) -> list[OperationResult]:
        return [r for r in self.operations if r.verdict == MISSED]

    @property
    def exit_code(self) -> int:
        """1 when a budget is missed or the service's log holds an unhandled exception."""
        return 1 if self.missed or self.exceptions else 0

    @property
    def exceptions_line(self) -> str:
        if self.exceptions is None:
            return "unhandled exceptions in the log: not checked (the service was not started here)"
        first = f" (first: {self.first_exception})" if self.exceptions else ""
        return f"unhandled exceptions in the log: {self.exceptions}{first}"

    def as_json(self) -> dict[str, Any]:
        met = sum(r.verdict == MET for r in self.operations)
        return {
            "contract": self.contract,
            "settings": self.settings,
            "generator_ceiling": asdict(self.ceiling) if self.ceiling else None,
            "operations": [r.as_json() for r in self.operations],
            "left_out": self.left_out,
            "budgets": {"met": met, "missed": len(self.missed)},
            "unhandled_exceptions": {
                "checked": self.exceptions is not None,
                "count": self.exceptions or 0,
                "first": self.first_exception,
            },
            "notes": self.notes,
            "exit_code": self.exit_code,
            "wall_seconds": round(self.wall_seconds, 1),
        }
