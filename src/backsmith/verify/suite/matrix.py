"""The run as text: the operation x check matrix, the failures with their reasons, and the
summary line."""

from __future__ import annotations

from backsmith.verify.suite.results import CHECKS, Outcome, SuiteReport

CELLS = {Outcome.PASS: "PASS", Outcome.FAIL: "FAIL", Outcome.NA: "n/a"}


def matrix(report: SuiteReport) -> str:
    """One row per operation, one column per check kind."""
    header = ("OPERATION", "METHOD", *(title for _, title in CHECKS))
    rows = [header]
    for result in report.operations:
        cells = [
            CELLS[result.verdicts[name].outcome] if name in result.verdicts else "-"
            for name, _ in CHECKS
        ]
        rows.append((result.operation_id, result.method, *cells))
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )


def failures(report: SuiteReport) -> list[str]:
    """One line per failed check: operation, check, reason, and the request that showed it."""
    lines = []
    for result in report.operations:
        for name, _ in CHECKS:
            verdict = result.verdicts.get(name)
            if verdict is None or verdict.outcome != Outcome.FAIL:
                continue
            shown = f" [{verdict.request}" if verdict.request else ""
            shown += f" -> {verdict.status}" if shown and verdict.status is not None else ""
            shown += "]" if shown else ""
            lines.append(f"{result.operation_id} {name}: {verdict.reason}{shown}")
    return lines


def render(report: SuiteReport) -> str:
    """Everything `backsmith test` prints on stdout."""
    parts = [matrix(report)]
    found = failures(report)
    if found:
        parts.append("failures:\n" + "\n".join(f"  {line}" for line in found))
    if report.notes:
        parts.append("notes:\n" + "\n".join(f"  {note}" for note in report.notes))
    parts.append(report.summary_line())
    return "\n\n".join(parts)
