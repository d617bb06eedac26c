"""Run every lint rule over a model, drop what configuration turns off, and hand back
the findings as `Issue`s: rule id, severity, file:line, pointer and fix.

A rule is turned off for the whole contract by the `lint_ignore` setting (the root
`x-backsmith: {lint-ignore: [...]}` or `BACKSMITH_LINT_IGNORE`), or for one part of it
by `x-backsmith: {lint-ignore: [...]}` on that part or any part around it (an operation,
a path item, a schema, a property).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from backsmith.errors import Issue
from backsmith.model.contract_sites import at
from backsmith.model.types import Model
from backsmith.settings import Settings, names, setting
from backsmith.verify.lint import access_rules, data_rules, schema_rules, text_rules
from backsmith.verify.lint.rules import ERROR, RULES, WARNING, Hit, Review

# The modules whose `@rule`s fill RULES, in the order their findings are listed.
RULE_MODULES = (access_rules, data_rules, schema_rules, text_rules)
IGNORE_KEY = "lint-ignore"
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
    ignored: list[Issue] = []
    for rule in RULES.values():
        for hit in rule.check(review):
            issue = _issue(model, rule.id, hit)
            off = rule.id in everywhere or rule.id in _ignored_at(model, hit.pointer)
            (ignored if off else findings).append(issue)
    return LintReport(findings, ignored)


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


def _unknown(model: Model, rule_id: str) -> Issue:
    """A turned-off id that names no rule: a typo would otherwise silence nothing, unseen."""
    pointer = "/x-backsmith/lint-ignore"
    in_contract = IGNORE_KEY in (model.document.get("x-backsmith") or {})
    file, line = model.locate(pointer) if in_contract else (f"${LINT_IGNORE_ENV}", None)
    message = f"lint-ignore names '{rule_id}', which is no lint rule"
    fix = "use an id `backsmith check --rules` lists"
    return Issue(message, file, line, pointer if in_contract else "", WARNING, fix)
