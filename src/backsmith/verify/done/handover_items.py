"""The hand-over items: no change that breaks the clients of the last released contract,
and the service's README written for whoever runs it next.

The last released contract is the one `--baseline` names, else the contract as it was at
the newest git tag of the repository holding it (its folder exported as it was, so its
DBML and `$ref`ed files come along); with neither, the item does not apply.
"""

from __future__ import annotations

from pathlib import Path

from backsmith import api
from backsmith.errors import BacksmithError
from backsmith.model.types import Model
from backsmith.verify.diff import Level, diff_contracts
from backsmith.verify.diff.released import contract_at, last_tag
from backsmith.verify.done.items import Item, failed, judged, not_applicable, passed
from backsmith.verify.service_docs.write import render_service_docs, write_service_docs

DIFF = "No breaking change for clients"


def diff_item(model: Model, baseline: str | None, contract: str) -> Item:
    if baseline is not None:
        return _compared(model, baseline, baseline)
    tag = last_tag(contract)
    if tag is None:
        why = "no released contract to compare with: pass --baseline FILE, or tag a release"
        return not_applicable("diff", DIFF, why)
    with contract_at(contract, tag) as released:
        if released is None:
            return not_applicable("diff", DIFF, f"the contract was not in the repository at {tag}")
        return _compared(model, str(released), f"{contract} at {tag}")


def _compared(model: Model, old_path: str, named: str) -> Item:
    try:
        old = api.load_model(old_path)
    except BacksmithError as error:
        return failed("diff", DIFF, f"the released contract {named} cannot be read: {error}")
    report = diff_contracts(old, model)
    breaking = report.count(Level.BREAKING)
    evidence = (
        f"against {named} ({report.old_version} → {report.new_version}): {breaking} breaking, "
        f"{report.count(Level.WARNING)} warnings, {report.count(Level.INFO)} safe"
    )
    if breaking and report.major_raised:
        evidence += "; the major version was raised, announcing them"
    details = [change.render() for change in report.changes if change.level == Level.BREAKING]
    return judged("diff", DIFF, not report.refused, evidence, *details[:30])


def docs_item(model: Model, out: Path, dbml: str | None) -> tuple[Item, Path | None]:
    title = "Service docs written"
    target = out / "SERVICE.md"
    try:
        write_service_docs(render_service_docs(model, out, dbml), target)
    except BacksmithError as error:
        return failed("docs", title, f"not written: {error}"), None
    lines = target.read_text(encoding="utf-8").count("\n")
    return passed("docs", title, f"{target} ({lines} lines)"), target
