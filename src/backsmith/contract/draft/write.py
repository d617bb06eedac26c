"""Write a draft out: the OpenAPI contract, the DBML model beside it, and the report.

The contract names its DBML (`x-backsmith: {dbml: schema.dbml}`), so `backsmith serve
openapi.yaml` serves what `backsmith serve api-spec.md` served, and a person can review,
edit and keep the files in place of the prose.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from backsmith.contract.draft.report import render_report
from backsmith.contract.draft.spec import Draft, draft_spec
from backsmith.contract.load import read_text
from backsmith.contract.writing import render
from backsmith.errors import ContractError, InputError, Issue
from backsmith.model.types import Kind, Model


@dataclass(frozen=True, slots=True)
class Written:
    """What `backsmith draft` wrote, and what the draft holds."""

    draft: Draft
    contract: Path
    dbml: Path
    report: Path
    report_text: str


def write_draft(
    spec: Path, output: Path, dbml: Path | None, load_model: Callable[[Path], Model]
) -> Written:
    """Draft `spec`, write its contract to `output` (its DBML and report beside it), and
    check what was written loads."""
    draft = draft_spec(read_text(spec, "spec"), str(spec))
    if not draft.endpoints:
        message = (
            "no endpoint found: expected `METHOD /path` in a heading, a line, a code block "
            "or a table row"
        )
        raise ContractError([Issue(message, str(spec))])
    dbml_path = dbml or output.with_name("schema.dbml")
    report_path = output.with_name(output.stem + ".report.md")
    document = dict(draft.document)
    relative = os.path.relpath(dbml_path, output.parent)
    document["x-backsmith"] = {"dbml": relative, **(document.get("x-backsmith") or {})}
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(render(document, output.suffix.lower() == ".json"), encoding="utf-8")
        dbml_path.write_text(draft.dbml, encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot write {output}: {exc.strerror or exc}") from None
    model = load_model(output)  # what was written loads, and says how each operation is served
    served = {
        op.operation_id: (
            f"needs a handler: {op.reason}"
            if op.kind == Kind.CUSTOM
            else f"{op.kind} {op.resource}"
        )
        for op in model.operations
    }
    text = render_report(draft, served)
    try:
        report_path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot write {report_path}: {exc.strerror or exc}") from None
    return Written(draft, output, dbml_path, report_path, text)
