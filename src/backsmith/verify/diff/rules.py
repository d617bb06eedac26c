"""Every rule a contract diff reports by: its stable id, its level and what it means.

The ids follow oasdiff's where oasdiff has one, so a team that knows one tool reads the
other. Rules about a schema (a type, an enum, a bound, a pattern) exist once per place a
schema sits: a request body, a property inside it, a parameter, a response body or a
property inside that; the same change has the opposite weight in a request (what clients
send) and in a response (what clients read). This table drives the diff, `docs/diff.md`
and the test that keeps the two in step.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Level(StrEnum):
    """How a change weighs on existing clients, as oasdiff's ERR, WARN and INFO."""

    BREAKING = "breaking"
    WARNING = "warning"
    INFO = "info"


BREAKING, WARNING, INFO = Level.BREAKING, Level.WARNING, Level.INFO


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    level: Level
    meaning: str


# Rules about operations, parameters, bodies, responses, properties and security.
OPERATION_RULES = (
    Rule(
        "api-path-removed-without-deprecation",
        BREAKING,
        "a path was removed with its operations (one change each), not deprecated first",
    ),
    Rule(
        "api-path-removed-with-deprecation",
        INFO,
        "a path was removed with its operations; this one was deprecated",
    ),
    Rule(
        "api-removed-without-deprecation",
        BREAKING,
        "an operation was removed from a path that stays; it was not deprecated first",
    ),
    Rule("api-removed-with-deprecation", INFO, "a deprecated operation was removed"),
    Rule("api-path-changed", BREAKING, "an operation (same method and operationId) moved path"),
    Rule(
        "new-request-path-parameter",
        BREAKING,
        "an operation moved to a path with a path parameter it did not have",
    ),
    Rule("api-base-path-changed", BREAKING, "the server path every operation is served under"),
    Rule("endpoint-added", INFO, "an operation was added"),
    Rule("endpoint-deprecated", INFO, "an operation was marked deprecated"),
    Rule("endpoint-reactivated", INFO, "an operation is no longer deprecated"),
    Rule(
        "api-operation-id-removed",
        WARNING,
        "the operationId changed or was removed: generated clients rename their method",
    ),
    Rule("new-required-request-parameter", BREAKING, "a required parameter was added"),
    Rule("new-optional-request-parameter", INFO, "an optional parameter was added"),
    Rule(
        "request-parameter-removed",
        WARNING,
        "a parameter was removed: what clients still send is ignored or refused",
    ),
    Rule("request-parameter-became-required", BREAKING, "an optional parameter became required"),
    Rule("request-parameter-became-optional", INFO, "a required parameter became optional"),
    Rule(
        "request-parameter-default-value-changed",
        BREAKING,
        "a parameter's default changed: clients that leave it out get another behaviour",
    ),
    Rule(
        "request-parameter-serialization-changed",
        BREAKING,
        "a parameter's style or explode changed: the same value is written differently",
    ),
    Rule(
        "request-path-param-renamed",
        WARNING,
        "a path parameter was renamed: the URL is the same, generated clients' arguments are not",
    ),
    Rule("request-body-added-required", BREAKING, "an operation now requires a request body"),
    Rule("request-body-added-optional", INFO, "an operation now takes an optional request body"),
    Rule("request-body-removed", BREAKING, "an operation no longer takes a request body"),
    Rule("request-body-became-required", BREAKING, "the request body became required"),
    Rule("request-body-became-optional", INFO, "the request body became optional"),
    Rule("request-body-media-type-removed", BREAKING, "a request media type is no longer taken"),
    Rule("request-body-media-type-added", INFO, "a request media type was added"),
    Rule("new-required-request-property", BREAKING, "a required request property was added"),
    Rule("new-optional-request-property", INFO, "an optional request property was added"),
    Rule(
        "request-property-removed",
        WARNING,
        "a request property was removed: what clients still send is ignored or refused",
    ),
    Rule("request-property-became-required", BREAKING, "a request property became required"),
    Rule("request-property-became-optional", INFO, "a request property became optional"),
    Rule(
        "request-property-became-read-only",
        WARNING,
        "a request property became readOnly: what clients send is ignored or refused",
    ),
    Rule("response-success-status-removed", BREAKING, "a success status is no longer answered"),
    Rule("response-success-status-added", INFO, "a success status was added"),
    Rule("response-non-success-status-removed", INFO, "an error status was removed"),
    Rule("response-non-success-status-added", INFO, "an error status was added"),
    Rule("response-media-type-removed", BREAKING, "a success response media type was removed"),
    Rule("response-media-type-added", INFO, "a success response media type was added"),
    Rule(
        "required-response-header-removed",
        BREAKING,
        "a header a success response always carried was removed",
    ),
    Rule(
        "optional-response-header-removed",
        WARNING,
        "a header a success response could carry was removed",
    ),
    Rule(
        "response-header-became-optional",
        BREAKING,
        "a header a success response always carried may now be left out",
    ),
    Rule(
        "response-required-property-removed",
        BREAKING,
        "a property every response carried was removed",
    ),
    Rule(
        "response-optional-property-removed",
        WARNING,
        "an optional response property was removed (clients already cope with its absence)",
    ),
    Rule("response-property-became-optional", BREAKING, "a response property may now be absent"),
    Rule("response-property-became-required", INFO, "a response property is now always there"),
    Rule("response-required-property-added", INFO, "a response property was added, always sent"),
    Rule("response-optional-property-added", INFO, "an optional response property was added"),
    Rule(
        "response-property-became-write-only",
        WARNING,
        "a response property became writeOnly: responses leave it out",
    ),
    Rule(
        "api-security-added",
        BREAKING,
        "an operation requires credentials (a security scheme) it did not require",
    ),
    Rule(
        "api-security-removed",
        BREAKING,
        "a way to authenticate that an operation accepted is no longer accepted",
    ),
    Rule("api-security-scope-added", BREAKING, "an operation requires an OAuth scope more"),
    Rule("api-security-scope-removed", INFO, "an operation requires an OAuth scope less"),
    Rule(
        "api-security-alternative-added",
        INFO,
        "an operation accepts another way to authenticate (or none)",
    ),
    Rule(
        "api-security-scheme-changed",
        BREAKING,
        "a security scheme changed type, name, location or URL: credentials go elsewhere",
    ),
)

# Where a schema sits; the first part of the id of a schema rule.
REQUEST_SUBJECTS = ("request-body", "request-property", "request-parameter")
RESPONSE_SUBJECTS = ("response-body", "response-property")

# Bounds by keyword: the word in the rule id, and whether it is an upper bound (lowering
# it narrows what passes) or a lower one (raising it narrows).
BOUNDS = {
    "maxLength": ("max-length", True),
    "minLength": ("min-length", False),
    "maximum": ("max", True),
    "minimum": ("min", False),
    "exclusiveMaximum": ("exclusive-max", True),
    "exclusiveMinimum": ("exclusive-min", False),
    "maxItems": ("max-items", True),
    "minItems": ("min-items", False),
}


def bound_rule(keyword: str, narrowed: bool) -> str:
    """The id suffix for `keyword` narrowed (fewer values pass) or widened."""
    word, upper = BOUNDS[keyword]
    lowered = narrowed == upper
    return f"{word}-{'decreased' if lowered else 'increased'}"


def _bound_rules() -> dict[str, tuple[Level, Level, str]]:
    found = {}
    for keyword in BOUNDS:
        found[bound_rule(keyword, True)] = (
            BREAKING,
            INFO,
            f"`{keyword}` narrowed, or set where there was none: fewer values pass",
        )
        found[bound_rule(keyword, False)] = (
            INFO,
            BREAKING,
            f"`{keyword}` widened, or removed: more values pass",
        )
    return found


# Schema rules by id suffix: (level in a request, level in a response, meaning).
SCHEMA_RULES: dict[str, tuple[Level, Level, str]] = {
    "type-changed": (BREAKING, BREAKING, "the type or format changed, neither wider nor narrower"),
    "type-generalized": (
        INFO,
        BREAKING,
        "the type was widened (a type added, integer to number, a format dropped)",
    ),
    "type-specialized": (
        BREAKING,
        INFO,
        "the type was narrowed (a type dropped, number to integer, a format added)",
    ),
    "became-nullable": (INFO, BREAKING, "null is now allowed"),
    "became-not-nullable": (BREAKING, INFO, "null is no longer allowed"),
    "enum-value-removed": (BREAKING, INFO, "an enum (or const) value was removed"),
    "enum-value-added": (
        INFO,
        WARNING,
        "an enum value was added: clients may meet one they do not know",
    ),
    "became-enum": (BREAKING, INFO, "a free value became an enum (or const)"),
    "became-not-enum": (INFO, WARNING, "an enum became a free value"),
    **_bound_rules(),
    "pattern-added": (BREAKING, INFO, "a pattern was added"),
    "pattern-changed": (WARNING, INFO, "the pattern changed: values that passed may not"),
    "pattern-removed": (INFO, INFO, "the pattern was removed"),
    "unique-items-set": (
        BREAKING,
        INFO,
        "`uniqueItems` was set: an array with an item twice no longer passes",
    ),
    "additional-properties-forbidden": (
        BREAKING,
        INFO,
        "`additionalProperties: false` was set: properties the schema does not name are refused",
    ),
    "additional-properties-allowed": (
        INFO,
        WARNING,
        "`additionalProperties: false` was dropped: properties the schema does not name may come",
    ),
    "unique-items-unset": (
        INFO,
        WARNING,
        "`uniqueItems` was dropped: an array may now hold an item twice",
    ),
    "one-of-added": (INFO, BREAKING, "a oneOf branch was added"),
    "one-of-removed": (BREAKING, INFO, "a oneOf branch was removed"),
    "any-of-added": (INFO, BREAKING, "an anyOf branch was added"),
    "any-of-removed": (BREAKING, INFO, "an anyOf branch was removed"),
}


def _all_rules() -> dict[str, Rule]:
    rules = {rule.id: rule for rule in OPERATION_RULES}
    for suffix, (request, response, meaning) in SCHEMA_RULES.items():
        for subject in REQUEST_SUBJECTS:
            rules[f"{subject}-{suffix}"] = Rule(f"{subject}-{suffix}", request, meaning)
        for subject in RESPONSE_SUBJECTS:
            rules[f"{subject}-{suffix}"] = Rule(f"{subject}-{suffix}", response, meaning)
    return rules


RULES = _all_rules()
