"""Run every lint rule over a model, drop what configuration turns off, and hand back
the findings as `Issue`s: rule id, severity, file:line, pointer and fix.

A rule is turned off for the whole contract by the `lint_ignore` setting (the root
`x-backsmith: {lint-ignore: [...]}` or `BACKSMITH_LINT_IGNORE`), or for one part of it
by `x-backsmith: {lint-ignore: [...]}` on that part or any part around it (an operation,
a path item, a schema, a property).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from backsmith.contract.source import escape
from backsmith.errors import Issue
from backsmith.model.contract_sites import at
from backsmith.model.types import Model
from backsmith.settings import Settings, names, setting
from backsmith.verify.lint import access_rules, data_rules, schema_rules, text_rules
from backsmith.verify.lint.rules import ERROR, RULES, WARNING, Hit, Review

# The modules whose `@rule`s fill RULES, in the order their findings are listed.
RULE_MODULES = (access_rules, data_rules, schema_rules, text_rules)
IGNORE_KEY = "lint-ignore"
UNKNOWN_RULE = "lint-ignore-unknown"  # the finding that a turned-off id names no rule
LINT_IGNORE_ENV = setting("lint_ignore").env


@dataclass(frozen=True, slots=True)
class LintReport:
    findings: list[Issue]
    ignored: list[Issue] = field(default_factory=list)  # turned off by configuration

    @property
    def errors(self) -> list[Issue]:
        return [f for f in self.findings if f.severity == ERROR]


def lint(model: Model, settings: Settings) -> LintReport:
    """Every rule's findings on `model`, those turned off apart."""
    review = Review(model, settings)
    everywhere = names(settings.lint_ignore)
    findings = [_unknown(model, rule_id) for rule_id in sorted(everywhere - RULES.keys())]
    findings += [
        _unknown(model, rule_id, pointer)
        for pointer, ids in _inline_ignores(model.document, "")
        for rule_id in sorted(ids - RULES.keys())
    ]
    ignored: list[Issue] = []
    for rule in RULES.values():
        for hit in rule.check(review):
            issue = _issue(model, rule.id, hit)
            places = _ignored_at(model, hit.pointer) | _ignored_at(model, hit.scope)
            off = rule.id in everywhere or rule.id in places
            (ignored if off else findings).append(issue)
    return LintReport(findings, ignored)


def _inline_ignores(value: Any, pointer: str) -> Iterator[tuple[str, frozenset[str]]]:
    """Each `x-backsmith: {lint-ignore}` below the root, with its pointer."""
    if isinstance(value, dict):
        for key, item in value.items():
            where = f"{pointer}/{escape(str(key))}"
            if key == "x-backsmith" and isinstance(item, dict) and IGNORE_KEY in item:
                if pointer:  # the root's is the setting, checked with the environment's
                    yield f"{where}/{IGNORE_KEY}", names(item[IGNORE_KEY])
            else:
                yield from _inline_ignores(item, where)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _inline_ignores(item, f"{pointer}/{index}")


def _issue(model: Model, rule_id: str, hit: Hit) -> Issue:
    rule = RULES[rule_id]
    file, line = model.locate(hit.pointer)
    return Issue(hit.message, file, line, hit.pointer, rule.severity, rule.fix, rule.id)


def _ignored_at(model: Model, pointer: str) -> frozenset[str]:
    """The rule ids `x-backsmith: {lint-ignore}` turns off at `pointer` or around it."""
    off: set[str] = set()
    probe: str | None = pointer
    while probe is not None:
        part = at(model.document, probe) if probe else model.document
        extension = part.get("x-backsmith") if isinstance(part, dict) else None
        if isinstance(extension, dict):
            off |= names(extension.get(IGNORE_KEY))
        probe = probe.rsplit("/", 1)[0] if probe else None
    return frozenset(off)


def _unknown(model: Model, rule_id: str, pointer: str = "") -> Issue:
    """A turned-off id that names no rule: a typo would otherwise silence nothing, unseen."""
    if not pointer and IGNORE_KEY in (model.document.get("x-backsmith") or {}):
        pointer = f"/x-backsmith/{IGNORE_KEY}"
    file, line = model.locate(pointer) if pointer else (f"${LINT_IGNORE_ENV}", None)
    message = f"lint-ignore names '{rule_id}', which is no lint rule"
    fix = "use an id `backsmith check --rules` lists"
    return Issue(message, file, line, pointer, WARNING, fix, UNKNOWN_RULE)
