"""The one place problems become responses: RFC 9457, or the error shape the contract declares.

Each operation's plan holds an `ErrorAnswerer` made once from its declared error answers
(`backsmith.model.error_shapes`): which status stands for a problem (a contract that names
422 and not 409 gets its duplicates as 422) and which body shape that status declares. A
problem is answered by walking that shape's nodes; no schema is read while serving.
"""

from __future__ import annotations

import logging
import re
import secrets
from datetime import UTC, datetime
from typing import Any

import orjson

from backsmith.contract.source import escape, unescape
from backsmith.errors import Problem
from backsmith.http.problems import PROBLEM_TYPE, problem_response
from backsmith.http.request import PLAN_KEY, REQUEST_ID_KEY, raw_path
from backsmith.http.response import Response
from backsmith.http.types import Scope
from backsmith.model.error_shapes import (
    PROBLEM_ANSWERS,
    Choice,
    Const,
    Each,
    ErrorAnswers,
    ErrorNode,
    ErrorShape,
    Fields,
    Fill,
    Obj,
    Value,
)

log = logging.getLogger("backsmith")

# jsonschema's wording for a missing property, whose pointer is the object that lacks it:
# the field is named in the message only.
_MISSING_PROPERTY = re.compile(r'^"(.+)" is a required property$')
# Where messages naming no field go in a field -> messages object that declares no key for
# them: Rails' name for them, whose errors object this shape comes from.
_NO_FIELD = "base"
# Enum members that may name a status, beside the problem's own slug and title.
_STATUS_NAMES: dict[int, tuple[str, ...]] = {
    400: ("badrequest", "invalidrequest", "invalidargument", "invalidinput", "malformed"),
    401: ("unauthorized", "unauthenticated", "notauthenticated", "authenticationrequired"),
    403: ("forbidden", "permissiondenied", "accessdenied", "notallowed"),
    404: ("notfound", "resourcenotfound"),
    405: ("methodnotallowed",),
    409: ("conflict", "alreadyexists", "duplicate", "duplicatekey", "resourceexists"),
    413: ("payloadtoolarge", "contenttoolarge", "requestentitytoolarge"),
    415: ("unsupportedmediatype",),
    422: ("unprocessableentity", "unprocessablecontent", "validationerror", "validationfailed"),
    429: ("toomanyrequests", "ratelimited", "ratelimitexceeded"),
    500: ("internalerror", "internalservererror", "internal", "servererror"),
    501: ("notimplemented", "unimplemented"),
    503: ("serviceunavailable", "unavailable"),
}
_OF_AN_ERROR = (Fill.FIELD, Fill.FIELD_PATH, Fill.POINTER, Fill.PARAMETER)
_FALLBACK_CHOICES = ("unknown", "error", "other", "generic")
_MISSING: Any = object()  # a value this problem has nothing for


class ErrorAnswerer:
    """How one operation answers its problems: the declared status and the declared body."""

    __slots__ = ("_answers", "_body_pointer", "_chosen")

    def __init__(self, answers: ErrorAnswers = PROBLEM_ANSWERS, body_pointer: str = "#") -> None:
        self._answers = answers
        self._body_pointer = [unescape(t) for t in body_pointer.split("/")[1:]]
        self._chosen: dict[int, tuple[int, ErrorShape | None]] = {}

    def choose(self, status: int) -> tuple[int, ErrorShape | None]:
        """The status answered for a problem of `status`, and its body shape (None: RFC 9457)."""
        chosen = self._chosen.get(status)
        if chosen is None:
            answered = self._answers.status_for(status)
            chosen = self._chosen[status] = (answered, self._answers.shape_for(answered))
        return chosen

    def response(self, problem: Problem, instance: str) -> Response:
        status, shape = self.choose(problem.status)
        if shape is None:
            return problem_response(problem, instance, status)
        facts = _Facts(problem, status, instance, shape, self._body_pointer)
        body = _render(shape.root, facts, None, False)
        headers = [(k.encode(), v.encode()) for k, v in problem.headers.items()]
        return Response(status, orjson.dumps(body), shape.media_type.encode(), headers)


def answer(problem: Problem, scope: Scope, shared: ErrorAnswerer) -> Response:
    """The response for a problem met while serving `scope`, in the shape its operation declares.

    A request no operation took (an unknown path, an undeclared method) has no plan in the
    scope and is answered by `shared`; the service's own paths (/healthz) have a plan of
    None and answer RFC 9457.
    """
    instance = raw_path(scope)
    answerer = scope[PLAN_KEY].errors if scope.get(PLAN_KEY) is not None else None
    if answerer is None:
        answerer = shared if PLAN_KEY not in scope else _RFC9457
    try:
        return answerer.response(problem, instance)
    except Exception:  # an answer must always go out: the standard one, and the fault logged
        log.exception("the declared error shape could not be filled for %s", instance)
        return problem_response(problem, instance)


_RFC9457 = ErrorAnswerer()


def server_problem(error: BaseException, scope: Scope) -> Problem:
    """A 500 that names the request's id and nothing of the fault; the log keeps the rest,
    once: the traceback under the same id."""
    given: bytes | None = scope.get(REQUEST_ID_KEY)
    request_id = given.decode() if given is not None else secrets.token_hex(16)
    instance = raw_path(scope)
    log.error(
        "unhandled error answering %s %s",
        scope.get("method", ""),
        instance,
        exc_info=error,
        extra={"request_id": request_id},
    )
    detail = f"An unexpected error occurred (request id {request_id})."
    # The request layer sends the id with every answer; without it, the problem does.
    return Problem(detail, headers={} if given is not None else {"x-request-id": request_id})


class _Facts:
    """What one answer is filled from."""

    __slots__ = ("entries", "instance", "joined", "problem", "status")

    def __init__(
        self,
        problem: Problem,
        status: int,
        instance: str,
        shape: ErrorShape,
        body_pointer: list[str],
    ) -> None:
        self.problem = problem
        self.status = status
        self.instance = instance
        # A problem without errors is listed as one error of its own.
        self.entries = [_Entry(e, body_pointer) for e in problem.errors] or [
            _Entry({"detail": problem.detail}, body_pointer)
        ]
        # A shape that cannot list errors gets them in its message.
        self.joined = problem.errors and not shape.lists_errors


class _Entry:
    """One error of a problem: its message, and where it points (a field or a parameter)."""

    __slots__ = ("detail", "field_path", "parameter", "pointer", "tokens")

    def __init__(self, error: dict[str, Any], body_pointer: list[str]) -> None:
        self.detail = str(error.get("detail") or "")
        self.parameter: str | None = error.get("parameter")
        pointer = str(error.get("pointer") or "#")
        self.pointer = None if self.parameter else pointer[1:]
        tokens = [unescape(t) for t in pointer.split("/")[1:]]
        if tokens[: len(body_pointer)] == body_pointer:
            tokens = tokens[len(body_pointer) :]  # names inside the body's wrapper
        missing = _MISSING_PROPERTY.match(self.detail)
        if missing and not self.parameter:  # point at the member that is missing
            tokens.append(missing.group(1))
            self.pointer = f"{self.pointer}/{escape(missing.group(1))}"
        self.tokens = [self.parameter] if self.parameter else tokens
        where = str(error.get("in") or "query") if self.parameter else "body"
        self.field_path = [where, *self.tokens]

    @property
    def field(self) -> str | None:
        return ".".join(self.tokens) or None

    @property
    def line(self) -> str:
        return f"{self.field}: {self.detail}" if self.field else self.detail


def _render(node: ErrorNode, facts: _Facts, entry: _Entry | None, strict: bool) -> Any:
    """The value of `node`; `strict`: _MISSING when a required member has nothing to hold."""
    if isinstance(node, Value):
        return _value(node, facts, entry)
    if isinstance(node, Const):
        return list(node.value) if isinstance(node.value, tuple) else node.value
    if isinstance(node, Obj):
        body: dict[str, Any] = {}
        for member in node.members:
            if not member.required and _nothing_by_field(member.node, facts, entry):
                continue
            value = _render(member.node, facts, entry, strict)
            if value is _MISSING:
                if not member.required:
                    continue
                if strict:
                    return _MISSING
                value = None if member.nullable or not isinstance(member.node, Value) else ""
            body[member.name] = value
        return body
    if isinstance(node, Each):
        entries = [entry] if entry is not None else facts.entries
        items = [_render(node.item, facts, e, False) for e in entries]
        return [item for item in items if item is not _MISSING]
    if isinstance(node, Fields):
        return _fields(node, facts, entry)
    if isinstance(node, Choice):
        for branch in node.branches:
            value = _render(branch, facts, entry, True)
            if value is not _MISSING:
                return value
        return _render(node.branches[0], facts, entry, strict)
    raise TypeError(f"not an error node: {node!r}")


def _value(node: Value, facts: _Facts, entry: _Entry | None) -> Any:
    problem = facts.problem
    fill = node.fill
    value: Any
    if entry is None and fill in _OF_AN_ERROR and problem.errors:
        entry = facts.entries[0]  # {"message", "field"}: the first error names the field
    if fill == Fill.MESSAGE:
        if entry is not None:
            value = entry.detail
        elif facts.joined:
            value = "; ".join(e.line for e in facts.entries)
        else:
            value = problem.detail
    elif fill == Fill.LINE:
        value = (entry or facts.entries[0]).line
    elif fill == Fill.TITLE:
        value = problem.title
    elif fill == Fill.CODE:
        value = problem.code
    elif fill == Fill.STATUS:
        value = facts.status
    elif fill == Fill.TYPE:
        value = PROBLEM_TYPE + problem.slug
    elif fill == Fill.INSTANCE:
        value = facts.instance
    elif fill == Fill.TIMESTAMP:
        value = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    elif fill == Fill.REQUEST_ID:
        value = problem.headers.get("x-request-id") or secrets.token_hex(8)
    elif entry is None:
        return _MISSING  # a field, a pointer or a parameter: only an error has one
    elif fill == Fill.FIELD:
        value = entry.field
    elif fill == Fill.FIELD_PATH:
        return list(entry.field_path)
    elif fill == Fill.POINTER:
        value = entry.pointer
    else:
        value = entry.parameter
    if value is None:
        return _MISSING
    if node.choices:
        value = _choose(node.choices, value, problem, facts.status)
    return str(value) if node.text else value


def _choose(choices: tuple[Any, ...], value: Any, problem: Problem, status: int) -> Any:
    """The enum member naming this problem: its value, slug, title, status or a synonym."""
    if value in choices:
        return value
    names = {_norm(problem.slug), _norm(problem.title), str(status), *_STATUS_NAMES.get(status, ())}
    for choice in choices:
        if _norm(str(choice)) in names:
            return choice
    for choice in choices:  # ERR_NOT_FOUND, RESOURCE_NOT_FOUND_ERROR
        if any(len(name) > 4 and name in _norm(str(choice)) for name in names):
            return choice
    return next((c for c in choices if _norm(str(c)) in _FALLBACK_CHOICES), choices[0])


def _nothing_by_field(node: ErrorNode, facts: _Facts, entry: _Entry | None) -> bool:
    """A field -> messages object the problem has no error for (a 404): left out if it may be."""
    return isinstance(node, Fields) and entry is None and not facts.problem.errors


def _fields(node: Fields, facts: _Facts, entry: _Entry | None) -> dict[str, Any]:
    """{field: [messages]}; messages naming no field under the declared key (or `base`)."""
    found: dict[str, list[str]] = {}
    spare = node.keys[0] if node.keys else _NO_FIELD
    for item in [entry] if entry is not None else facts.entries:
        field = item.field if node.open else None
        if field is not None:
            found.setdefault(field, []).append(item.detail)
        else:
            found.setdefault(spare, []).append(item.line)
    for key in node.required:  # a required key is always there
        found.setdefault(key, [facts.problem.detail])
    if node.many:
        return dict(found)
    return {key: "; ".join(messages) for key, messages in found.items()}


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())
