"""CRUD flows: for each resource, create -> read -> list contains it -> update -> read shows
it -> delete -> read is 404, through the operations the contract declares for it.

Each operation the flow goes through gets the flow's verdict for its own steps: a pass, the
failure of its step, or not applicable when an earlier step stopped the flow.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from backsmith.bench.bodies import body_schema, resolve
from backsmith.bench.pool import path_text, row_of
from backsmith.model.types import Kind, Operation, Resource
from backsmith.verify.suite.answers import nonconformity
from backsmith.verify.suite.cases import Suite, answered_item, creator, stored_rows, valid_request
from backsmith.verify.suite.client import Answer, Request
from backsmith.verify.suite.paging import pages
from backsmith.verify.suite.results import Verdict, failed, not_applicable, passed

FLOW_KINDS = (Kind.CREATE, Kind.READ, Kind.LIST, Kind.UPDATE, Kind.REPLACE, Kind.DELETE)
PLAIN = frozenset({"integer", "boolean", "string"})  # values any service answers as sent


class Stop(Exception):
    """A step failed: the verdict of its operation."""

    def __init__(self, op: Operation, verdict: Verdict) -> None:
        super().__init__(verdict.reason)
        self.op = op
        self.verdict = verdict


@dataclass(frozen=True, slots=True)
class Flow:
    resource: Resource
    create: Operation
    read: Operation
    listing: Operation | None
    update: Operation | None
    delete: Operation | None

    @property
    def operations(self) -> list[Operation]:
        found = [self.create, self.listing, self.read, self.update, self.delete]
        return [op for op in found if op is not None]


def flows(suite: Suite, chosen: list[Operation]) -> dict[str, Verdict]:
    """The flow verdict of every chosen operation (n/a for those no flow goes through)."""
    verdicts: dict[str, Verdict] = {}
    for resource in suite.model.resources.values():
        flow = find_flow(suite, resource)
        if flow is None or not any(op in chosen for op in flow.operations):
            continue
        verdicts.update(run_flow(suite, flow))
    return {
        op.operation_id: verdicts.get(op.operation_id) or not_applicable(_why_outside(suite, op))
        for op in chosen
    }


def find_flow(suite: Suite, resource: Resource) -> Flow | None:
    create = creator(suite, resource)
    if create is None:
        return None
    item_path = None
    on_item: dict[Kind, Operation] = {}
    depth = create.path.count("/") + 1
    for op in suite.model.operations:
        under = op.path.startswith(create.path + "/{") and op.path.count("/") == depth
        if op.resource == resource.name and under and op.base_path == create.base_path:
            item_path = item_path or op.path
            if op.path == item_path:
                on_item.setdefault(op.kind, op)
    listed = next(
        (
            op
            for op in suite.model.operations
            if op.kind == Kind.LIST and op.path == create.path and op.resource == resource.name
        ),
        None,
    )
    read = on_item.get(Kind.READ)
    if read is None:
        return None
    update = on_item.get(Kind.UPDATE) or on_item.get(Kind.REPLACE)
    return Flow(resource, create, read, listed, update, on_item.get(Kind.DELETE))


def run_flow(suite: Suite, flow: Flow) -> dict[str, Verdict]:
    done: list[Operation] = []
    try:
        row, sent = _create(suite, flow)
        done.append(flow.create)
        _read_shows(suite, flow, row, sent)
        done.append(flow.read)
        if flow.listing is not None:
            _listed(suite, flow, row)
            done.append(flow.listing)
        if flow.update is not None:
            _update(suite, flow, row)
            done.append(flow.update)
        if flow.delete is not None:
            _delete(suite, flow, row)
            done.append(flow.delete)
    except Stop as stop:
        return _stopped(flow, done, stop)
    steps = " -> ".join(_step_names(flow))
    return {op.operation_id: passed(steps) for op in done}


def _create(suite: Suite, flow: Flow) -> tuple[dict[str, Any], Mapping[str, Any]]:
    """The created row (keyed by column) and the item the create sent."""
    request, answer = _sent(suite, flow.create, None, "create")
    item = answered_item(flow.create, answer.json())
    if not isinstance(item, dict):
        raise Stop(flow.create, failed("create answered no item", request.line, answer.status))
    parents = stored_rows(suite, flow.create)
    scope = parents[0] if isinstance(parents, list) else {}
    return {**scope, **row_of(flow.resource, item)}, _sent_item(flow.create, request.body)


def _read_shows(
    suite: Suite, flow: Flow, row: dict[str, Any], sent: Mapping[str, Any], after: str = "create"
) -> None:
    request, answer = _sent(suite, flow.read, row, f"read after {after}")
    item = answered_item(flow.read, answer.json())
    properties = _plain_properties(flow.create if after == "create" else flow.update)
    for name, value in sent.items():
        if name in properties and isinstance(item, dict) and name in item and item[name] != value:
            reason = f"read after {after} shows {name}={item[name]!r}, {after} sent {value!r}"
            raise Stop(flow.read, failed(reason, request.line, answer.status))


def _listed(suite: Suite, flow: Flow, row: dict[str, Any]) -> None:
    assert flow.listing is not None
    request = _request(suite, flow.listing, row)
    key = flow.resource.key
    wanted = path_text(row.get(key.column))
    for answer, items in pages(flow.listing, request, suite.send):
        _require(suite, flow.listing, answer, request.line, "list")
        if any(path_text(item.get(key.name)) == wanted for item in items):
            return
    reason = f"the created {flow.resource.name} ({key.name}={wanted}) is on no page of the list"
    raise Stop(flow.listing, failed(reason, request.line))


def _update(suite: Suite, flow: Flow, row: dict[str, Any]) -> None:
    assert flow.update is not None
    request, answer = _sent(suite, flow.update, row, "update")
    item = answered_item(flow.update, answer.json())
    if isinstance(item, dict):
        row.update(row_of(flow.resource, item))  # a replace may change a slug the path names
    _read_shows(suite, flow, row, _sent_item(flow.update, request.body), "update")


def _delete(suite: Suite, flow: Flow, row: dict[str, Any]) -> None:
    assert flow.delete is not None
    _sent(suite, flow.delete, row, "delete")
    read = valid_request(suite, flow.read, row)
    assert not isinstance(read, str)
    gone = suite.send(read)
    if gone.status != 404:
        reason = f"read after delete answered {gone.status}, expected 404"
        raise Stop(flow.delete, failed(reason, read.line, gone.status))


def _request(suite: Suite, op: Operation, row: dict[str, Any] | None) -> Request:
    """The step's request on `row`; the step is not applicable when none can be made."""
    request = valid_request(suite, op, row)
    if isinstance(request, str):
        raise Stop(op, not_applicable(request))
    return request


def _sent(
    suite: Suite, op: Operation, row: dict[str, Any] | None, step: str
) -> tuple[Request, Answer]:
    """The step's request sent, its answer a success the contract declares."""
    request = _request(suite, op, row)
    answer = suite.send(request)
    _require(suite, op, answer, request.line, step)
    return request, answer


def _require(suite: Suite, op: Operation, answer: Answer, line: str, step: str) -> None:
    if not answer.ok:
        raise Stop(op, failed(f"{step} answered {answer.status}", line, answer.status))
    problem = nonconformity(suite.expects(op), answer)
    if problem:
        raise Stop(op, failed(f"{step}: {problem}", line, answer.status))


def _sent_item(op: Operation | None, body: Any) -> Mapping[str, Any]:
    if op is not None and op.body_wrapper and isinstance(body, dict):
        body = body.get(op.body_wrapper)
    return body if isinstance(body, dict) else {}


def _plain_properties(op: Operation | None) -> set[str]:
    """Body properties whose values come back as sent: no format to normalise, no secret."""
    if op is None or op.body_validation is None:
        return set()
    schema, defs = body_schema(op)
    found = set()
    for name, prop in (schema.get("properties") or {}).items():
        prop = resolve(prop, defs)
        kind = prop.get("type")
        types = set(kind) if isinstance(kind, list) else {kind}
        plain = types - {"null"} <= PLAIN and "format" not in prop and not prop.get("writeOnly")
        if plain and types - {"null"}:
            found.add(name)
    return found


def _stopped(flow: Flow, done: list[Operation], stop: Stop) -> dict[str, Verdict]:
    verdicts = {op.operation_id: passed() for op in done if op is not stop.op}
    verdicts[stop.op.operation_id] = stop.verdict
    step = stop.op.operation_id
    for op in flow.operations:
        verdicts.setdefault(op.operation_id, not_applicable(f"the flow stopped at {step}"))
    return verdicts


def _step_names(flow: Flow) -> list[str]:
    names = ["create", "read"]
    names += ["list"] if flow.listing else []
    names += ["update", "read"] if flow.update else []
    names += ["delete", "read 404"] if flow.delete else []
    return names


def _why_outside(suite: Suite, op: Operation) -> str:
    resource = suite.resource_of(op)
    flow = find_flow(suite, resource) if resource is not None else None
    if resource is None or op.kind not in FLOW_KINDS:
        return f"a {op.kind} operation is no step of a CRUD flow"
    if flow is None:
        return f"{resource.name} has no create and read of one item to make a flow of"
    steps = ", ".join(o.operation_id for o in flow.operations)
    return f"the flow of {resource.name} goes through {steps}"
