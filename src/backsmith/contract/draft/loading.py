"""Serve a prose spec as it is: its draft read in memory, in place of an OpenAPI document.

`check`, `model` and `serve` on a Markdown spec with no OpenAPI block read its draft, and
say so once, with the count of endpoints and guesses and the command that keeps the
draft for review.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from backsmith.contract.source import Located
from backsmith.errors import ContractError, Issue

if TYPE_CHECKING:
    from backsmith.contract.draft.spec import Draft
    from backsmith.contract.load import Contract


@dataclass(slots=True)
class DraftedLocated(Located):
    """A drafted document and its lines, with the draft they came from."""

    draft: Draft | None = None


def drafted_located(text: str, file: str) -> DraftedLocated:
    """The draft of the prose spec `text`, or a ContractError when it names no endpoint."""
    from backsmith.contract.draft.spec import draft_spec

    draft = draft_spec(text, file)
    if not draft.endpoints:
        raise ContractError(
            [
                Issue(
                    "no OpenAPI document and no endpoint found: expected a fenced ```yaml, "
                    "```json or ```openapi block whose top level has an `openapi` key, or "
                    "endpoints written as `METHOD /path` (a heading, a line, a code block or a "
                    "table row)",
                    file,
                )
            ]
        )
    return DraftedLocated(draft.document, file, draft.lines, draft)


def adopt_draft(contract: Contract, located: DraftedLocated) -> None:
    """Give a contract read from a draft its drafted DBML (unless one was named) and the
    warning that says it was drafted."""
    from backsmith.contract.load import DbmlSource

    draft = located.draft
    assert draft is not None
    if contract.dbml is None:
        contract.dbml = DbmlSource(draft.dbml, f"{contract.path} (drafted DBML)")
    endpoints = len(draft.endpoints)
    contract.notes.append(
        Issue(
            f"no OpenAPI document: drafted one from the prose, {endpoints} endpoint"
            f"{'s' if endpoints != 1 else ''} and {draft.guesses} guess"
            f"{'es' if draft.guesses != 1 else ''}; `backsmith draft {contract.path}` writes "
            "it with a report to review",
            contract.path,
            severity="warning",
        )
    )
