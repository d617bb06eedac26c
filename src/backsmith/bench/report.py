"""What a run leaves: the table on stdout, and results.json, latency.png and report.html.

The chart follows HdrHistogram's plots: latency against percentile, the percentile axis
spaced by 1/(1 - p), so 90, 99, 99.9 and 99.99 sit one step apart and the tail is as
wide as the middle. Each budget is a marker at its percentile and a dashed line at its
bound, in its operation's colour.
"""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path

from backsmith.bench.results import MET, MISSED, BenchReport, OperationResult

_HEAD = ("OPERATION", "REQUESTS", "ERRORS", "REQ/S", "P50", "P95", "P99", "MAX", "BUDGET", "RESULT")
_TICKS = (
    (0, "0%"),
    (50, "50%"),
    (90, "90%"),
    (99, "99%"),
    (99.9, "99.9%"),
    (99.99, "99.99%"),
    (99.999, "99.999%"),
)


def table(report: BenchReport) -> str:
    """The results as aligned text: one row per operation, then the lines that frame them."""
    rows = [_HEAD] + [_row(result) for result in report.operations]
    widths = [max(len(row[i]) for row in rows) for i in range(len(_HEAD))]
    right = {1, 2, 3, 4, 5, 6, 7}
    lines = []
    for row in rows:
        cells = [
            cell.rjust(width) if i in right else cell.ljust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
    lines.append(
        "latencies in ms; ERRORS: answers outside 2xx/3xx and failed exchanges"
        " (+N ok: the ones the operation's kind allows)"
    )
    return "\n".join(lines + footer(report))


def footer(report: BenchReport) -> list[str]:
    lines = []
    for result in report.operations:
        if result.statuses:
            said = ", ".join(f"{status} x{count}" for status, count in result.statuses.items())
            first = f"; first failure: {result.first_failure}" if result.first_failure else ""
            lines.append(f"  {result.operation_id}: {said}{first}")
        for reason in result.untested:
            lines.append(f"  {result.operation_id}: not judged: {reason}")
    if report.ceiling is not None:
        bound = [r.operation_id for r in report.operations if r.generator_bound]
        near = f"; near it (* above): {', '.join(bound)}" if bound else ""
        lines.append(report.ceiling.line + near)
    for item in report.left_out:
        where = f"{item['method']} {item['path']}"
        lines.append(f"left out: {item['operation_id']} ({where}): {item['reason']}")
    lines.extend(report.notes)
    met = sum(r.verdict == MET for r in report.operations)
    judged = met + len(report.missed)
    lines.append(
        f"budgets: {met} met, {len(report.missed)} missed, "
        f"{len(report.operations) - judged} operations without one"
    )
    lines.append(report.exceptions_line)
    return lines


def _row(result: OperationResult) -> tuple[str, ...]:
    errors = str(result.errors) + (f" +{result.allowed} ok" if result.allowed else "")
    verdict = result.verdict if result.verdict != MISSED else "MISSED " + "; ".join(result.missed)
    name = result.operation_id + (" *" if result.generator_bound else "")
    return (
        name,
        str(result.requests),
        errors,
        f"{result.throughput:.0f}",
        f"{result.p50_ms:.2f}",
        f"{result.p95_ms:.2f}",
        f"{result.p99_ms:.2f}",
        f"{result.max_ms:.2f}",
        result.budget_text,
        verdict,
    )


def write_files(report: BenchReport, folder: Path) -> None:
    """results.json, latency.png and report.html in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "results.json").write_text(json.dumps(report.as_json(), indent=2) + "\n")
    chart = folder / "latency.png"
    draw_chart(report, chart)
    (folder / "report.html").write_text(render_html(report, chart.read_bytes()))


def _x(percentile: float, count: int) -> float:
    """Where a percentile sits: 1/(1 - p), the maximum at the count of requests."""
    if percentile >= 100:
        return float(max(count, 10))
    return 1.0 / (1.0 - percentile / 100.0)


def draw_chart(report: BenchReport, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")  # no display: draw to a file, whatever the environment says
    import matplotlib.pyplot as plt

    shown = [r for r in report.operations if r.curve]
    figure, axes = plt.subplots(figsize=(12, 6.5), dpi=100)
    colours = plt.get_cmap("tab20").colors  # type: ignore[attr-defined]
    styles = ("-", "--", "-.", ":")
    for number, result in enumerate(shown):
        colour = colours[number % len(colours)]
        style = styles[(number // len(colours)) % len(styles)]
        xs = [_x(p, result.requests) for p, _ in result.curve]
        ys = [max(ms, 0.001) for _, ms in result.curve]
        axes.plot(xs, ys, style, color=colour, linewidth=1.4, label=result.operation_id)
        for name, marker, percentile in (("p95_ms", "D", 95.0), ("p99_ms", "v", 99.0)):
            if name in result.budget:
                bound = result.budget[name]
                axes.axhline(bound, color=colour, linestyle=":", linewidth=0.9, alpha=0.8)
                axes.plot(
                    [_x(percentile, 0)],
                    [bound],
                    marker,
                    color=colour,
                    markersize=7,
                    markeredgecolor="black",
                )
    axes.set_xscale("log")
    axes.set_yscale("log")
    # Up to the percentile the largest run can tell apart, and at least 99.9.
    top = max([_x(99.9, 0)] + [_x(100, r.requests) for r in shown]) * 1.2
    ticks = [(p, label) for p, label in _TICKS if _x(p, 0) <= top]
    axes.set_xlim(1, top)
    axes.set_xticks([_x(p, 0) for p, _ in ticks], [label for _, label in ticks])
    axes.minorticks_off()
    axes.set_xlabel("percentile")
    axes.set_ylabel("latency (ms, log scale)")
    axes.set_title(_title(report))
    axes.grid(True, which="major", alpha=0.3)
    if shown:
        axes.legend(
            loc="upper left",
            bbox_to_anchor=(1.01, 1.0),
            fontsize=8,
            frameon=False,
            title="◆ p95 budget  ▼ p99 budget",
            title_fontsize=8,
        )
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)


def _title(report: BenchReport) -> str:
    settings = report.settings
    load = (
        f"open loop at {settings['rate']:g} req/s"
        if settings.get("rate")
        else f"{settings['connections']} connections"
    )
    return f"{Path(report.contract).name}: {load}, {settings['duration']:g} s per operation"


def render_html(report: BenchReport, png: bytes) -> str:
    """A page holding the chart (as a data URI: one file to mail) and the table."""
    e = html.escape
    head = "".join(f"<th>{e(name.lower())}</th>" for name in _HEAD)
    rows = []
    for result in report.operations:
        cells = "".join(f"<td>{e(cell)}</td>" for cell in _row(result))
        rows.append(f'<tr class="{e(result.verdict.replace(" ", "-"))}">{cells}</tr>')
    notes = "".join(f"<li>{e(line.strip())}</li>" for line in footer(report))
    settings = "".join(
        f"<tr><th>{e(str(k))}</th><td>{e(str(v))}</td></tr>" for k, v in report.settings.items()
    )
    image = base64.b64encode(png).decode("ascii")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>backsmith bench: {e(Path(report.contract).name)}</title>
<style>
body {{ font: 14px/1.4 system-ui, sans-serif; margin: 2em; color: #222; }}
table {{ border-collapse: collapse; margin: 1em 0; }}
th, td {{ padding: 3px 10px; border-bottom: 1px solid #ddd; text-align: right; }}
th:first-child, td:first-child, td:nth-child(9), td:nth-child(10) {{ text-align: left; }}
tr.missed td {{ background: #fde2e2; }} tr.met td:last-child {{ color: #17702b; }}
img {{ max-width: 100%; }}
</style></head><body>
<h1>backsmith bench: {e(report.contract)}</h1>
<p>{e(report.ceiling.line if report.ceiling else "")}</p>
<p>{e(report.exceptions_line)}</p>
<img alt="latency by percentile for each operation" src="data:image/png;base64,{image}">
<table><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>
<p>Latencies in milliseconds.</p>
<ul>{notes}</ul>
<h2>Settings</h2><table>{settings}</table>
</body></html>
"""
