"""Auth: no credentials is a 401, a token without the required role a 403, and another
owner's row is not found (404) or forbidden (403).

Tokens are minted like the bench's, with the service's secret: an admin's for the valid
request, one holding only a role no contract declares for the wrong role, and for the
ownership probe two plain callers, one owning a row (made through the API as that caller
where the resource has a create, else a stored row) and one asking for it.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from backsmith.bench.callers import Caller, subject_for, token_caller
from backsmith.bench.pool import list_items, path_text
from backsmith.model.types import Kind, Operation, Owner, Resource
from backsmith.verify.suite.cases import Suite, create_row, creator, valid_request
from backsmith.verify.suite.client import Request
from backsmith.verify.suite.results import Outcome, Verdict, failed, not_applicable, passed

NO_ROLE = "backsmith-suite-no-role"
OWNER, OTHER = "backsmith-suite-owner", "backsmith-suite-other"
HIDDEN = frozenset({403, 404})
ROW_KINDS = (Kind.READ, Kind.UPDATE, Kind.REPLACE, Kind.DELETE)


def auth(suite: Suite, op: Operation) -> Verdict:
    request = valid_request(suite, op)
    if isinstance(request, str):
        return not_applicable(request)
    verdicts = [probe(suite, op, request) for probe in (_no_credentials, _wrong_role, _other_owner)]
    for verdict in verdicts:
        if verdict.outcome == Outcome.FAIL:
            return verdict
    applied = [v.reason for v in verdicts if v.outcome == Outcome.PASS]
    if not applied:
        return not_applicable("; ".join(v.reason for v in verdicts))
    return passed("; ".join(applied))


def _no_credentials(suite: Suite, op: Operation, request: Request) -> Verdict:
    if op.access.anonymous and not op.access.roles:
        return not_applicable("open operation (no credentials required)")
    bare = replace(request.without_header("authorization").without_header("cookie"), bare=True)
    answer = suite.send(bare)
    if answer.status != 401:
        return failed(
            f"no credentials answered {answer.status}, expected 401", bare.line, answer.status
        )
    return passed("no credentials: 401")


def _wrong_role(suite: Suite, op: Operation, request: Request) -> Verdict:
    if not op.access.roles:
        return not_applicable("declares no roles")
    caller = _caller(suite, op, [NO_ROLE])
    if caller.header is None:
        return not_applicable(caller.reason)
    sent = request.without_header("authorization").with_header(*caller.header)
    answer = suite.send(sent)
    if answer.status != 403:
        roles = ", ".join(op.access.roles)
        reason = f"a token without {roles} answered {answer.status}, expected 403"
        return failed(reason, sent.line, answer.status)
    return passed("wrong role: 403")


def _other_owner(suite: Suite, op: Operation, request: Request) -> Verdict:
    resource = suite.resource_of(op)
    owner = suite.model.owners.get(resource.table) if resource is not None else None
    if resource is None or owner is None:
        return not_applicable("its rows have no owner")
    moves = op.policies.transition is not None  # a transition moves the caller's own row
    if op.kind not in (*ROW_KINDS, Kind.LIST) and not moves:
        return not_applicable(f"a {op.kind} names no other owner's row")
    if owner.hops:
        return not_applicable(f"owned through references ({owner.describe()}): not probed")
    if owner.public and op.method == "GET":
        return not_applicable("public rows: anyone may read them")
    owned = _owned_row(suite, resource, owner)
    if isinstance(owned, str):
        return not_applicable(owned)
    row, stranger = owned
    caller = _caller(suite, op, list(op.access.roles), stranger)
    if caller.header is None:
        return not_applicable(caller.reason)
    if op.kind == Kind.LIST:
        return _listed(suite, op, request, caller.header, row, resource)
    made = valid_request(suite, op, row)
    if isinstance(made, str):
        return not_applicable(made)
    sent = made.without_header("authorization").with_header(*caller.header)
    answer = suite.send(sent)
    if answer.status not in HIDDEN:
        reason = f"another owner's row answered {answer.status}, expected 404 or 403"
        return failed(reason, sent.line, answer.status)
    return passed(f"another owner's row: {answer.status}")


def _listed(
    suite: Suite,
    op: Operation,
    request: Request,
    header: tuple[str, str],
    row: dict[str, Any],
    resource: Resource,
) -> Verdict:
    """A private row never shows in another caller's list (its first page is read)."""
    if suite.model.owners[resource.table].public:
        return not_applicable("public rows: anyone may list them")
    sent = request.without_header("authorization").with_header(*header)
    answer = suite.send(sent)
    key = resource.key
    shown = [item for item in list_items(op, answer.json()) if _same(item.get(key.name), row)]
    if shown:
        return failed("another owner's row is listed", sent.line, answer.status)
    return passed("another owner's rows: not listed")


def _same(value: Any, row: dict[str, Any]) -> bool:
    return value is not None and any(path_text(value) == path_text(v) for v in row.values())


def _owned_row(suite: Suite, resource: Resource, owner: Owner) -> tuple[dict[str, Any], str] | str:
    """A row one caller owns, and the subject of another caller."""
    subjects = _subjects(suite, resource, owner)
    op = creator(suite, resource)
    if op is not None:
        caller = _caller(suite, op, list(op.access.roles), subjects[0])
        if caller.header is not None:
            made = create_row(suite, resource, caller.header)
            if isinstance(made, dict):
                return made, subjects[1]
    for row in suite.pool.having(resource.table, [owner.column]):
        holder = path_text(row[owner.column])
        return row, next(s for s in (*subjects, OTHER) if s != holder)
    return f"no row of {resource.table} with an owner to ask for"


def _subjects(suite: Suite, resource: Resource, owner: Owner) -> tuple[str, str]:
    """Two callers: rows of the table the owner column refers to, where it refers to one."""
    relation = next((r for r in resource.relations if r.columns == (owner.column,)), None)
    if relation is not None:
        key = relation.target_columns[0]
        rows = suite.pool.having(relation.target, [key])
        if len(rows) >= 2:
            return path_text(rows[0][key]), path_text(rows[1][key])
    return OWNER, OTHER


def _caller(suite: Suite, op: Operation, roles: list[str], subject: str | None = None) -> Caller:
    """A plain caller's credentials (no admin role) for `op`."""
    if subject is None:
        subject = subject_for(suite.model, op, suite.pool)
    plain = replace(suite.minting, admin_roles=())
    return token_caller(suite.model, op, plain, subject, roles)
