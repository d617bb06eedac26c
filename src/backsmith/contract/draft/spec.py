"""Draft a prose Markdown API spec into an OpenAPI 3.1 document, a DBML model and a report.

The steps read as the data flows: scan the Markdown, find endpoint mentions, gather them
into endpoints, read each endpoint's section, group endpoints into resources, assemble
the document. The same text always drafts the same document: every step keeps the
order of the text and sorts nothing by chance.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from backsmith.contract.draft.auth import read_auth
from backsmith.contract.draft.dbml_out import dbml_of
from backsmith.contract.draft.details import read_details
from backsmith.contract.draft.document import Assembler, Drafted, operation_id
from backsmith.contract.draft.endpoints import Skipped, gather
from backsmith.contract.draft.mentions import find_mentions
from backsmith.contract.draft.named import named_types
from backsmith.contract.draft.resources import Resource, group
from backsmith.contract.draft.scan import HEADING, scan
from backsmith.contract.draft.sections import heading_before, section, starts_of
from backsmith.contract.draft.wrappers import Wrapper, recurring_wrapper
from backsmith.contract.source import escape


@dataclass(slots=True)
class Draft:
    """A drafted contract: the document, the line of each of its pointers, the DBML model,
    and what the report lists."""

    file: str
    document: dict[str, Any]
    lines: dict[str, int]
    dbml: str
    endpoints: list[Drafted] = field(default_factory=list)
    resources: list[Resource] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    wrapper: Wrapper | None = None
    base: str = ""

    @property
    def guesses(self) -> int:
        """How many guesses the draft made, on operations and on resources."""
        return sum(len(one.guesses) + len(one.endpoint.guesses) for one in self.endpoints) + sum(
            len(resource.guesses) for resource in self.resources
        )


def draft_spec(text: str, file: str) -> Draft:
    """Draft the prose spec `text`; `file` is how its lines are named (`api-spec.md:12`)."""
    elements = scan(text)
    gathered = gather(find_mentions(elements), elements)
    starts = starts_of(gathered.found)
    drafted: list[Drafted] = []
    taken: set[str] = set()
    for endpoint in gathered.found:
        details = read_details(endpoint, section(endpoint, elements, starts))
        anchor = elements[endpoint.primary.element]
        if anchor.kind == HEADING:
            title = _title(anchor.text, endpoint.primary.method)
        elif endpoint.primary.how in ("block", "facts", "line", "sentence", "curl"):
            title = _title(heading_before(elements, endpoint.primary.element, starts), "")
        else:
            title = ""
        one = Drafted(endpoint, details, title)
        one.operation_id = operation_id(endpoint, one.title, taken)
        drafted.append(one)
    resources, bindings = group([(one.endpoint, one.details) for one in drafted])
    for index, binding in bindings.items():
        drafted[index].binding = binding
    strong = [
        e.primary.element for e in gathered.found if e.primary.how not in ("sentence", "table")
    ]
    first = min(strong, default=len(elements))  # what is said before the endpoints
    auth = read_auth(elements, first, gathered.base)
    name = Path(file).name
    named = named_types(elements, starts)
    assembler = Assembler(name, gathered.base, auth, {r.name: r for r in resources}, named)
    title = next((e.text for e in elements if e.kind == HEADING), "") or Path(file).stem
    document = assembler.document(title.strip("# "), drafted)
    document["info"]["description"] = (
        f"Drafted by backsmith from {name}; every operation and schema names its line there."
    )
    _inherit_lines(document, "", 0, assembler.lines)
    return Draft(
        file,
        document,
        assembler.lines,
        dbml_of(resources, assembler.schemas),
        drafted,
        resources,
        gathered.skipped,
        recurring_wrapper(drafted),
        gathered.base,
    )


def _inherit_lines(node: Any, pointer: str, line: int, lines: dict[str, int]) -> None:
    """Give every pointer a line: its own, else that of the part it is inside (the
    document's own parts, `info` and `servers`, have none)."""
    line = lines.get(pointer, line)
    if line:
        lines[pointer] = line
    if isinstance(node, dict):
        for key, value in node.items():
            _inherit_lines(value, f"{pointer}/{escape(str(key))}", line, lines)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            _inherit_lines(value, f"{pointer}/{index}", line, lines)


def _title(text: str, method: str) -> str:
    """A heading as an operation's summary: without its method and path, numbers and marks."""
    text = re.sub(r"`?\b(GET|POST|PUT|PATCH|DELETE)\b\s+\S+`?", "", text) if method else text
    text = re.sub(r"^[\d.\s]+", "", text)
    text = re.sub(r"\([^)]*\)", "", text)  # `(admin)`, `(Teacher)`: a note, not a name
    return re.sub(r"[`*_]", "", text).strip(" -\u2014:()")
