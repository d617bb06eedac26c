"""The error answers an operation declares: each status's body shape, and the statuses it uses.

A contract that declares its own error bodies (`{"errors": {"title": ["..."]}}`,
`{"error": {"code": "...", "message": "..."}}`) is answered in them. The declared schema
is read once, at model build, into a small tree of nodes (`backsmith.model.error_schemas`);
each node says which fact of a problem fills it. The server walks that tree per answer
(`backsmith.http.error_bodies`) and never looks at a schema while serving.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Fill(StrEnum):
    """The fact of a problem (or of one of its errors) a value is filled from."""

    MESSAGE = "message"  # the problem's detail; in an error entry, the entry's detail
    LINE = "line"  # an entry's detail with its field in front: "title: is too short"
    TITLE = "title"  # the problem's title: "Not Found"
    CODE = "code"  # its stable code (BSM402), or the declared enum member naming it
    STATUS = "status"  # the HTTP status, as a number or as text
    TYPE = "type"  # the problem type URI
    INSTANCE = "instance"  # the request path
    FIELD = "field"  # an entry's field: "title", "lines.2.quantity", or a parameter's name
    FIELD_PATH = "field-path"  # the same as a list of names: ["body", "title"]
    POINTER = "pointer"  # an entry's JSON pointer into the request body (RFC 6901)
    PARAMETER = "parameter"  # an entry's parameter name, when a parameter is at fault
    TIMESTAMP = "timestamp"  # when the answer was made
    REQUEST_ID = "request-id"  # the request id of a 500, else a fresh one


@dataclass(frozen=True, slots=True)
class Value:
    """A scalar filled from the problem; `text` sends a number as a string ("404")."""

    fill: Fill
    text: bool = False
    choices: tuple[Any, ...] = ()  # an enum: the member naming the problem is sent


@dataclass(frozen=True, slots=True)
class Const:
    """A value the schema fixes: `success: false`, `data: null`."""

    value: Any


@dataclass(frozen=True, slots=True)
class Member:
    name: str
    node: ErrorNode
    required: bool = False
    nullable: bool = False


@dataclass(frozen=True, slots=True)
class Obj:
    """An object of declared members."""

    members: tuple[Member, ...]


@dataclass(frozen=True, slots=True)
class Each:
    """An array with one item per error (one item from the problem itself when it has none)."""

    item: ErrorNode


@dataclass(frozen=True, slots=True)
class Fields:
    """An object of field name -> messages: `{"title": ["can't be blank"]}`.

    `keys` are declared members that take the messages naming no field (RealWorld's
    `body`), `required` those of them always sent; `open` is whether field names may be
    keys at all (additionalProperties is not false); `many` is whether each value is an
    array of messages or one string.
    """

    keys: tuple[str, ...] = ()
    required: tuple[str, ...] = ()
    open: bool = True
    many: bool = True


@dataclass(frozen=True, slots=True)
class Choice:
    """oneOf/anyOf: the first branch the error at hand can fill."""

    branches: tuple[ErrorNode, ...]


ErrorNode = Value | Const | Obj | Each | Fields | Choice


@dataclass(frozen=True, slots=True)
class ErrorShape:
    """A declared error body: its media type and how each part is filled."""

    media_type: str
    root: ErrorNode
    lists_errors: bool  # whether the errors are listed one by one (else joined in the message)
    pointer: str = field(default="", compare=False)  # where the schema is declared


# A problem's natural status -> the statuses that may stand for it, in order, when the
# operation does not declare it: FastAPI answers bad JSON with 422, Rails and RealWorld a
# duplicate with 422, Django REST framework a duplicate with 400.
STATUS_STAND_INS: dict[int, tuple[int, ...]] = {400: (422,), 409: (422, 400), 422: (400,)}


@dataclass(frozen=True, slots=True)
class ErrorAnswers:
    """How one operation answers problems, read from its declared error responses.

    `shapes` maps a declared status key ("422", "4XX", "default") to its shape, or to None
    where it is answered as problem+json; `family` is the shape most of the operation's
    4xx answers declare, used for a status declared without a body or not declared.
    """

    shapes: tuple[tuple[str, ErrorShape | None], ...] = ()
    family: ErrorShape | None = None
    statuses: frozenset[int] = frozenset()  # declared error statuses
    ranges: frozenset[str] = frozenset()  # declared ranges: "4XX", "5XX"

    def declares(self, status: int) -> bool:
        return status in self.statuses or f"{str(status)[0]}XX" in self.ranges

    def status_for(self, status: int) -> int:
        """The status the contract names for a problem of `status` (422 -> 400 and the like)."""
        if self.declares(status) or not (self.statuses or self.ranges):
            return status
        return next((s for s in STATUS_STAND_INS.get(status, ()) if self.declares(s)), status)

    def shape_for(self, status: int) -> ErrorShape | None:
        """The body shape of an answer with `status`; None: RFC 9457 problem+json."""
        shapes = dict(self.shapes)
        for key in (str(status), f"{str(status)[0]}XX", "default"):
            if key in shapes:
                return shapes[key]
        return self.family if status < 500 else None

    @property
    def shaped(self) -> bool:
        return self.family is not None or any(s is not None for _, s in self.shapes)


PROBLEM_ANSWERS = ErrorAnswers()


def family_of(shapes: Iterable[tuple[str, ErrorShape | None]]) -> ErrorShape | None:
    """The shape most 4xx statuses declare (the lowest status wins a tie), else the default's;
    None: problem+json."""
    shapes = list(shapes)
    declared = [(key, shape) for key, shape in shapes if key[0] == "4"]
    if not declared:
        return next((shape for key, shape in shapes if key == "default"), None)
    counts = Counter(shape for _, shape in declared)
    most = max(counts.values())
    return next(shape for _, shape in sorted(declared, key=_order) if counts[shape] == most)


def _order(entry: tuple[str, ErrorShape | None]) -> str:
    return entry[0].replace("X", "9")  # "404" before "4XX"


def shared_answers(families: Iterable[ErrorShape | None]) -> ErrorAnswers:
    """What a request no operation takes (404, 405) is answered with.

    The shape every operation declaring an error body declares, when they all agree;
    else problem+json. `families` holds each such operation's family (None: problem).
    """
    found = set(families)
    if len(found) != 1:
        return PROBLEM_ANSWERS
    return ErrorAnswers(family=found.pop())
