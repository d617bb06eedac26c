"""The model closes over the contract: only contract/ and model/ read the raw document,
and the two reviewers of the contract as written, lint and diff, whose findings are about
the writing itself (a missing operationId, a property moved into a component) and point at
its lines."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import backsmith

PACKAGE = Path(backsmith.__file__).resolve().parent
# What reading the raw contract looks like: the document itself, the schema walkers over
# it, and the raw schemas the model keeps for its own use.
RAW = re.compile(
    r"\.document\b|\bflatten\(|\bderef\(|JsonSchemaConverter|backsmith\.model\.schemas\b"
    r"|\.body_schema\b|\bresponse\.schema\b|\bparam\.schema\b"
)
REVIEWERS = (("verify", "lint"), ("verify", "diff"))
OUTSIDE = sorted(
    path
    for path in PACKAGE.rglob("*.py")
    if path.relative_to(PACKAGE).parts[0] not in ("contract", "model")
    and path.relative_to(PACKAGE).parts[:2] not in REVIEWERS
)


@pytest.mark.parametrize("path", OUTSIDE, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_outside_the_model_reads_the_raw_contract(path: Path) -> None:
    found = [
        f"{path.relative_to(PACKAGE)}:{number}: {line.strip()}"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if RAW.search(line) and not line.lstrip().startswith("#")
    ]
    assert found == []


def test_the_scan_sees_the_packages_around_the_model() -> None:
    folders = {path.relative_to(PACKAGE).parts[0] for path in OUTSIDE}
    assert {"http", "security", "storage", "verify", "cli"} <= folders
