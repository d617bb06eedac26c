"""`backsmith build`: check → draft → migrate → serve and test → bench → diff → docs, each
step's evidence an item of the Definition-of-Done report.

Everything the build makes goes into `--out` (the report in Markdown, JSON and HTML, the
test results and JUnit XML, the benchmark's results, the service's README, the draft of a
prose spec, scratch databases), except the migrations it plans: those belong to the
project, beside the contract (or where `--migrations` says), as `migrate plan` writes them.
A step that cannot run is its item's failure, with the reason; the build goes on, so one
report says everything at once.
"""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path
from typing import IO

from backsmith import api
from backsmith.bench.options import BenchOptions
from backsmith.bench.results import BenchReport
from backsmith.bench.run import run_bench
from backsmith.contract.load import is_prose_spec
from backsmith.errors import BacksmithError
from backsmith.verify.done import bench_items, contract_items, handover_items, suite_items
from backsmith.verify.done.items import DoneReport, Item, failed
from backsmith.verify.done.migrations_item import migrations_item
from backsmith.verify.done.options import BuildOptions
from backsmith.verify.done.render import as_html, as_json, markdown
from backsmith.verify.done.scratch import Scratch
from backsmith.verify.suite.options import SuiteOptions
from backsmith.verify.suite.runner import run_suite

STEPS = ("check", "draft", "migrate", "test", "bench", "diff", "docs", "report")
BENCH_ROWS = 50  # rows seeded per resource: enough to page through, quick to make


class Progress:
    """One line per step on standard error: `build [3/8] migrate ...`, then its time."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream
        self.started = time.monotonic()

    def step(self, name: str, what: str) -> None:
        number = STEPS.index(name) + 1
        elapsed = time.monotonic() - self.started
        print(f"build [{number}/{len(STEPS)}] {name}: {what} ({elapsed:.0f} s)", file=self.stream)
        self.stream.flush()


def build(options: BuildOptions, progress: IO[str] | None = None) -> DoneReport:
    """Build and judge the backend of `options.contract`; write the report; return it."""
    options.check()
    stream = progress if progress is not None else sys.stderr
    say = Progress(stream)
    out = options.out
    out.mkdir(parents=True, exist_ok=True)
    contract, dbml = options.contract, options.dbml

    say.step("check", f"reading {contract}")
    drafted = None
    if is_prose_spec(contract):
        say.step("draft", "a prose spec: drafting its OpenAPI contract and DBML model")
        written = api.draft(contract, out / "openapi.yaml", out / "schema.dbml")
        drafted = (len(written.draft.endpoints), written.draft.guesses, written.contract)
        contract, dbml = str(written.contract), None
    checked = api.check(contract, dbml)  # with the settings serve would have here
    model = checked.model
    report = DoneReport(options.contract, model.title, model.version)
    report.items += [
        contract_items.lint_item(checked),
        contract_items.draft_item(options.contract, drafted),
    ]

    say.step("migrate", "plan, then up, down and up again on a scratch database")
    with Scratch(out, options.database_url) as scratch:
        url = scratch.database("migrations")
        report.items.append(migrations_item(contract, dbml, url, options.migrations))

    say.step("test", "serving on a scratch database and running the contract tests")
    suite_notes: list[str] | None = None  # None: the tests' service never ran
    suite = SuiteOptions(
        contract,
        dbml,
        database_url=options.database_url,
        out=out,
        junit=out / "junit.xml",
        examples=options.examples,
    )
    for stale in (out / "test-results.json", out / "junit.xml"):  # never an older run's
        stale.unlink(missing_ok=True)
    try:
        tested = run_suite(suite, stream)
    except BacksmithError as error:
        report.items.insert(2, contract_items.endpoints_item(checked))
        report.items += [_unrun(key, title, error) for key, title in _SUITE_ITEMS]
    else:
        report.items.insert(2, contract_items.endpoints_item(checked, tested))
        report.items += [*suite_items.policy_items(tested), suite_items.tests_item(tested)]
        suite_notes = suite_items.logged_exceptions(tested)
        report.files["tests"] = str(out / "test-results.json")
        report.files["junit"] = str(out / "junit.xml")

    say.step("bench", f"p50/p95/p99 of each operation, {options.bench_seconds:g} s each")
    benched = _bench(contract, dbml, options, out, stream)
    if isinstance(benched, BenchReport):
        report.items.append(bench_items.latency_item(benched))
        report.files["bench"] = benched.out
    else:
        report.items.append(_unrun("latency", bench_items.LATENCY, benched))
    bench = benched if isinstance(benched, BenchReport) else None
    report.items.append(bench_items.exceptions_item(bench, suite_notes))

    say.step("diff", "comparing with the last released contract")
    report.items.append(handover_items.diff_item(model, options.baseline, options.contract))

    say.step("docs", "writing the service's README")
    item, written_docs = handover_items.docs_item(model, out, dbml)
    report.items.append(item)
    if written_docs is not None:
        report.files["docs"] = str(written_docs)

    say.step("report", f"writing the Definition-of-Done report in {out}")
    report.seconds = time.monotonic() - say.started
    write_report(report, out)
    return report


_SUITE_ITEMS = (
    ("validation", "Validation"),
    ("auth", "Authentication and roles"),
    ("rate-limits", "Rate limits"),
    ("idempotency", "Idempotency keys"),
    ("tests", "Contract tests pass"),
)


def _unrun(key: str, title: str, error: BacksmithError) -> Item:
    return failed(key, title, f"could not run: {error}")


def _bench(
    contract: str, dbml: str | None, options: BuildOptions, out: Path, stream: IO[str]
) -> BenchReport | BacksmithError:
    results = out / "bench-results" / "build"
    shutil.rmtree(results, ignore_errors=True)  # one run's files, not two runs' mixed
    bench = BenchOptions(
        contract,
        dbml,
        database_url=options.database_url,
        rows=BENCH_ROWS,
        duration=options.bench_seconds,
        warmup=min(0.5, options.bench_seconds),
        out=results,
    )
    try:
        return run_bench(bench, stream)
    except BacksmithError as error:
        return error


def write_report(report: DoneReport, out: Path) -> None:
    """done.md, done.json and done.html in `out`, each naming all three."""
    renderers = {"done.md": markdown, "done.json": as_json, "done.html": as_html}
    report.files.update({name: str(out / name) for name in renderers})
    for name, render in renderers.items():
        (out / name).write_text(render(report), encoding="utf-8")
