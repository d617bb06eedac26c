"""Survey the shared contract corpus: which contracts backsmith maps, which it refuses, and why.

Run it from the repository root:

    .venv/bin/python scripts/corpus_survey.py            # the summary table
    .venv/bin/python scripts/corpus_survey.py --issues   # and every refusal, one line each
    .venv/bin/python scripts/corpus_survey.py --causes   # and each resource-less one by cause

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

from backsmith.api import load_model
from backsmith.errors import ContractError, Issue
from backsmith.model.custom_reasons import Cause, cause_of
from backsmith.model.types import Kind, Model

ROOT = Path(__file__).resolve().parent.parent
CORPUS = Path(os.environ.get("BACKSMITH_SHARED", ROOT.parent / "shared")) / "corpus"
CONTRACT_SUFFIXES = frozenset({".yaml", ".yml", ".json"})

LOADED = "loaded"
REFUSED = "refused"
CRASHED = "crashed"

# First match wins: (category, regular expression searched in Issue.message).
REASONS: tuple[tuple[str, str], ...] = (
    ("not Swagger 2.0", r"^expected Swagger 2\.0, found"),
    ("not OpenAPI 3.x", r"^expected OpenAPI 3\.0\.x, 3\.1\.x or 3\.2\.x"),
    (
        "Swagger 2.0 that OpenAPI 3.0 cannot say",
        r"^an operation takes (?:one body|a body parameter)|the conversion from Swagger 2\.0",
    ),
    ("querystring parameter", r"is in: querystring"),
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


# Why an operation works on no table, as the product says it (its reason names the cause),
# and whether a backend engineer reading the contract would call what it serves a resource.
NO_RESOURCE_CAUSES: dict[str, str] = {
    Cause.FILE: "no: a download, a page or plain text needs a handler",
    Cause.PLAIN: "no: a string, number or list of them is computed, not rows",
    Cause.ACTION: "no: a verb (revoke, suspend, :rollback) needs a handler",
    Cause.BATCH: "no: a batch of rows in one body or answer needs a handler",
    Cause.NO_SCHEMA: "no: nothing beside it serves a table (an item's delete is served)",
    Cause.INLINE: "mapped where a GET shows the pair's rows; those left mix a component "
    "GET with inline writes",
    Cause.INLINE_LONE: "no: a lone list (/trips), an item with no collection (/t/{id}.json) "
    "or a part of a row (/vehicles/{id}/location) names no table of rows",
    Cause.ENVELOPE: "mapped where the page lists a table's rows ({value: [Group], nextLink}); "
    "those left page computed answers (spellcheck, audience)",
    Cause.VIEW: "yes: the resource it is a view of",
    Cause.NAMED_UNLIKE: "mapped where the path is a collection of those rows (ApiVersion at "
    "/versions, ADGroup at /groups); those left are reference writes ($links), singletons "
    "and computed answers",
    Cause.SINGLETON: "partly: one object (/me, /settings), no table of rows",
    Cause.OTHER: "to read one by one",
}


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
    drafted: tuple[int, int] | None = None  # a prose spec's (endpoints, guesses)

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
    no_resource_causes: Counter[str]  # operations custom for want of a resource, per cause


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
    """The category of one refusal issue, e.g. 'invalid OpenAPI' or 'remote $ref'."""
    for category, pattern in REASONS:
        if re.search(pattern, issue.message):
            return category
    return "other: " + " ".join(issue.message.split()[:4])


def custom_reason(reason: str) -> str:
    """A custom operation's reason with names taken out, so alike reasons count together."""
    reason = re.sub(r"'[^']*'", "'…'", reason)
    if cause_of(reason) is not None:  # (revoke), {resource: tasks}, its schema ApiVersion
        reason = re.sub(r"\((?!\.json\)|a singleton\))[^)]*\)", "(…)", reason)
        for named in (
            r"its schema \S+",
            r"columns of [^:]+",
            r" on \S+$",
            r"(resource|items): [^}<]+",
        ):
            reason = re.sub(named, lambda m: m.group().rsplit(" ", 1)[0] + " <name>", reason)
        return reason
    return re.sub(r" of \S+$", " of <resource>", reason)


def no_resource_causes(model: Model) -> tuple[tuple[str, str], ...]:
    """(cause, "METHOD /path") of each operation custom for want of a resource."""
    found = []
    for op in model.operations:
        cause = cause_of(op.reason) if op.kind == Kind.CUSTOM else None
        if cause is not None:
            found.append((str(cause), f"{op.method} {op.path}"))
    return tuple(found)


# What a start says of a prose spec it drafted ("... 7 endpoints and 4 guesses").
_DRAFTED = re.compile(r"drafted one from the prose, (\d+) endpoints? and (\d+) guess")


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
    causes = no_resource_causes(model)
    said = next(
        (_DRAFTED.search(f.message) for f in model.findings if _DRAFTED.search(f.message)), None
    )
    drafted = (int(said[1]), int(said[2])) if said else None
    return Outcome(
        entry,
        LOADED,
        elapsed,
        kinds,
        len(model.resources),
        reasons,
        causes,
        model=model,
        drafted=drafted,
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


def _prose_line(outcomes: Sequence[Outcome]) -> str:
    drafted = [(o, o.drafted) for o in outcomes if o.drafted is not None]
    endpoints = sum(found for _, (found, _) in drafted)
    guesses = sum(guessed for _, (_, guessed) in drafted)
    crud = sum(o.crud for o, _ in drafted)
    return (
        f"prose specs drafted: {len(drafted)}   endpoints: {endpoints}   served as CRUD: "
        f"{crud}   guesses: {guesses}"
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
            if o.drafted is not None:
                note += f"; drafted from prose: {o.drafted[0]} endpoints, {o.drafted[1]} guesses"
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
        _prose_line(outcomes),
        "",
        "refusal reasons (files):",
        *(f"  {n:>4}  {reason}" for reason, n in s.refusal_reasons.most_common()),
        "",
        "custom reasons (operations):",
        *(f"  {n:>4}  {reason}" for reason, n in s.custom_reasons.most_common()),
        "",
        "custom for want of a resource, by cause (operations; a resource to a backend engineer?):",
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
        "--causes",
        action="store_true",
        help="list each operation custom for want of a resource, by cause",
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
