"""The engineer's checklist around the code, as the functions its commands call: what a
contract change breaks (`diff`), the contract tests (`test`), the service's README
(`docs`), a new project (`init`), and all of it in order with a Definition-of-Done
report (`build`). `backsmith.api` offers them beside the rest; each imports its work
only when called, so importing the API stays quick.
"""

from __future__ import annotations

from pathlib import Path
from typing import IO, TYPE_CHECKING

Contract = str | Path  # a contract's path, as `backsmith.api` takes it

if TYPE_CHECKING:
    from backsmith.scaffold import Project
    from backsmith.verify.diff import DiffReport
    from backsmith.verify.done.items import DoneReport
    from backsmith.verify.done.options import BuildOptions
    from backsmith.verify.suite import SuiteOptions, SuiteReport


def build(options: BuildOptions, progress: IO[str] | None = None) -> DoneReport:
    """Check, draft, migrate, serve, test, bench, diff and document a contract's backend;
    write the Definition-of-Done report into `options.out` and return it."""
    from backsmith.verify.done.build import build as run_build

    return run_build(options, progress)


def test(options: SuiteOptions, progress: IO[str] | None = None) -> SuiteReport:
    """Run the contract test suite (every check of every chosen operation) against the
    service `options` names, or one started on a scratch database; write test-results.json
    (and JUnit XML) and return the report."""
    from backsmith.verify.suite import run_suite

    return run_suite(options, progress)


def docs(
    contract: Contract,
    dbml: Contract | None = None,
    *,
    results: str | Path = ".",
    output: str | Path | None = None,
) -> str:
    """The service's README: what it serves, how to run it, every setting, the operations,
    migrations, seed data, health and metrics, deployment, and the latest test and bench
    results found in `results`. Written to `output` when one is given; returned either way.
    """
    from backsmith.api import load_model
    from backsmith.verify.service_docs import render_service_docs, write_service_docs

    text = render_service_docs(load_model(contract, dbml), Path(results), dbml)
    if output is not None:
        write_service_docs(text, Path(output))
    return text


def init(folder: str | Path = ".", template: str = "blank", *, force: bool = False) -> Project:
    """A new project in `folder` from the `blank` or `bookshop` template or the team's spec
    (a path); InputError naming every file it would overwrite, unless `force`."""
    from backsmith.api import load_model
    from backsmith.scaffold import init_project

    return init_project(Path(folder), template, force, load_model)


def diff(
    old: Contract, new: Contract, old_dbml: Contract | None = None, new_dbml: Contract | None = None
) -> DiffReport:
    """Every change from the contract `old` to `new`, breaking ones first."""
    from backsmith.api import load_model
    from backsmith.verify.diff import diff_contracts

    return diff_contracts(load_model(old, old_dbml), load_model(new, new_dbml))


def breaking_since(
    contract: Contract, dbml: Contract | None = None, revision: str = "HEAD"
) -> DiffReport | None:
    """The changes from the contract as git holds it at `revision` to the contract as it is
    now (what `migrate plan` plans from); None when git holds no earlier version, or the
    contract's folder has not changed since."""
    from backsmith.api import load_model
    from backsmith.verify.diff import diff_contracts
    from backsmith.verify.diff.released import changed_since, contract_at

    if not changed_since(contract, revision):
        return None
    with contract_at(contract, revision) as earlier:
        if earlier is None:
            return None
        old_dbml = None
        if dbml is not None:  # the same file, as it was then, when it sits beside the contract
            beside = Path(dbml).resolve().parent == Path(contract).resolve().parent
            old_dbml = earlier.parent / Path(dbml).name if beside else None
        return diff_contracts(load_model(earlier, old_dbml), load_model(contract, dbml))
