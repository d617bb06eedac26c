"""The built-in accounts: which table holds them, what names one, where its hash goes.

Operations declared `x-backsmith: {kind: register | login | refresh | logout | me}` work
over one table of the contract, the one their schemas describe (users). An account is
named at login by a unique text column (email, username, ...); its password is stored as
an argon2id hash in a `password_hash`-style column, never as sent.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from backsmith.errors import Issue
from backsmith.model.types import ACCOUNT_KINDS, Accounts, FieldType, Operation, Resource

PASSWORD_COLUMNS = ("password_hash", "password_digest", "hashed_password", "encrypted_password")
IDENTIFIER_COLUMNS = ("email", "username", "login", "handle", "name")
ROLES_COLUMNS = ("roles", "role")


def hide_password_hashes(resource: Resource) -> Resource:
    """A resource whose password-hash columns the API never shows, filters or sorts on."""
    if not any(f.column in PASSWORD_COLUMNS for f in resource.fields):
        return resource
    fields = tuple(
        replace(f, hidden=True) if f.column in PASSWORD_COLUMNS else f for f in resource.fields
    )
    return replace(resource, fields=fields)


def read_accounts(
    contract: Any, resources: dict[str, Resource], operations: list[Operation]
) -> tuple[Accounts | None, list[Issue]]:
    """The accounts, or None when no operation declares one; issues for what is missing."""
    declared = [op for op in operations if op.kind in ACCOUNT_KINDS]
    if not declared:
        return None, []
    first = declared[0]
    named = {op.resource for op in declared if op.resource is not None}
    if len(named) > 1:
        message = f"account operations work on one table, not on {', '.join(sorted(named))}"
        return None, [contract.issue(message, first.pointer)]
    if not named:
        message = (
            "account operations need the accounts table: describe its rows in a schema they "
            "use, or name it with x-backsmith: {resource: users}"
        )
        return None, [contract.issue(message, first.pointer)]
    resource = resources[named.pop()]
    columns = {f.column: f for f in resource.fields}
    password = next((c for c in PASSWORD_COLUMNS if c in columns), None)
    if password is None:
        listed = ", ".join(PASSWORD_COLUMNS)
        message = f"the accounts table {resource.table} needs a column for the hash ({listed})"
        return None, [contract.issue(message, first.pointer)]
    unique = {f.column for f in resource.fields if f.unique and f.type == FieldType.STRING} | {
        i.columns[0] for i in resource.indexes if i.unique and len(i.columns) == 1
    }
    identifiers = tuple(c for c in IDENTIFIER_COLUMNS if c in unique)
    if not identifiers:
        message = (
            f"the accounts table {resource.table} needs a unique column a login names the "
            f"account by ({', '.join(IDENTIFIER_COLUMNS)})"
        )
        return None, [contract.issue(message, first.pointer)]
    roles = next((c for c in ROLES_COLUMNS if c in columns), None)
    return Accounts(resource.table, identifiers, password, roles), []


TOKEN_PROPERTIES = ("token", "access_token", "accessToken", "refresh_token", "refreshToken")


def account_column(message: str, accounts: Accounts) -> bool:
    """Whether a DBML warning is about what accounts fill themselves (the hash, tokens)."""
    table = accounts.table
    if f"column {table}.{accounts.password_column} is NOT NULL" in message:
        return True
    return any(
        f".{name} has no column in DBML table {table}" in message for name in TOKEN_PROPERTIES
    )
