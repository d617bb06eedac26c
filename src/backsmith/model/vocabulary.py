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

EXTENSION = "x-backsmith"
KINDS = ("list", "create", "read", "replace", "update", "delete", "custom")

# key -> (accepted types, description); the description feeds `check` messages and docs.
ROOT_KEYS: dict[str, tuple[tuple[type, ...], str]] = {
    "dbml": ((str,), "path of the DBML model, relative to the contract"),
    "database": ((str,), "default database URL"),
    "page-size": ((int,), "default page size of list operations"),
    "max-page-size": ((int,), "largest page a client may ask for"),
    "max-body-size": ((int,), "largest request body, in bytes"),
}
SCHEMA_KEYS: dict[str, tuple[tuple[type, ...], str]] = {
    "table": ((str,), "table that stores this schema's items"),
    "resource": ((str,), "resource name this schema describes"),
}
OPERATION_KEYS: dict[str, tuple[tuple[type, ...], str]] = {
    "resource": ((str,), "resource this operation works on"),
    "kind": ((str,), "list, create, read, replace, update, delete or custom"),
    "page-size": ((int,), "default page size"),
    "max-page-size": ((int,), "largest page a client may ask for"),
    "sort": ((str, list), "default order, e.g. '-created_at' or ['name', 'id']"),
}
PATH_ITEM_KEYS = OPERATION_KEYS

METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")

# Keys the design names for later versions: say so instead of "unknown key".
_LATER = {
    "roles",
    "owner",
    "rate-limit",
    "idempotency",
    "slo",
    "handler",
    "public",
    "link",
    "children",
    "derive",
    "filter",
    "envelope",
    "column",
    "renamed-from",
}


def extensions(contract: Contract) -> Iterator[tuple[str, dict[str, Any], dict[str, Any]]]:
    """Every `x-backsmith` object with its pointer and the vocabulary of its level."""
    document = contract.document
    yield "", document.get(EXTENSION), ROOT_KEYS
    schemas = document.get("components", {}).get("schemas", {})
    if isinstance(schemas, dict):
        for name, schema in schemas.items():
            if isinstance(schema, dict):
                pointer = f"/components/schemas/{escape(name)}"
                yield pointer, schema.get(EXTENSION), SCHEMA_KEYS
    paths = document.get("paths") or {}
    for path, item in paths.items():
        if not isinstance(item, dict):
            continue
        pointer = f"/paths/{escape(path)}"
        yield pointer, item.get(EXTENSION), PATH_ITEM_KEYS
        for method in METHODS:
            if isinstance(item.get(method), dict):
                yield f"{pointer}/{method}", item[method].get(EXTENSION), OPERATION_KEYS


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
        return [contract.issue(f"{message} (allowed here: {allowed})", pointer)]
    types, _ = vocabulary[key]
    if not isinstance(setting, types) or isinstance(setting, bool):
        expected = " or ".join(t.__name__ for t in types)
        return [contract.issue(f"{EXTENSION} '{key}' must be {expected}", pointer)]
    if key == "kind" and setting not in KINDS:
        close = difflib.get_close_matches(str(setting), KINDS, n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        return [contract.issue(f"unknown kind '{setting}'{hint}", pointer)]
    if key in ("page-size", "max-page-size", "max-body-size") and setting < 1:
        return [contract.issue(f"{EXTENSION} '{key}' must be at least 1", pointer)]
    return []
