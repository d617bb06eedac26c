"""A whole contract test run: the service, its rows, every check of every operation, files.

The service is the bench's: one started on a scratch database and seeded (stopped and
dropped at the end), or one at a URL whose rows are read through its lists. Checks run in
an order that keeps them apart: each operation's own checks (reads first, deletes last),
then the CRUD flows, then schemathesis, and the rate limits last, so the quota they spend
costs no other check.

Example:
    report = run_suite(SuiteOptions("api.yaml", examples=3))
    report.exit_code  # 1: a check failed
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

from backsmith.bench.options import BenchOptions
from backsmith.bench.pool import RowPool
from backsmith.errors import BacksmithError, InputError
from backsmith.model.types import Model, Operation
from backsmith.verify.suite.cases import Suite, ensure_rows
from backsmith.verify.suite.checks_auth import auth
from backsmith.verify.suite.checks_conditions import conditional
from backsmith.verify.suite.checks_happy import happy_path
from backsmith.verify.suite.checks_idempotency import idempotency
from backsmith.verify.suite.checks_limits import rate_limit
from backsmith.verify.suite.checks_missing import not_found
from backsmith.verify.suite.checks_transitions import transition
from backsmith.verify.suite.checks_validation import validation
from backsmith.verify.suite.checks_webhooks import webhooks
from backsmith.verify.suite.client import Client, NoAnswer, Request
from backsmith.verify.suite.options import SuiteOptions, check
from backsmith.verify.suite.results import (
    OperationResult,
    SuiteReport,
    Verdict,
    failed,
    not_applicable,
)

RESULTS_FILE = "test-results.json"
Check = Callable[[Suite, Operation], Verdict]
# Each operation's own checks, in the order they run.
OWN_CHECKS: tuple[tuple[str, Check], ...] = (
    ("happy", happy_path),
    ("validation", validation),
    ("auth", auth),
    ("not-found", not_found),
    ("idempotency", idempotency),
    ("conditional", conditional),
    ("transition", transition),
    ("webhooks", webhooks),
)


def run_suite(options: SuiteOptions, progress: IO[str] | None = None) -> SuiteReport:
    """Run every check of every chosen operation; write the files; return the report.

    Args:
        options: the run's settings (checked here: InputError names a bad one).
        progress: where a line per operation goes (stderr by default).
    """
    check(options)
    started = time.monotonic()
    out = progress if progress is not None else sys.stderr
    bench = BenchOptions(
        options.contract,
        options.dbml,
        url=options.url,
        database_url=options.database_url,
        jwt_secret=options.jwt_secret,
        rows=options.rows,
        ops=options.ops,
    )
    from backsmith.bench.run import served_model

    model = served_model(bench)
    chosen = _chosen(model, options)
    with tempfile.TemporaryDirectory(prefix="backsmith-test-") as scratch:
        target = _target(model, bench, Path(scratch))
        notes: list[str] = []
        try:
            suite = _suite(model, options, bench, target, notes)
            try:
                notes += ensure_rows(suite)
                results = _run_checks(suite, chosen, options.examples, out)
            except NoAnswer as error:  # the service went away between checks
                raise BacksmithError(f"the service stopped answering: {error}") from None
            finally:
                suite.client.close()
        finally:
            target.stop()
        notes += _logged_exceptions(target)
    report = SuiteReport(
        contract=options.contract,
        target=options.url or f"started here ({_database_text(options, target)})",
        operations=results,
        seconds=time.monotonic() - started,
        notes=notes,
    )
    write_files(report, options)
    return report


def write_files(report: SuiteReport, options: SuiteOptions) -> None:
    """test-results.json in --out, and the JUnit XML where --junit says."""
    from backsmith.verify.suite.junit import junit_xml

    options.out.mkdir(parents=True, exist_ok=True)
    data = json.dumps(report.as_data(), indent=2, ensure_ascii=False) + "\n"
    (options.out / RESULTS_FILE).write_text(data, encoding="utf-8")
    if options.junit is not None:
        options.junit.parent.mkdir(parents=True, exist_ok=True)
        options.junit.write_text(junit_xml(report), encoding="utf-8")


def _chosen(model: Model, options: SuiteOptions) -> list[Operation]:
    from backsmith.bench.requests import order_key

    known = {op.operation_id for op in model.operations}
    unknown = [name for name in options.ops if name not in known]
    if unknown:
        listed = ", ".join(sorted(known)[:12]) + (", ..." if len(known) > 12 else "")
        raise InputError(f"--ops: the contract has no operation {unknown[0]!r} (it has {listed})")
    chosen = [op for op in model.operations if not options.ops or op.operation_id in options.ops]
    return sorted(chosen, key=order_key(model))


def _target(model: Model, bench: BenchOptions, scratch: Path) -> Any:
    from backsmith.bench import target

    if bench.url is not None:
        return target.remote_service(model, bench, healthz=False)
    return target.start_service(model, bench, scratch, scratch / "server.log")


def _suite(
    model: Model, options: SuiteOptions, bench: BenchOptions, target: Any, notes: list[str]
) -> Suite:
    from backsmith.model.expectations import expectations

    if options.url is not None:
        parts = urlsplit(options.url)
        client = Client(f"{parts.scheme}://{parts.netloc}", options.headers)
        try:  # any answer will do: a service need not serve its root
            client.send(Request("GET", target.prefix or "/"), patient=False)
        except NoAnswer as error:
            client.close()
            raise InputError(f"--url {options.url}: {str(error).split(': ', 1)[-1]}") from None
        pool = _listed(model, client, target)
    else:
        client = Client(f"http://{target.host}:{target.port}", options.headers)
        pool = _seeded(model, bench, target, notes)
    return Suite(
        model,
        expectations(model),
        client,
        pool,
        target.minting,
        prefix=target.prefix,
        seed=options.seed,
        started_here=options.url is None,
        fresh=0 if options.url is None else int(time.time()) % 1_000_000 * 1_000_000,
    )


def _listed(model: Model, client: Client, target: Any) -> RowPool:
    """The rows a running service lists, read through its list operations (with the
    headers every request carries, an API key among them)."""
    from backsmith.bench.callers import caller_for
    from backsmith.bench.pool import from_lists

    def fetch(op: Operation, path: str) -> Any:
        caller = caller_for(model, op, target.minting, RowPool())
        headers = (caller.header,) if caller.header is not None else ()
        answer = client.send(Request("GET", target.prefix + path, headers=headers))
        if not answer.ok:
            raise NoAnswer(f"GET {path} answered {answer.status}")
        return answer.json()

    return from_lists(model, fetch)


def _seeded(model: Model, bench: BenchOptions, target: Any, notes: list[str]) -> RowPool:
    """`seed --fake` rows on the scratch database; where generated rows are refused, none:
    the rows the checks need are then made through the API."""
    from backsmith.bench.target import seed

    try:
        return seed(bench, target, model)
    except BacksmithError as error:
        notes.append(f"seeding was refused ({error}); rows were made through the API instead")
        return RowPool()


def _run_checks(
    suite: Suite, chosen: list[Operation], examples: int, progress: IO[str]
) -> list[OperationResult]:
    from backsmith.verify.suite.flows import flows
    from backsmith.verify.suite.fuzz import fuzz

    results = {
        op.operation_id: OperationResult(op.operation_id, op.method, op.path, str(op.kind))
        for op in chosen
    }
    for op in chosen:
        for name, run in OWN_CHECKS:
            results[op.operation_id].verdicts[name] = _guarded(run, suite, op)
        print(f"checked {op.operation_id}", file=progress, flush=True)
    for op_id, verdict in _phase(flows, suite, chosen).items():
        results[op_id].verdicts["flow"] = verdict
    print(f"fuzzing {len(chosen)} operations ({examples} examples each)", file=progress)
    for op_id, verdict in _phase(lambda s, ops: fuzz(s, ops, examples), suite, chosen).items():
        results[op_id].verdicts["fuzz"] = verdict
    for op in chosen:
        results[op.operation_id].verdicts["rate-limit"] = _guarded(rate_limit, suite, op)
    return [results[op.operation_id] for op in sorted(chosen, key=_declared_order(suite))]


def _guarded(run: Check, suite: Suite, op: Operation) -> Verdict:
    try:
        return run(suite, op)
    except NoAnswer as error:
        return failed(str(error))
    except Exception as error:  # the suite's own fault, not the service's: said, not hidden
        return not_applicable(f"the suite could not run it: {type(error).__name__}: {error}")


def _phase(
    run: Callable[[Suite, list[Operation]], dict[str, Verdict]],
    suite: Suite,
    chosen: list[Operation],
) -> dict[str, Verdict]:
    try:
        return run(suite, chosen)
    except NoAnswer as error:
        return {op.operation_id: failed(str(error)) for op in chosen}
    except Exception as error:  # the suite's own fault, not the service's: said, not hidden
        why = f"the suite could not run it: {type(error).__name__}: {error}"
        return {op.operation_id: not_applicable(why) for op in chosen}


def _declared_order(suite: Suite) -> Callable[[Operation], int]:
    index = {op.operation_id: number for number, op in enumerate(suite.model.operations)}
    return lambda op: index[op.operation_id]


def _logged_exceptions(target: Any) -> list[str]:
    if target.log_path is None:
        return []
    from backsmith.bench.target import unhandled_exceptions

    count, first = unhandled_exceptions(target.log_path)
    return [f"the service logged {count} unhandled exceptions (first: {first})"] if count else []


def _database_text(options: SuiteOptions, target: Any) -> str:
    if options.database_url:
        return f"scratch PostgreSQL database {target.scratch_name}, dropped"
    return "scratch SQLite file"
