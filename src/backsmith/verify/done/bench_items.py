"""Items read from the benchmark and the services' logs: P95/P99 against the contract's
budgets, and no unhandled exception logged by any service the build started."""

from __future__ import annotations

from backsmith.bench.results import MET, MISSED, BenchReport
from backsmith.verify.done.items import Item, failed, judged, not_applicable

LATENCY = "P95/P99 within budgets"


def latency_item(report: BenchReport) -> Item:
    measured = report.operations
    if not measured:
        return not_applicable("latency", LATENCY, "no operation could be measured")
    met = sum(1 for result in measured if result.verdict == MET)
    missed = [result for result in measured if result.verdict == MISSED]
    unbudgeted = len(measured) - met - len(missed)
    slowest = max(measured, key=lambda result: result.p99_ms)
    evidence = (
        f"{len(measured)} operations measured: {met} met their budget, {len(missed)} missed, "
        f"{unbudgeted} declare none; slowest p99 {slowest.p99_ms:.1f} ms "
        f"({slowest.operation_id}, p95 {slowest.p95_ms:.1f} ms)"
    )
    details = [f"{result.operation_id}: {'; '.join(result.missed)}" for result in missed]
    if not met and not missed:
        return judged("latency", LATENCY, True, evidence + "; no budgets declared (slo)")
    return judged("latency", LATENCY, not missed, evidence, *details)


def exceptions_item(bench: BenchReport | None, suite_notes: list[str] | None) -> Item:
    """None of the services build started logged an unhandled exception; `suite_notes` is
    None when the contract tests' service never ran, `bench` None when the benchmark's."""
    title = "No unhandled exceptions in the logs"
    read = [
        name for name, ran in (("tests'", suite_notes), ("benchmark's", bench)) if ran is not None
    ]
    if not read:
        return failed("exceptions", title, "no service ran: no log could be read")
    found = list(suite_notes or [])
    if bench is not None and bench.exceptions:
        found.append(f"the benchmark's service: {bench.exceptions_line}")
    evidence = f"{len(found)} found in the {' and the '.join(read)} service logs"
    return judged("exceptions", title, not found, evidence, *found)
