"""What serving a contract will warn about, found once when the model is built.

`check` prints these and `serve` logs them (see `security.exposure.startup_findings`, which
adds what only the settings and the compiled plans know), so the two never disagree. Each
is an `Issue` with its pointer and a fix; its severity is `warning`, or `not for
production` for what a production start refuses.
"""

from __future__ import annotations

import re
from typing import Any

from backsmith.contract.load import Contract
from backsmith.contract.source import escape
from backsmith.errors import Issue
from backsmith.model.accounts import PASSWORD_COLUMNS
from backsmith.model.naming import snake
from backsmith.model.schemas import branch_properties, component_name, deref, flatten
from backsmith.model.types import (
    ACCOUNT_KINDS,
    Accounts,
    FieldType,
    Operation,
    ParamRole,
    Resource,
    Scheme,
    SchemeKind,
)

WARNING = "warning"
PRODUCTION = "not for production"

# Names of values computed per row or per caller, which a stored column can only fake.
_COUNT = re.compile(r"^(?:(?P<stem>\w+?)_count|(?:count|num|number)_of_(?P<of>\w+))$")
_CALLER = re.compile(
    r"(?:^|_)(?P<verb>follow(?:ed|ing|s)?|liked?|favou?rited|bookmarked|subscribed|starred"
    r"|wishlisted|upvoted|downvoted|voted|hearted|clapped|retweeted|reposted)(?:_|$)"
)
_PASSWORD = re.compile(r"^(?:\w+_)?(?:password|passwd)$")
_JWT_WORDS = re.compile(r"\bjwts?\b|json web token|\bbearer\b", re.IGNORECASE)
_PREFIX = re.compile(r"""['"`]?\b(Bearer|Token|JWT)\s+['"`]?[<{\w]""")
# Response properties the accounts fill themselves.
_TOKEN_NAMES = frozenset(
    {"token", "access_token", "accessToken", "refresh_token", "refreshToken", "token_type"}
)


def contract_findings(
    contract: Contract,
    resources: dict[str, Resource],
    operations: list[Operation],
    schemes: dict[str, Scheme],
    accounts: Accounts | None,
) -> list[Issue]:
    """Every finding the contract alone decides, in a stable order."""
    found = refused_filters(contract, operations)
    found += unmapped_required(contract, operations, accounts)
    found += scheme_findings(contract, schemes, operations)
    found += stored_lookalikes(contract, resources)
    found += plain_passwords(contract, resources)
    return found


def refused_filters(contract: Contract, operations: list[Operation]) -> list[Issue]:
    """Query parameters a list declares but cannot serve: only they are refused (400)."""
    found = []
    for op in operations:
        for param in op.params:
            if param.role != ParamRole.REFUSED:
                continue
            pointer = declared_parameter_pointer(
                contract.document, op, param.name, str(param.location)
            )
            declared = param.declared is not None
            message = (
                f"{op.operation_id} cannot filter by query parameter '{param.name}': "
                f"{param.reason}; requests sending it answer 400, the rest of the operation "
                "is served"
            )
            fix = (
                "name a column or a relation path ending in a column in x-backsmith: {filter: ...}"
                if declared
                else "filter by a scalar property, or declare x-backsmith: {filter: ...} "
                "on the parameter"
            )
            found.append(contract.issue(message, pointer, WARNING, fix))
    return found


def declared_parameter_pointer(
    document: dict[str, Any], op: Operation, name: str, where: str
) -> str:
    """Where the parameter `name` in `where` is declared: the operation's list, then its
    path item's (a `$ref`ed one where it is used); the operation itself when neither."""
    item = (document.get("paths") or {}).get(op.path) or {}
    operation = item.get(op.method.lower()) or {}
    holders = (
        (op.pointer, operation.get("parameters")),
        (f"/paths/{escape(op.path)}", item.get("parameters")),
    )
    for pointer, params in holders:
        for index, raw in enumerate(params or ()):
            param = deref(document, raw)
            if isinstance(param, dict) and param.get("name") == name and param.get("in") == where:
                return f"{pointer}/parameters/{index}"
    return op.pointer


def unmapped_required(
    contract: Contract, operations: list[Operation], accounts: Accounts | None
) -> list[Issue]:
    """Required response properties no column, relation or computed value fills."""
    document = contract.document
    found: dict[tuple[str, str], Issue] = {}
    for op in operations:
        response = op.response
        if response is None or response.shape is None or response.schema is None:
            continue
        if op.kind in ACCOUNT_KINDS:
            continue  # their answers carry tokens the accounts make
        flat = flatten(document, response.schema)
        declared = branch_properties(document, response.schema)
        served = {member.name for member in response.shape.members}
        name = component_name(response.schema)
        pointer = (
            f"/components/schemas/{escape(name)}"
            if name
            else f"{op.pointer}/responses/{response.status}"
        )
        for required in flat.get("required") or ():
            if not isinstance(required, str) or required in served:
                continue
            if deref(document, declared.get(required, {})).get("writeOnly"):
                continue
            if accounts is not None and required in _TOKEN_NAMES:
                continue
            key = (pointer, required)
            if key in found:
                continue
            table = response.shape.resource
            message = (
                f"required property '{required}' maps to no column, relation or computed "
                f"value of {table}, so {op.operation_id} answers leave it out"
            )
            fix = (
                f"add a column {snake(required)} to {table}, name one with x-backsmith: "
                "{column: ...} on the property, or declare it computed (count, exists, sum)"
            )
            found[key] = contract.issue(message, f"{pointer}/required", WARNING, fix)
    return list(found.values())


def scheme_findings(
    contract: Contract, schemes: dict[str, Scheme], operations: list[Operation]
) -> list[Issue]:
    """Schemes served otherwise than their contract implies, or not verified at all."""
    used = {name for op in operations for r in op.access.requirements or () for name, _ in r}
    declared = (contract.document.get("components") or {}).get("securitySchemes") or {}
    found = []
    for name, scheme in schemes.items():
        pointer = f"/components/securitySchemes/{escape(name)}"
        spec = deref(contract.document, declared.get(name))
        spec = spec if isinstance(spec, dict) else {}
        text = " ".join(str(spec.get(k, "")) for k in ("description", "bearerFormat"))
        if scheme.kind == SchemeKind.API_KEY and scheme.parameter == "authorization":
            said = _JWT_WORDS.search(text)
            if said is not None:
                prefixes = [m.group(1) for m in _PREFIX.finditer(text) if m.group(1) != "JWT"]
                word = prefixes[0] if prefixes else "Bearer"
                message = (
                    f"apiKey scheme '{name}' in the Authorization header is served as keys "
                    f"backsmith keeps (backsmith keys create), but its description speaks of "
                    f"'{said.group(0)}'"
                )
                fix = (
                    f"if clients send a JWT, declare x-backsmith: {{format: jwt, prefix: {word}}}"
                    " on the scheme"
                )
                found.append(contract.issue(message, pointer, WARNING, fix))
        elif scheme.kind == SchemeKind.UNSUPPORTED and name in used:
            basic = scheme.type == "http" and str(spec.get("scheme", "")).lower() == "basic"
            reason = (
                "http basic checks the built-in accounts, and no operation declares them"
                if basic
                else scheme.reason
            )
            message = (
                f"security scheme '{name}' cannot be checked: {reason}; credentials sent for "
                "it are never accepted"
            )
            fix = (
                "declare the built-in accounts (x-backsmith: {kind: register | login | me} on "
                "their operations, over a table with a password_hash column), or use a bearer "
                "scheme"
                if basic
                else "use http bearer, oauth2, openIdConnect or an apiKey scheme"
            )
            found.append(contract.issue(message, pointer, WARNING, fix))
    return found


def stored_lookalikes(contract: Contract, resources: dict[str, Resource]) -> list[Issue]:
    """Columns made from names of computed values (`reviewsCount`, `isFollowing`)."""
    found = []
    raw_schemas = (contract.document.get("components") or {}).get("schemas") or {}
    for resource in resources.values():
        if resource.source != "schema" or resource.schema is None:
            continue  # a DBML column is stored on purpose
        ext = flatten(contract.document, raw_schemas.get(resource.schema)).get("x-backsmith")
        computed = (ext or {}).get("computed") if isinstance(ext, dict) else None
        for field in resource.fields:
            if field.hidden or field.primary_key or field.name in (computed or {}):
                continue
            name = snake(field.name)
            pointer = (
                f"/components/schemas/{escape(resource.schema)}/properties/{escape(field.name)}"
            )
            stored = f"{resource.schema}.{field.name} is stored as column {resource.table}."
            counted = _COUNT.match(name)
            caller = _CALLER.search(name)
            if field.type == FieldType.INTEGER and counted:
                stem = counted.group("stem") or counted.group("of")
                message = (
                    f"{stored}{field.column}, but its name says it counts {stem}: clients "
                    "write any number there, and it never follows the rows"
                )
                fix = (
                    f"declare x-backsmith: {{count: {stem}}} on the property (rows of a table "
                    f"that refers to {resource.table}), so it is counted, never stored"
                )
            elif field.type == FieldType.BOOLEAN and caller:
                message = (
                    f"{stored}{field.column}, but its name says whether the caller "
                    f"{caller.group('verb')} it: one stored value would answer every caller"
                )
                fix = (
                    "declare x-backsmith: {exists: <relation>} on the property (rows that "
                    "name the caller, such as a join table), so it is computed per caller"
                )
            else:
                continue
            found.append(contract.issue(message, pointer, WARNING, fix))
    return found


def plain_passwords(contract: Contract, resources: dict[str, Resource]) -> list[Issue]:
    """Password columns that would hold what clients send: the password itself."""
    found = []
    for resource in resources.values():
        for field in resource.fields:
            column = field.column.lower()
            if field.hidden or column in PASSWORD_COLUMNS or not _PASSWORD.match(column):
                continue
            if resource.schema is not None:
                schema = escape(resource.schema)
                pointer = f"/components/schemas/{schema}/properties/{escape(field.name)}"
            else:
                pointer = ""
            message = (
                f"{resource.table}.{field.column} stores passwords as clients send them, "
                "in plain text"
            )
            fix = (
                "let the built-in accounts keep it (x-backsmith: {kind: register} on the sign-up "
                "operation, a password_hash column in place of this one), which stores argon2id "
                "hashes only"
            )
            found.append(contract.issue(message, pointer, PRODUCTION, fix))
    return found


def security_findings(gaps: list[Issue]) -> list[Issue]:
    """Operations whose security cannot be verified: refused in production."""
    fix = "declare a scheme this version checks (http bearer, oauth2, openIdConnect, apiKey)"
    return [Issue(gap.message, gap.file, gap.line, gap.pointer, PRODUCTION, fix) for gap in gaps]
