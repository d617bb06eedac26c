"""Survey the shared contract corpus: which contracts backsmith maps, which it refuses, and why.

Run it from the repository root:

    .venv/bin/python scripts/corpus_survey.py            # the summary table
    .venv/bin/python scripts/corpus_survey.py --issues   # and every refusal, one line each
    .venv/bin/python scripts/corpus_survey.py --causes   # and each 'no resource' operation by cause

The corpus is `../shared/corpus`: every file under `openapi/` (recursively), the Markdown
specs in `markdown/`, and the OpenAPI/Swagger files in `paired/` (each once on its own and
once with the DBML of its project). `tests/test_corpus.py` imports this module, so the table
a human reads and the numbers the tests assert come from one implementation.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
import traceback
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from backsmith.api import load_model
from backsmith.errors import ContractError, Issue
from backsmith.model.envelopes import json_content
from backsmith.model.paths import path_segments
from backsmith.model.schemas import component_name, deref, flatten, schema_types
from backsmith.model.types import Kind, Model, Operation

ROOT = Path(__file__).resolve().parent.parent
CORPUS = Path(os.environ.get("BACKSMITH_SHARED", ROOT.parent / "shared")) / "corpus"
CONTRACT_SUFFIXES = frozenset({".yaml", ".yml", ".json"})

LOADED = "loaded"
REFUSED = "refused"
CRASHED = "crashed"

# First match wins: (category, regular expression searched in Issue.message).
REASONS: tuple[tuple[str, str], ...] = (
    ("Swagger 2.0", r"^Swagger \S+ documents are not supported"),
    ("not OpenAPI 3.x", r"^expected OpenAPI 3\.0\.x or 3\.1\.x"),
    ("no OpenAPI document", r"^no OpenAPI document found"),
    ("not a mapping", r"must be a mapping at the top"),
    ("invalid YAML/JSON", r"^not valid YAML/JSON"),
    ("invalid OpenAPI", r"^invalid OpenAPI: "),
    ("unresolvable $ref", r"^unresolvable \$ref "),
    ("remote $ref", r"^remote \$ref "),
    ("$ref file not found", r"^\$ref target file not found"),
    ("circular $ref", r"^circular \$ref "),
    ("DBML syntax error", r"^DBML syntax error"),
    ("DBML construct not supported", r"^DBML .* is not supported"),
    ("duplicate operationId", r"^operationId '.*' is also used by"),
    ("required property not declared", r" required but not declared under properties"),
    ("unreadable file", r"^(contract|DBML) file not found|^cannot read "),
    ("x-backsmith extension", r"x-backsmith|^unknown kind "),
)


# Why an operation matched no table ("no resource"), first match wins, and whether a backend
# engineer reading the contract would call what it serves a resource: (cause, resource?).
NO_RESOURCE_CAUSES: dict[str, str] = {
    "files or text, not JSON": "no: a download, a page or plain text needs a handler",
    "answers a plain value": "no: a string, number or list of them is computed, not rows",
    "an action on a row or a custom method": "no: a verb (revoke, suspend, :rollback) needs "
    "a handler",
    "no schema in or out": "yes for an item path (DELETE /apps/{id}), else no",
    "inline schemas, no component to name a table": "yes: collection and item paths over "
    "inline objects",
    "inline objects off a collection/item pair": "no: a lone list (/trips, /latest.json), an "
    "item with no collection (/t/{id}.json) or a part of a row (/vehicles/{id}/location) "
    "names no table of rows",
    "a list envelope not recognised": "yes: {value: [Group], nextLink} lists Group rows",
    "a view of a resource's columns": "yes: the resource it is a view of",
    "schema name differs from its path": "yes: ApiVersion at /versions, ADGroup at /groups",
    "a singleton, not a collection": "partly: one object (/me, /settings), no table of rows",
    "other": "to read one by one",
}
_ACTION_WORDS = frozenset(
    {
        "search", "login", "logout", "revoke", "clear", "test", "link", "unlink", "watch",
        "authorize", "batch", "import", "export", "reset", "refresh", "cancel", "heartbeat",
        "health", "metrics", "ready", "verify", "send", "invite", "rollback",
    }
)  # fmt: skip


def no_resource_cause(model: Model, op: Operation) -> str:
    """Why `op` matched no table, as one of NO_RESOURCE_CAUSES."""
    document = model.document
    raw = ((document.get("paths") or {}).get(op.path) or {}).get(op.method.lower()) or {}
    segments = path_segments(op.path)  # `/posts/{id}.json` is judged as `/posts/{id}`
    statics = [s for s in segments if "{" not in s]
    last = segments[-1] if segments else ""
    response, other_media = _response_schema(document, raw)
    body = op.body_schema
    if response is None and body is None and other_media:
        return "files or text, not JSON"
    flat = flatten(document, response) if response is not None else {}
    types = schema_types(flat)
    items = flatten(document, flat.get("items")) if "array" in types else {}
    scalar = {"string", "number", "integer", "boolean"}
    if (types & scalar and not flat.get("properties")) or (items and schema_types(items) & scalar):
        return "answers a plain value"
    word = re.sub(r"\.\w+$", "", last.split(":")[-1]).lower()
    after_item = len(segments) > 1 and segments[-2].startswith("{") and "{" not in last
    plural = word.endswith("s") and not word.endswith("ss")  # a nested collection, not a verb
    verb = re.match(r"^(get|is|set|has|do|check)[A-Z]", last.split(":")[-1]) is not None
    if (
        ":" in last
        or word in _ACTION_WORDS
        or verb
        or (after_item and not plural and op.method != "GET")
    ):
        return "an action on a row or a custom method"
    if not response and not body:  # none, or `schema: {}`: any JSON at all
        return "no schema in or out"
    schema = response if response is not None else body
    item = flat.get("items") if "array" in types else schema
    if component_name(item) is None and component_name(schema) is None:
        if _in_pair(document, segments):
            return "inline schemas, no component to name a table"
        return "inline objects off a collection/item pair"
    properties = flat.get("properties") or {}
    listed = [
        name
        for name, prop in properties.items()
        if "array" in schema_types(flatten(document, prop))
        and flatten(document, flatten(document, prop).get("items")).get("properties")
    ]
    if listed and op.method == "GET" and "{" not in last:
        return "a list envelope not recognised"
    members = set(flatten(document, item).get("properties") or {})
    for resource in model.resources.values():
        columns = {f.name for f in resource.fields} | {f.column for f in resource.fields}
        if len(members) >= 2 and members <= columns:
            return "a view of a resource's columns"
    if statics and (last.startswith("{") or op.method in ("GET", "POST")) and len(segments) > 1:
        return "schema name differs from its path"
    if "{" not in last:
        return "a singleton, not a collection"
    return "other"


def _in_pair(document: dict[str, Any], segments: list[str]) -> bool:
    """Whether a path is the collection or the item path of a pair: /users and /users/{id}."""
    bare = [path_segments(str(path)) for path in document.get("paths") or {}]
    if segments and segments[-1].startswith("{"):
        return segments[:-1] in bare and len(segments) > 1 and "{" not in segments[-2]
    return any(
        len(other) == len(segments) + 1 and other[:-1] == segments and other[-1].startswith("{")
        for other in bare
    )


def _response_schema(document: dict[str, Any], raw: dict[str, Any]) -> tuple[Any, bool]:
    """The first 2xx JSON response schema, and whether some 2xx answer is not JSON."""
    other = False
    for status, response in sorted((raw.get("responses") or {}).items()):
        if not str(status).startswith("2"):
            continue
        response = deref(document, response)
        content = response.get("content") if isinstance(response, dict) else None
        media, schema = json_content(content)
        if media is not None:
            return schema, other
        other = other or bool(content)
    return None, other


@dataclass(frozen=True, slots=True)
class Entry:
    """One contract to load, with the DBML it is paired with (if any)."""

    label: str  # the contract's path inside the corpus, plus `+<dbml>` when a DBML is paired
    contract: Path
    dbml: Path | None = None

    @property
    def files(self) -> tuple[Path, ...]:
        """The files an issue about this entry may name."""
        return (self.contract,) if self.dbml is None else (self.contract, self.dbml)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What `load_model` did with one entry."""

    entry: Entry
    status: str  # LOADED, REFUSED or CRASHED
    seconds: float
    kinds: Counter[str] = field(default_factory=Counter)
    resources: int = 0
    custom_reasons: tuple[str, ...] = ()
    no_resource: tuple[tuple[str, str], ...] = ()  # (cause, "METHOD /path") per operation
    issues: tuple[Issue, ...] = ()
    message: str = ""  # str() of the ContractError
    error: str = ""  # the traceback of an exception other than ContractError
    model: Model | None = field(default=None, compare=False, repr=False)

    @property
    def crud(self) -> int:
        return sum(n for kind, n in self.kinds.items() if kind != Kind.CUSTOM)

    @property
    def custom(self) -> int:
        return self.kinds.get(Kind.CUSTOM, 0)

    @property
    def reasons(self) -> tuple[str, ...]:
        """The refusal categories of this entry's issues, each once, in first-seen order."""
        return tuple(dict.fromkeys(refusal_reason(issue) for issue in self.issues))


@dataclass(frozen=True, slots=True)
class Summary:
    """Counts over a whole survey."""

    files: int
    loaded: int
    refused: int
    crashed: int
    operations: int
    crud: int
    custom: int
    resources: int
    kinds: Counter[str]
    refusal_reasons: Counter[str]  # entries per category
    custom_reasons: Counter[str]  # custom operations per normalised reason
    no_resource_causes: Counter[str]  # "no resource" operations per cause


def corpus_entries(corpus: Path = CORPUS) -> list[Entry]:
    """Every contract the survey loads, in a stable order."""

    def entry(contract: Path, dbml: Path | None = None) -> Entry:
        label = contract.relative_to(corpus).as_posix()
        return Entry(f"{label}+{dbml.name}" if dbml else label, contract, dbml)

    entries = [entry(p) for p in sorted((corpus / "openapi").rglob("*")) if p.is_file()]
    entries += [entry(p) for p in sorted((corpus / "markdown").glob("*.md"))]
    for project in sorted(p for p in (corpus / "paired").iterdir() if p.is_dir()):
        contracts = sorted(p for p in project.iterdir() if p.suffix.lower() in CONTRACT_SUFFIXES)
        dbmls = sorted(project.glob("*.dbml"))
        entries += [entry(c) for c in contracts]
        if len(dbmls) == 1:
            entries += [entry(c, dbmls[0]) for c in contracts]
    return entries


def refusal_reason(issue: Issue) -> str:
    """The category of one refusal issue, e.g. 'Swagger 2.0' or 'invalid OpenAPI'."""
    for category, pattern in REASONS:
        if re.search(pattern, issue.message):
            return category
    return "other: " + " ".join(issue.message.split()[:4])


def custom_reason(reason: str) -> str:
    """A custom operation's reason with names taken out, so alike reasons count together."""
    reason = re.sub(r"'[^']*'", "'…'", reason)
    return re.sub(r" of \S+$", " of <resource>", reason)


def survey_entry(entry: Entry) -> Outcome:
    """Load and map one entry; a ContractError is a refusal, any other exception a crash."""
    started = time.perf_counter()
    try:
        model = load_model(entry.contract, entry.dbml)
    except ContractError as error:
        elapsed = time.perf_counter() - started
        return Outcome(entry, REFUSED, elapsed, issues=tuple(error.issues), message=str(error))
    except Exception:
        elapsed = time.perf_counter() - started
        return Outcome(entry, CRASHED, elapsed, error=traceback.format_exc())
    elapsed = time.perf_counter() - started
    kinds = Counter(str(op.kind) for op in model.operations)
    reasons = tuple(custom_reason(op.reason) for op in model.operations if op.kind == Kind.CUSTOM)
    causes = tuple(
        (no_resource_cause(model, op), f"{op.method} {op.path}")
        for op in model.operations
        if op.kind == Kind.CUSTOM and op.reason.startswith("no resource")
    )
    return Outcome(
        entry, LOADED, elapsed, kinds, len(model.resources), reasons, causes, model=model
    )


def survey(entries: Iterable[Entry] | None = None) -> list[Outcome]:
    """Survey `entries` (default: the whole corpus)."""
    return [survey_entry(entry) for entry in (corpus_entries() if entries is None else entries)]


def summarize(outcomes: Sequence[Outcome]) -> Summary:
    kinds: Counter[str] = Counter()
    refusals: Counter[str] = Counter()
    customs: Counter[str] = Counter()
    causes: Counter[str] = Counter()
    for outcome in outcomes:
        causes.update(cause for cause, _ in outcome.no_resource)
        kinds.update(outcome.kinds)
        refusals.update(outcome.reasons)
        customs.update(outcome.custom_reasons)
    loaded = [o for o in outcomes if o.status == LOADED]
    return Summary(
        files=len(outcomes),
        loaded=len(loaded),
        refused=sum(o.status == REFUSED for o in outcomes),
        crashed=sum(o.status == CRASHED for o in outcomes),
        operations=sum(kinds.values()),
        crud=sum(o.crud for o in loaded),
        custom=sum(o.custom for o in loaded),
        resources=sum(o.resources for o in loaded),
        kinds=kinds,
        refusal_reasons=refusals,
        custom_reasons=customs,
        no_resource_causes=causes,
    )


def render(outcomes: Sequence[Outcome], issues: bool = False, causes: bool = False) -> str:
    """The survey as a plain-text table followed by the totals."""
    width = max((len(o.entry.label) for o in outcomes), default=10)
    lines = [f"{'contract':<{width}}  {'result':<8} {'ops':>4} {'crud':>4} {'custom':>6}  note"]
    lines.append("-" * (width + 40))
    for o in outcomes:
        if o.status == LOADED:
            ops = f"{o.crud + o.custom:>4} {o.crud:>4} {o.custom:>6}"
            note = f"{o.resources} resources"
        else:
            ops = f"{'':>4} {'':>4} {'':>6}"
            note = ", ".join(o.reasons) if o.status == REFUSED else o.error.splitlines()[-1]
        lines.append(f"{o.entry.label:<{width}}  {o.status:<8} {ops}  {note}")
        if issues and o.status == REFUSED:
            lines.extend(f"    {issue.render()}" for issue in o.issues)
    s = summarize(outcomes)
    lines += [
        "",
        f"files: {s.files}   loaded: {s.loaded}   refused: {s.refused}   crashed: {s.crashed}",
        f"operations: {s.operations}   CRUD: {s.crud}   custom: {s.custom}   "
        f"resources: {s.resources}",
        "CRUD kinds: " + ", ".join(f"{k} {n}" for k, n in sorted(s.kinds.items()) if k != "custom"),
        "",
        "refusal reasons (files):",
        *(f"  {n:>4}  {reason}" for reason, n in s.refusal_reasons.most_common()),
        "",
        "custom reasons (operations):",
        *(f"  {n:>4}  {reason}" for reason, n in s.custom_reasons.most_common()),
        "",
        "'no resource' by cause (operations; a resource to a backend engineer?):",
        *(
            f"  {n:>4}  {cause}: {NO_RESOURCE_CAUSES[cause]}"
            for cause, n in s.no_resource_causes.most_common()
        ),
    ]
    if causes:
        for cause, _ in s.no_resource_causes.most_common():
            examples = [
                f"{o.entry.label}: {where}"
                for o in outcomes
                for c, where in o.no_resource
                if c == cause
            ]
            lines += ["", f"{cause} ({len(examples)}):", *(f"    {e}" for e in examples)]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--issues", action="store_true", help="list every refusal issue")
    parser.add_argument(
        "--causes", action="store_true", help="list each 'no resource' operation by cause"
    )
    args = parser.parse_args(argv)
    if not CORPUS.is_dir():
        print(f"no corpus at {CORPUS}", file=sys.stderr)
        return 2
    outcomes = survey()
    print(render(outcomes, issues=args.issues, causes=args.causes))
    crashed = [o for o in outcomes if o.status == CRASHED]
    for o in crashed:
        print(f"\nCRASH {o.entry.label}\n{o.error}", file=sys.stderr)
    return 1 if crashed else 0


if __name__ == "__main__":
    sys.exit(main())
