"""The latest test and bench results a project holds, read back for the service's README.

`backsmith bench` leaves `bench-results/<YYYYmmdd-HHMMSS>/results.json` in the folder it
ran in; `backsmith test` leaves `test-results/test-results.json` (or `test-results.json`
where `--out` says), of which only its `summary` (`passed`, `failed`, `not_applicable`)
is read. Either may be absent; a file that is
there but cannot be read is an error naming it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from backsmith.bench.report import table
from backsmith.bench.results import BenchReport, Ceiling, OperationResult
from backsmith.errors import InputError

BENCH_FOLDER, BENCH_FILE = "bench-results", "results.json"
TEST_FOLDER, TEST_FILE = "test-results", "test-results.json"
TEST_COUNTS = ("passed", "failed", "not_applicable")


@dataclass(frozen=True, slots=True)
class Results:
    """What was found: the newest bench run and the test summary, each with its file."""

    bench: BenchReport | None = None
    bench_file: Path | None = None
    tests: dict[str, int] | None = None
    tests_file: Path | None = None


def find_results(folder: Path) -> Results:
    """The results in `folder`: a bench run's own folder, or a project holding
    `bench-results/` (the newest run is the last by name, as runs are named by time);
    `test-results.json` there, or in its `test-results/`."""
    if not folder.is_dir():
        raise InputError(f"--results {folder}: no such folder")
    bench_file = folder / BENCH_FILE
    if not bench_file.is_file():
        runs = sorted((folder / BENCH_FOLDER).glob(f"*/{BENCH_FILE}"))
        bench_file = runs[-1] if runs else bench_file
    tests_file = folder / TEST_FILE
    if not tests_file.is_file():
        tests_file = folder / TEST_FOLDER / TEST_FILE
    found_bench = bench_file.is_file()
    found_tests = tests_file.is_file()
    return Results(
        bench=_bench(bench_file) if found_bench else None,
        bench_file=bench_file if found_bench else None,
        tests=_tests(tests_file) if found_tests else None,
        tests_file=tests_file if found_tests else None,
    )


def _read(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise InputError(f"{path}: cannot be read as JSON: {error}") from None
    if not isinstance(data, dict):
        raise InputError(f"{path}: expected a JSON object")
    return data


def _tests(path: Path) -> dict[str, int]:
    summary = _read(path).get("summary")
    if not isinstance(summary, dict):
        raise InputError(f"{path}: no summary of passed, failed and not_applicable")
    counts = {name: summary.get(name, 0) for name in TEST_COUNTS}
    if not all(isinstance(count, int) for count in counts.values()):
        raise InputError(f"{path}: the summary's counts must be whole numbers")
    return counts


def _bench(path: Path) -> BenchReport:
    """The run as `backsmith bench` held it, so its own table can be printed again."""
    data = _read(path)
    try:
        names = {f.name for f in fields(OperationResult)}
        operations = [
            OperationResult(**{key: value for key, value in row.items() if key in names})
            for row in data["operations"]
        ]
        ceiling = data.get("generator_ceiling")
        exceptions = data.get("unhandled_exceptions") or {}
        return BenchReport(
            contract=str(data["contract"]),
            settings=dict(data.get("settings") or {}),
            operations=operations,
            left_out=list(data.get("left_out") or []),
            ceiling=Ceiling(**ceiling) if ceiling else None,
            exceptions=exceptions.get("count", 0) if exceptions.get("checked") else None,
            first_exception=str(exceptions.get("first", "")),
            wall_seconds=float(data.get("wall_seconds", 0.0)),
            out=str(path.parent),
            notes=list(data.get("notes") or []),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise InputError(f"{path}: not the results.json of a bench run: {error!r}") from None


def results_lines(found: Results, folder: str, contract: str) -> list[str]:
    """The README's section on the latest results, or how to make them."""
    lines = ["## Latest results", ""]
    if found.tests is not None:
        counts = found.tests
        lines.append(
            f"Contract tests (`{found.tests_file}`): {counts['passed']} passed, "
            f"{counts['failed']} failed, {counts['not_applicable']} not applicable."
        )
        lines.append("")
    if found.bench is not None:
        settings = found.bench.settings
        when = f", finished {settings['finished_at']}" if settings.get("finished_at") else ""
        on = f" on {settings['database']}" if settings.get("database") else ""
        lines += [
            f"Latency (`{found.bench_file}`{when}){on}, as `backsmith bench` printed it:",
            "",
            "```text",
            table(found.bench),
            "```",
            "",
        ]
    if found.tests is None:
        lines += [
            f"No `{TEST_FOLDER}/{TEST_FILE}` in `{folder}`: `backsmith test {contract}` "
            "runs the contract tests and writes it.",
            "",
        ]
    if found.bench is None:
        lines += [
            f"No `{BENCH_FOLDER}/*/{BENCH_FILE}` in `{folder}`: `backsmith bench {contract}` "
            "measures every operation against its budget and writes one.",
            "",
        ]
    return lines
