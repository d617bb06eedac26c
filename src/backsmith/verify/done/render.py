"""The Definition-of-Done report as Markdown (the README shows one), JSON and HTML."""

from __future__ import annotations

import html
import json

from backsmith import __version__
from backsmith.verify.done.items import FAIL, NA, PASS, DoneReport, Item

_MARKS = {PASS: "✅ pass", FAIL: "❌ fail", NA: "⬜ n/a"}


def _status(item: Item) -> str:
    mark = _MARKS[item.status]
    return mark if item.required or item.status != FAIL else f"{mark} (not required)"


def markdown(report: DoneReport) -> str:
    """The report for people: the verdict, one row per item, then what failed and why."""
    lines = [
        f"# Definition of Done: {report.title} {report.version}",
        "",
        f"**{report.verdict()}**",
        "",
        f"Contract `{report.contract}`, built by backsmith {__version__} in "
        f"{report.seconds:.0f} s.",
        "",
        "| item | status | evidence |",
        "| --- | --- | --- |",
    ]
    for item in report.items:
        evidence = item.evidence.replace("|", "\\|")
        lines.append(f"| {item.title} | {_status(item)} | {evidence} |")
    detailed = [item for item in report.items if item.details]
    for item in detailed:
        lines += ["", f"## {item.title}", ""]
        lines += [f"- {detail}" for detail in item.details]
    if report.files:
        lines += ["", "## Files", ""]
        lines += [f"- {name}: `{path}`" for name, path in report.files.items()]
    return "\n".join(lines) + "\n"


def as_json(report: DoneReport) -> str:
    return json.dumps(report.as_data(), indent=2) + "\n"


_STYLE = (
    "body{font:15px/1.5 system-ui,sans-serif;max-width:70em;margin:2em auto;padding:0 1em}"
    "table{border-collapse:collapse;width:100%}td,th{border:1px solid #ccc;padding:.3em .6em;"
    "text-align:left;vertical-align:top}.pass{color:#176f2c}.fail{color:#b3261e;"
    "font-weight:bold}.na{color:#666}.verdict{font-size:1.3em}"
)
_CLASSES = {PASS: "pass", FAIL: "fail", NA: "na"}


def as_html(report: DoneReport) -> str:
    """One self-contained page: no scripts, no external files."""
    esc = html.escape
    rows = "".join(
        f'<tr><td>{esc(item.title)}</td><td class="{_CLASSES[item.status]}">'
        f"{esc(_status(item))}</td><td>{esc(item.evidence)}"
        + (
            "<ul>" + "".join(f"<li>{esc(detail)}</li>" for detail in item.details) + "</ul>"
            if item.details
            else ""
        )
        + "</td></tr>"
        for item in report.items
    )
    title = f"Definition of Done: {report.title} {report.version}"
    return (
        f'<!doctype html><html lang="en"><meta charset="utf-8"><title>{esc(title)}</title>'
        f"<style>{_STYLE}</style><h1>{esc(title)}</h1>"
        f'<p class="verdict {"pass" if report.done else "fail"}">{esc(report.verdict())}</p>'
        f"<p>Contract <code>{esc(report.contract)}</code>, built by backsmith {__version__} "
        f"in {report.seconds:.0f} s.</p>"
        f"<table><tr><th>item</th><th>status</th><th>evidence</th></tr>{rows}</table>"
        "</html>\n"
    )
