"""The `x-backsmith` vocabulary: which keys each level accepts, checked with a "did you mean".

Only keys this version acts on are accepted. A key a later version adds (a policy such as
a rate limit) is an error here, so an older backsmith never serves a contract while
silently ignoring part of it.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from typing import Any

from backsmith.contract.load import Contract
from backsmith.contract.source import escape
from backsmith.errors import Issue
from backsmith.model.kinds import Visibility
from backsmith.model.policies import POLICY_KEYS, SERVED, policy_issue
from backsmith.settings import contract_keys

EXTENSION = "x-backsmith"
KINDS = (
    "list",
    "create",
    "read",
    "replace",
    "update",
    "delete",
    "custom",
    "register",
    "login",
    "refresh",
    "logout",
    "me",
)

RATE_LIMIT_HELP = "requests per caller, e.g. 100/minute or [10/second, 1000/hour]"
IDEMPOTENCY_HELP = "Idempotency-Key on POST and PATCH: required, or optional (a POST's default)"
IF_MATCH_HELP = "true: PUT, PATCH and DELETE must send If-Match (428 without it)"
CACHE_HELP = "keep a read's answers this long, e.g. 30s, 5m or 1h; false: not cached"
SLO_HELP = (
    "latency budgets /readyz warns past, and the rate they hold at, "
    "e.g. {p95: 50ms, p99: 200ms, rps: 500}"
)
# What a drafted contract says of where each part came from (`backsmith draft`).
DRAFT_KEYS: dict[str, tuple[tuple[type, ...], str]] = {
    "source": ((str,), "the spec line this was drafted from, e.g. 'api-spec.md:12'"),
    "guesses": ((list,), "what drafting guessed here, for a person to review"),
}
LINT_IGNORE_HELP = "lint rules `check` turns off here and inside, e.g. [no-4xx-response]"
ERRORS_HELP = (
    "'problem': errors are RFC 9457 problem+json even where the contract declares its own "
    "error bodies (default 'contract')"
)

# key -> (accepted types, description); the description feeds `check` messages and docs.
# The root keys that are settings come from the settings' declaration.
ROOT_KEYS: dict[str, tuple[tuple[type, ...], str]] = {
    "dbml": ((str,), "path of the DBML model, relative to the contract"),
    "unknown-fields": ((str,), "'ignore': bodies may carry properties their schema lacks"),
    "errors": ((str,), ERRORS_HELP),
    "events": ((bool,), "true: writes publish events, also with no webhooks section"),
    "audit": ((bool,), "true: keep every change of every table's rows"),
    "schedules": ((dict,), 'functions run on a cron schedule, e.g. {expire: "*/5 * * * *"}'),
    "rate-limit": ((str, list), RATE_LIMIT_HELP),
    "idempotency": ((str,), IDEMPOTENCY_HELP),
    "require-if-match": ((bool,), IF_MATCH_HELP),
    "cache": ((str, int, bool), CACHE_HELP),
    "slo": ((dict,), SLO_HELP),
    **contract_keys(),
}
SCHEMA_KEYS: dict[str, tuple[tuple[type, ...], str]] = {
    **DRAFT_KEYS,
    "lint-ignore": ((str, list), LINT_IGNORE_HELP),
    "table": ((str,), "table that stores this schema's items"),
    "resource": ((str,), "resource name this schema describes"),
    "derive": ((dict,), "fields filled from others on create, e.g. {slug: title}"),
    "computed": ((dict,), "computed properties, e.g. {wishlistedCount: {count: wishlists}}"),
    "renamed-from": ((str,), "the table's earlier name: migrations rename it, keeping its rows"),
    "owner": ((str,), "the column naming the caller a row belongs to, e.g. 'order.customer_id'"),
    "relations": (
        (dict,),
        "names for to-many relations conventions cannot tell apart, each the rows and "
        "their column referring to this table, e.g. {following: follows.follower_id}",
    ),
    "supplied-owner": (
        (str,),
        "'ignore': a body naming another owner is not refused; the "
        "caller is the owner all the same (default: reject)",
    ),
    "hooks": ((dict,), "functions around its rows' writes, e.g. {after-update: shop.hooks:log}"),
    "transitions": (
        (dict,),
        "the moves a state field allows, e.g. {field: status, allowed: {pending: [paid]}}",
    ),
    "audit": ((bool,), "true: keep every change of its rows, who made it and when"),
    "visibility": (
        (str,),
        "'public': anyone may read and list the owned rows, only their owner changes them "
        "(default: private, the owner alone sees them)",
    ),
}
PROPERTY_KEYS: dict[str, tuple[tuple[type, ...], str]] = {
    "lint-ignore": ((str, list), LINT_IGNORE_HELP),
    "column": ((str,), "column this property is stored in"),
    "embed": ((str,), "relation path this property is filled from, e.g. 'genres.name'"),
    "sort": ((str, list), "order of an embedded array, e.g. 'name' or '-created_at'"),
    "count": ((str,), "computed: how many related rows, e.g. 'wishlists'"),
    "exists": ((str,), "computed: whether the caller has a related row, e.g. 'wishlists'"),
    "sum": ((str,), "computed: a sum over related rows, e.g. 'lines.quantity * lines.price'"),
    "children": ((str,), "'replace' lets PUT and PATCH replace these nested children"),
    "renamed-from": ((str,), "the column's earlier name: migrations rename it, keeping values"),
}
PARAMETER_KEYS: dict[str, tuple[tuple[type, ...], str]] = {
    "lint-ignore": ((str, list), LINT_IGNORE_HELP),
    "filter": ((str,), "what the parameter filters on, e.g. 'author.handle'"),
    "column": ((str,), "the column a path parameter addresses rows by, e.g. 'slug'"),
}
OPERATION_KEYS: dict[str, tuple[tuple[type, ...], str]] = {
    **DRAFT_KEYS,
    "lint-ignore": ((str, list), LINT_IGNORE_HELP),
    "resource": ((str,), "resource this operation works on"),
    "kind": (
        (str,),
        "list, create, read, replace, update, delete, custom; or an account "
        "operation: register, login, refresh, logout, me",
    ),
    "token-field": ((str,), "accounts: the response property the issued token goes in"),
    "page-size": ((int,), "default page size"),
    "max-page-size": ((int,), "largest page a client may ask for"),
    "sort": ((str, list), "default order, e.g. '-created_at' or ['name', 'id']"),
    "link": ((str,), "join table whose row for the caller this operation adds or removes"),
    "where": (
        (str,),
        "a list of the rows related to the caller, e.g. 'author.followers.follower_id = caller'",
    ),
    "children": ((str,), "'replace' lets this PUT or PATCH replace nested children"),
    "envelope": ((str, dict), "where a response puts its items, e.g. {items: data}"),
    "roles": ((str, list), "roles the caller needs one of, e.g. [staff]"),
    "public": ((bool,), "true: open to anyone on purpose, also in production"),
    "unknown-fields": ((str,), "'ignore': bodies may carry properties their schema lacks"),
    "errors": ((str,), ERRORS_HELP),
    "handler": ((str,), "the Python function serving it, e.g. 'shop.hooks:cancel_order'"),
    "transition": ((dict,), "move the row the path names to a state, e.g. {to: cancelled}"),
    "hooks": ((dict,), "functions around this write, e.g. {before-create: shop.hooks:price}"),
    "rate-limit": ((str, list), RATE_LIMIT_HELP),
    "idempotency": ((str,), IDEMPOTENCY_HELP),
    "require-if-match": ((bool,), IF_MATCH_HELP),
    "cache": ((str, int, bool), CACHE_HELP),
    "slo": ((dict,), SLO_HELP),
}
PATH_ITEM_KEYS = OPERATION_KEYS
SCHEME_KEYS: dict[str, tuple[tuple[type, ...], str]] = {
    "format": ((str,), "'jwt': the apiKey carries a JWT, e.g. 'Authorization: Token <jwt>'"),
    "prefix": ((str,), "the word before a JWT apiKey in Authorization, e.g. Token"),
}

# Parts of a response envelope an operation can place (`x-backsmith: {envelope: {...}}`).
ENVELOPE_PARTS = (
    "items",
    "wrapper",
    "cursor",
    "next",
    "total",
    "limit",
    "page",
    "offset",
    "has_more",
)

VISIBILITIES = tuple(v.value for v in Visibility)

METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")

# Keys the design names for later versions: say so instead of "unknown key".
_LATER = {key for key in POLICY_KEYS if key not in SERVED}


Level = dict[str, tuple[tuple[type, ...], str]]


def extensions(contract: Contract) -> Iterator[tuple[str, Any, Level]]:
    """Every `x-backsmith` object with its pointer and the vocabulary of its level."""
    document = contract.document
    yield "", document.get(EXTENSION), ROOT_KEYS
    components = document.get("components") or {}
    schemas = components.get("schemas") or {}
    if isinstance(schemas, dict):
        for name, schema in schemas.items():
            if isinstance(schema, dict):
                pointer = f"/components/schemas/{escape(name)}"
                yield pointer, schema.get(EXTENSION), SCHEMA_KEYS
                yield from _properties(pointer, schema, 0)
    schemes = components.get("securitySchemes") or {}
    if isinstance(schemes, dict):
        for name, scheme in schemes.items():
            if isinstance(scheme, dict):
                pointer = f"/components/securitySchemes/{escape(name)}"
                yield pointer, scheme.get(EXTENSION), SCHEME_KEYS
    parameters = components.get("parameters") or {}
    if isinstance(parameters, dict):
        for name, param in parameters.items():
            if isinstance(param, dict):
                yield f"/components/parameters/{escape(name)}", param.get(EXTENSION), PARAMETER_KEYS
    paths = document.get("paths") or {}
    for path, item in paths.items():
        if not isinstance(item, dict):
            continue
        pointer = f"/paths/{escape(path)}"
        yield pointer, item.get(EXTENSION), PATH_ITEM_KEYS
        yield from _parameters(pointer, item)
        for method in METHODS:
            if isinstance(item.get(method), dict):
                yield f"{pointer}/{method}", item[method].get(EXTENSION), OPERATION_KEYS
                yield from _parameters(f"{pointer}/{method}", item[method])


def _parameters(pointer: str, holder: dict[str, Any]) -> Iterator[tuple[str, Any, Level]]:
    for index, param in enumerate(holder.get("parameters") or []):
        if isinstance(param, dict) and EXTENSION in param:
            yield f"{pointer}/parameters/{index}", param[EXTENSION], PARAMETER_KEYS


def _properties(
    pointer: str, schema: dict[str, Any], depth: int
) -> Iterator[tuple[str, Any, Level]]:
    """Property-level extensions, also inside allOf members, nested objects and array items."""
    if depth > 16:
        return
    properties = schema.get("properties")
    if isinstance(properties, dict):
        for name, prop in properties.items():
            if isinstance(prop, dict):
                where = f"{pointer}/properties/{escape(name)}"
                yield where, prop.get(EXTENSION), PROPERTY_KEYS
                yield from _properties(where, prop, depth + 1)
    for key in ("allOf", "oneOf", "anyOf"):
        for index, part in enumerate(schema.get(key) or []):
            if isinstance(part, dict):
                yield from _properties(f"{pointer}/{key}/{index}", part, depth + 1)
    if isinstance(schema.get("items"), dict):
        yield from _properties(f"{pointer}/items", schema["items"], depth + 1)


def check_extensions(contract: Contract) -> list[Issue]:
    """Issues for every unknown key, wrong type or bad value in `x-backsmith` objects."""
    issues: list[Issue] = []
    for pointer, value, vocabulary in extensions(contract):
        if value is None:
            continue
        where = f"{pointer}/{EXTENSION}"
        if not isinstance(value, dict):
            issues.append(contract.issue(f"{EXTENSION} must be a mapping", where))
            continue
        for key, setting in value.items():
            issues.extend(_check_key(contract, where, key, setting, vocabulary))
    return issues


def _check_key(
    contract: Contract,
    where: str,
    key: str,
    setting: Any,
    vocabulary: dict[str, tuple[tuple[type, ...], str]],
) -> list[Issue]:
    pointer = f"{where}/{escape(key)}"
    if key not in vocabulary:
        if key in _LATER:
            message = f"{EXTENSION} key '{key}' is not supported by this version of backsmith"
        else:
            message = f"unknown {EXTENSION} key '{key}'"
            close = difflib.get_close_matches(key, list(vocabulary), n=1)
            message += f"; did you mean '{close[0]}'?" if close else ""
        allowed = ", ".join(sorted(vocabulary))
        found = [contract.issue(f"{message} (allowed here: {allowed})", pointer)]
        problem = policy_issue(key, setting) if key in _LATER else None
        return [*found, contract.issue(problem, pointer)] if problem else found
    types, _ = vocabulary[key]
    if not _fits(setting, types):
        expected = " or ".join(t.__name__ for t in types)
        return [contract.issue(f"{EXTENSION} '{key}' must be {expected}", pointer)]
    roles = key in ("roles", "admin-roles") and isinstance(setting, list)
    if roles and not (setting and all(isinstance(role, str) and role for role in setting)):
        return [contract.issue(f"{EXTENSION} '{key}' must list role names", pointer)]
    if key == "supplied-owner" and setting not in ("reject", "ignore"):
        return [contract.issue(f"{EXTENSION} 'supplied-owner' must be reject or ignore", pointer)]
    if key == "visibility" and setting not in VISIBILITIES:
        close = difflib.get_close_matches(str(setting), VISIBILITIES, n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        return [
            contract.issue(f"{EXTENSION} 'visibility' must be private or public{hint}", pointer)
        ]
    if key == "unknown-fields" and setting not in ("reject", "ignore"):
        return [contract.issue(f"{EXTENSION} 'unknown-fields' must be reject or ignore", pointer)]
    if key == "errors" and setting not in ("problem", "contract"):
        return [contract.issue(f"{EXTENSION} 'errors' must be problem or contract", pointer)]
    if key == "format" and setting != "jwt":
        return [contract.issue(f"{EXTENSION} 'format' can only be 'jwt'", pointer)]
    if key == "kind" and setting not in KINDS:
        close = difflib.get_close_matches(str(setting), KINDS, n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        return [contract.issue(f"unknown kind '{setting}'{hint}", pointer)]
    if key in ("page-size", "max-page-size", "max-body-size") and setting < 1:
        return [contract.issue(f"{EXTENSION} '{key}' must be at least 1", pointer)]
    if key == "children" and setting not in ("replace", "refuse"):
        return [contract.issue(f"{EXTENSION} 'children' must be 'replace' or 'refuse'", pointer)]
    if key == "relations":
        for name, value in setting.items():
            if not isinstance(value, str):
                where = f"{pointer}/{escape(str(name))}"
                return [contract.issue("a relation is named by <table>.<column>", where)]
    if key == "derive":
        for target, source in setting.items():
            if not isinstance(source, str):
                where = f"{pointer}/{escape(str(target))}"
                return [contract.issue("derive maps a field to the field it comes from", where)]
    if key == "envelope" and isinstance(setting, dict):
        for part, value in setting.items():
            where = f"{pointer}/{escape(str(part))}"
            if part not in ENVELOPE_PARTS:
                close = difflib.get_close_matches(str(part), ENVELOPE_PARTS, n=1)
                hint = f"; did you mean '{close[0]}'?" if close else ""
                return [contract.issue(f"unknown envelope part '{part}'{hint}", where)]
            if not isinstance(value, str):
                return [contract.issue(f"envelope '{part}' must name a property", where)]
    return []


def _fits(setting: Any, types: tuple[type, ...]) -> bool:
    """Whether a value has one of the accepted types (a bool is no int here)."""
    return isinstance(setting, types) and (bool in types or not isinstance(setting, bool))
