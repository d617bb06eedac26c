"""Valid requests for each operation, and the rows they address.

Everything the checks send starts from one valid request: its path filled from a stored
row (or a row made for it through the resource's own create), its body the contract's
example or one made like the bench's (`BodyMaker`), its credentials a token minted like the
bench's. A check then changes one part of it. An operation the suite cannot make a valid
request for says why, and its checks are not applicable.
"""

from __future__ import annotations

import itertools
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

from backsmith.bench.bodies import BodyMaker, NoBody, to_json
from backsmith.bench.callers import Minting, caller_for
from backsmith.bench.pool import RowPool, path_text, row_of
from backsmith.bench.requests import (
    body_for,
    param_value,
    parent_rows,
    request_target,
    row_address,
)
from backsmith.http.validation import SchemaValidator
from backsmith.model.expectations import Expectations
from backsmith.model.lifecycles import Lifecycle
from backsmith.model.policies import Idempotency, idempotency_of
from backsmith.model.types import ACCOUNT_KINDS, Kind, Model, Operation, ParamLocation, Resource
from backsmith.verify.suite.client import Answer, Client, Request

SERIAL_START = 7_000_000  # unique values start past every seeded row's


@dataclass(slots=True)
class Suite:
    """What every check reads: the model, the service and the rows known to be stored."""

    model: Model
    expected: dict[str, Expectations]
    client: Client
    pool: RowPool
    minting: Minting
    prefix: str = ""  # a path the service is mounted under (from --url)
    started_here: bool = True  # the service is backsmith's own, started by this run
    # Where this run's unique values start: 0 on a scratch service; for one at a URL, a
    # number from the clock, so a second run makes no value (or key) the first one made.
    fresh: int = 0
    seed: int = 20
    bodies: BodyMaker = field(init=False)
    serials: Iterator[int] = field(init=False)
    rnd: random.Random = field(init=False)
    validators: dict[str, SchemaValidator] = field(default_factory=dict)  # bodies', by operation

    def __post_init__(self) -> None:
        self.bodies = BodyMaker(self.model, self.pool, self.seed)
        self.serials = itertools.count(SERIAL_START + self.seed * 100_000 + self.fresh)
        self.rnd = random.Random(self.seed + self.fresh)

    def send(self, request: Request, patient: bool = True) -> Answer:
        return self.client.send(request, patient)

    def key(self) -> str:
        """A fresh Idempotency-Key, drawn from the run's seed (and `fresh`)."""
        return str(uuid.UUID(int=self.rnd.getrandbits(128), version=4))

    def body_errors(self, op: Operation, body: Any) -> str:
        """Why `body` breaks the operation's own body schema (the first error), or ""."""
        if op.body_validation is None:
            return ""
        if op.operation_id not in self.validators:
            self.validators[op.operation_id] = SchemaValidator(dict(op.body_validation))
        errors = self.validators[op.operation_id].errors(body)
        return f"{errors[0]['pointer']}: {errors[0]['detail']}" if errors else ""

    def resource_of(self, op: Operation) -> Resource | None:
        return self.model.resources.get(op.resource or "")

    def expects(self, op: Operation) -> Expectations:
        return self.expected.get(op.operation_id) or Expectations()


def unsupported(suite: Suite, op: Operation) -> str:
    """Why the suite makes no request for `op` at all, or ""."""
    if op.kind in ACCOUNT_KINDS:
        return f"account operation ({op.kind}): its tokens and passwords are not driven here"
    if op.kind == Kind.CUSTOM and not op.policies.serves and suite.started_here:
        return "custom operation with no handler: backsmith answers 501 until one is written"
    return ""


def valid_request(
    suite: Suite, op: Operation, row: dict[str, Any] | None = None, body: Any = None
) -> Request | str:
    """A request the contract says `op` serves, on `row` (else a stored one), with `body`
    (else a made one); a string says why none can be made."""
    why = unsupported(suite, op)
    if why:
        return why
    resource = suite.resource_of(op)
    address = row_address(op, resource)
    if isinstance(address, str):
        return address
    if row is None:
        rows = stored_rows(suite, op)
        if isinstance(rows, str):
            return rows
        row = rows[0]
    unnamed = [column for _, column in address if row.get(column) is None]
    if unnamed:
        return f"the row it would name has no {unnamed[0]} to put in its path"
    caller = caller_for(suite.model, op, suite.minting, suite.pool)
    if caller.reason and not carried_by_headers(suite, op):
        return caller.reason
    media_type = _media_type(op)
    if media_type is None:
        return f"its body is {', '.join(op.body_media_types)} only; the suite sends JSON"
    target = suite.prefix + request_target(op, address, row, suite.pool, resource)
    request = Request(op.method, target, media_type=media_type)
    for param in op.params:  # required headers the contract declares (an account token)
        if param.location == ParamLocation.HEADER and param.required:
            request = request.with_header(
                param.name, path_text(param_value(param.validation or {}))
            )
    if caller.header is not None:
        request = request.with_header(*caller.header)
    if idempotency_of(op) == Idempotency.REQUIRED:
        request = request.with_header("Idempotency-Key", suite.key())
    if op.policies.require_if_match and op.method in ("PUT", "PATCH", "DELETE"):
        request = request.with_header("If-Match", "*")
    if body is None and op.body_validation is not None:
        skip = frozenset(column for _, column in address)
        try:
            body = body_for(op, suite.bodies, next(suite.serials), skip)
        except NoBody as error:
            return str(error)
        if op.key_in_body and resource is not None:
            body = _with_key(suite, op, resource, row, body)
        wrong = suite.body_errors(op, body)
        examples = [e for e in suite.expects(op).examples if not suite.body_errors(op, e)]
        if wrong and not examples:
            return f"no body the contract accepts could be made ({wrong})"
        body = examples[0] if wrong else body  # the contract's own example, where made fail
    return request.with_body(body) if body is not None else request


def _with_key(
    suite: Suite, op: Operation, resource: Resource, row: dict[str, Any], body: Any
) -> Any:
    """A body naming its row by key (PUT /pets with the id inside): a stored row's key."""
    key = resource.key
    rows = (
        [row]
        if row.get(key.column) is not None
        else suite.pool.having(resource.table, [key.column])
    )
    item = body.get(op.body_wrapper) if op.body_wrapper and isinstance(body, dict) else body
    if not rows or not isinstance(item, dict) or op.key_in_body in item:
        return body
    item = {**item, op.key_in_body: to_json(rows[0][key.column], {})}
    return {**body, op.body_wrapper: item} if op.body_wrapper else item


def stored_rows(suite: Suite, op: Operation) -> list[dict[str, Any]] | str:
    """Rows `op`'s path parameters can name: stored ones, else parents' keys (a create under
    a parent); [{}] when it has none; a string when no row is known."""
    resource = suite.resource_of(op)
    address = row_address(op, resource)
    if isinstance(address, str):
        return address
    if not address:
        return [{}]
    assert resource is not None
    columns = [column for _, column in address]
    rows = suite.pool.having(resource.table, columns) or parent_rows(resource, address, suite.pool)
    if not rows and op.kind in (Kind.CREATE, Kind.LIST):
        rows = _free_scope(suite, op, resource, address)
    if not rows:
        return f"no stored rows of {resource.table} to address it with"
    return rows


def _free_scope(
    suite: Suite, op: Operation, resource: Resource, address: list[tuple[str, str]]
) -> list[dict[str, Any]]:
    """A scope no table holds (/accounts/{accountId}/apps with no accounts resource): any
    value its schema accepts names one, and the rows made under it keep it."""
    row = {}
    for name, column in address:
        if any(r.columns == (column,) for r in resource.relations):
            return []  # a real parent must exist: its rows are needed
        param = next((p for p in op.params if p.name == name), None)
        schema = dict(param.validation or {}) if param is not None else {}
        row[column] = suite.bodies.sample(schema, {}, SERIAL_START)
    return [row]


def carried_by_headers(suite: Suite, op: Operation) -> bool:
    """Whether the headers every request carries (--header) satisfy one of the operation's
    ways in: each of its schemes read from a header sent (an API key)."""
    sent = {name.lower() for name, _ in suite.client.headers}
    for alternative in op.access.requirements or ():
        schemes = [suite.model.schemes.get(name) for name, _ in alternative]
        if alternative and all(
            s is not None and s.location == ParamLocation.HEADER and s.parameter.lower() in sent
            for s in schemes
        ):
            return True
    return False


def creator(suite: Suite, resource: Resource) -> Operation | None:
    """The operation that creates rows of `resource` (a POST on its collection)."""
    found = [
        op
        for op in suite.model.operations
        if op.kind == Kind.CREATE and op.resource == resource.name and not op.key_in_body
    ]
    found.sort(key=lambda op: op.path.count("{"))  # /books before /authors/{id}/books
    return found[0] if found else None


def create_row(
    suite: Suite, resource: Resource, caller: tuple[str, str] | None = None
) -> dict[str, Any] | str:
    """A new row of `resource`, made through its create (as `caller`, a header, when
    given), keyed by column; a string says why none was made."""
    op = creator(suite, resource)
    if op is None:
        return f"{resource.name} has no create operation to make a row with"
    request = valid_request(suite, op)
    if isinstance(request, str):
        return f"cannot create a {resource.name}: {request}"
    if caller is not None:
        request = request.without_header("authorization").with_header(*caller)
    answer = suite.send(request)
    if not answer.ok:
        return f"{request.line} to make a row answered {answer.status}"
    item = answered_item(op, answer.json())
    if not isinstance(item, dict):
        return f"{request.line} answered no {resource.name} item"
    parents = stored_rows(suite, op)
    scope = parents[0] if isinstance(parents, list) else {}
    return {**scope, **row_of(resource, item)}


def answered_item(op: Operation, answer: Any) -> Any:
    """The item out of a write's or read's answer (inside its wrapper, if it has one)."""
    wrapper = op.response.envelope.wrapper if op.response is not None else None
    if wrapper and isinstance(answer, dict):
        return answer.get(wrapper)
    return answer


def ensure_rows(suite: Suite) -> list[str]:
    """A row made through the API for every resource that has none stored (a service at a
    URL may start empty), parents first; notes say which could not be made."""
    from backsmith.storage.tables import build_metadata

    notes = []
    for table in build_metadata(suite.model).sorted_tables:
        resource = suite.model.resource_for_table(table.name)
        if resource is None or suite.pool.of(table.name) or creator(suite, resource) is None:
            continue
        made = create_row(suite, resource)
        if isinstance(made, str):
            notes.append(made)
        else:
            suite.pool.rows.setdefault(table.name, []).append(made)
    return notes


def lifecycle_of(suite: Suite, resource: Resource | None) -> Lifecycle | None:
    found = suite.model.lifecycles.get(resource.table) if resource is not None else None
    return found if isinstance(found, Lifecycle) else None


def remember(suite: Suite, op: Operation, row: dict[str, Any], answer: Answer) -> None:
    """Keep a stored row as a write answered it, so later requests name it as it is now
    (a replace may change a slug the path names)."""
    resource = suite.resource_of(op)
    item = answered_item(op, answer.json())
    if resource is not None and isinstance(item, dict) and answer.ok:
        row.update(row_of(resource, item))


def with_path_param(op: Operation, target: str, name: str, text: str) -> str | None:
    """`target` with path parameter `name` spelled `text` (found by the path's template);
    None when the path has no such parameter."""
    template = (op.base_path + op.path).split("/")
    parts = urlsplit(target)
    sent = parts.path.split("/")
    offset = len(sent) - len(template)  # the segments of a prefix the service is under
    slot = "{" + name + "}"
    if slot not in template or offset < 0:
        return None
    sent[template.index(slot) + offset] = quote(text, safe="")
    return "/".join(sent) + (f"?{parts.query}" if parts.query else "")


def _media_type(op: Operation) -> str | None:
    """The JSON media type the body goes as; None when the body takes no JSON."""
    if op.body_validation is None or not op.body_media_types:
        return "application/json"
    if "application/json" in op.body_media_types:
        return "application/json"
    return next((m for m in op.body_media_types if m.endswith("json")), None)
