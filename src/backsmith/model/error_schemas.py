"""Declared error bodies -> error shapes: which property holds what, found by structure.

A property is placed by its type and its place first, its name second: a string beside a
code is a message, an array of objects is the list of errors (one item per error), an
object of arrays of strings is field -> messages, an integer `code` is the status. Names
only break ties (`message`, `detail`, `developerMessage`, `title`, `status`, `field`,
`pointer`...), so contracts no one here wrote are read the same way. A schema that holds no
message, or requires a property no problem can fill, is not used: its errors stay
problem+json and `check` says why, pointing at it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from backsmith.contract.source import escape
from backsmith.errors import Issue
from backsmith.model.error_shapes import (
    Choice,
    Const,
    Each,
    ErrorAnswers,
    ErrorNode,
    ErrorShape,
    Fields,
    Fill,
    Member,
    Obj,
    Value,
    family_of,
)
from backsmith.model.schemas import deref, flatten, is_nullable, schema_types

PROBLEM_MEDIA = "application/problem+json"

_MESSAGES = {"message", "msg", "detail", "details", "description", "reason", "text", "errormsg"}
_TITLES = {"title", "summary", "reasonphrase", "statustext"}
_CODES = {"code", "errorcode", "errortype", "errorkey", "errorname", "kind", "type"}
_STATUSES = {"status", "statuscode", "httpstatus", "httpstatuscode", "httpcode"}
_INSTANCES = {"instance", "path", "url", "uri", "requesturi", "requestpath", "endpoint"}
_FIELDS = {
    "field",
    "fieldname",
    "property",
    "propertyname",
    "propertypath",
    "attribute",
    "attr",
    "param",
    "parameter",
    "name",
    "key",
    "path",
    "loc",
    "location",
    "target",
}
_POINTERS = {"pointer", "jsonpointer"}
_TIMESTAMPS = {"timestamp", "time", "datetime", "date", "occurredat", "at"}
_REQUEST_IDS = {"id", "requestid", "traceid", "correlationid", "errorid", "incidentid", "logid"}
_LINKS = {"href", "link", "documentationurl", "docurl", "docsurl", "helpurl", "moreinfo"}
_LANGUAGES = {"lang", "language", "locale"}
_SUCCESS = {"success", "ok", "succeeded", "successful"}
_FAILED = {"error", "failed", "failure", "iserror", "haserror", "haserrors"}
# Free-form objects that hold the errors by field when their name says so.
_COLLECTIONS = {"errors", "details", "fields", "fielderrors", "validationerrors", "messages"}
_URI_FORMATS = {"uri", "uri-reference", "url", "iri", "iri-reference"}
_MAX_DEPTH = 8

Issuer = Callable[..., Issue]


def read_error_answers(
    document: dict[str, Any],
    op: dict[str, Any],
    pointer: str,
    problem_only: bool,
    issue: Issuer,
    reader: ShapeReader | None = None,
) -> tuple[ErrorAnswers, list[Issue]]:
    """The error answers one operation declares; warnings for bodies it cannot fill.

    `problem_only`: `x-backsmith: {errors: problem}` keeps RFC 9457 for every answer.
    """
    responses = op.get("responses") or {}
    keys = {str(key): str(key).upper() if str(key) != "default" else "default" for key in responses}
    statuses = frozenset(int(k) for k in keys.values() if k.isdigit() and k[0] in "45")
    ranges = frozenset(k for k in keys.values() if k in ("4XX", "5XX"))
    if problem_only:
        return ErrorAnswers(statuses=statuses, ranges=ranges), []
    reader = reader or ShapeReader(document)
    shapes: list[tuple[str, ErrorShape | None]] = []
    warnings: list[Issue] = []
    for raw, response in responses.items():
        key = keys[str(raw)]
        if not (key in ranges or key == "default" or (key.isdigit() and int(key) in statuses)):
            continue
        where = _target(response) or f"{pointer}/responses/{escape(str(raw))}"
        read = reader.response(deref(document, response), where)
        if not read.body:
            continue  # no body declared: the operation's family answers it
        shapes.append((key, read.shape))
        if read.unfit is not None:
            warnings.append(issue(read.unfit[0], read.unfit[1], severity="warning"))
    return ErrorAnswers(tuple(shapes), family_of(shapes), statuses, ranges), warnings


def problem_only(document: dict[str, Any], item: dict[str, Any], op: dict[str, Any]) -> bool:
    """Whether `x-backsmith: {errors: problem}` (operation, path item or root, nearest first)
    keeps RFC 9457 for this operation's errors."""
    for holder in (op, item, document):
        ext = holder.get("x-backsmith")
        if isinstance(ext, dict) and "errors" in ext:
            return bool(ext["errors"] == "problem")
    return False


def _target(ref: Any) -> str | None:
    """The pointer a local `$ref` names (`/components/responses/GenericError`)."""
    if isinstance(ref, dict) and isinstance(ref.get("$ref"), str) and ref["$ref"].startswith("#"):
        return str(ref["$ref"][1:])
    return None


def _types(schema: Mapping[str, Any]) -> set[str]:
    types = schema_types(dict(schema)) - {"null"}
    if not types:
        if "properties" in schema or "additionalProperties" in schema:
            return {"object"}
        if "items" in schema:
            return {"array"}
    return types


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _is_message(name: str) -> bool:
    return name in _MESSAGES or name.endswith(("message", "description"))


class Read(NamedTuple):
    """One declared error response: whether it declares a body, the shape it is answered
    in (None: RFC 9457), and, where its body cannot be filled, (why, where)."""

    body: bool
    shape: ErrorShape | None = None
    unfit: tuple[str, str] | None = None


NO_BODY = Read(False)


class ShapeReader:
    """Reads declared error responses into shapes, each response once per model build."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self._read: dict[int, Read] = {}

    def response(self, response: Any, where: str) -> Read:
        if not isinstance(response, dict):
            return NO_BODY
        if id(response) not in self._read:
            self._read[id(response)] = self._response(response, where)
        return self._read[id(response)]

    def _response(self, response: dict[str, Any], where: str) -> Read:
        content = response.get("content")
        if not isinstance(content, dict) or not content:
            return NO_BODY
        bases = {str(m).split(";")[0].strip().lower(): str(m) for m in content}
        if PROBLEM_MEDIA in bases:
            return Read(True)
        json_media = [m for base, m in bases.items() if base.endswith("json")]
        if not json_media:
            declared = ", ".join(sorted(bases))
            why = f"errors declared as {declared} are answered as {PROBLEM_MEDIA}: "
            return Read(True, None, (why + "backsmith answers errors in JSON", where))
        media = bases.get("application/json", json_media[0])
        body = content[media] if isinstance(content[media], dict) else {}
        schema = body.get("schema")
        if not isinstance(schema, dict) or not schema:
            return NO_BODY  # any body will do: the operation's family answers it
        at = _target(schema) or f"{where}/content/{escape(media)}/schema"
        flat = flatten(self.document, schema)
        if not _types(flat) and not (flat.get("oneOf") or flat.get("anyOf")):
            return NO_BODY  # a schema that constrains nothing: the same
        root = self.node("", schema, entry=False, hint=False, siblings=(), required=True)
        if root is None or isinstance(root, str) or not _holds_message(root):
            why = root if isinstance(root, str) else "no property holds a message"
            if root is None:
                why = "its type is not an object, an array or a string"
            message = (
                f"this error body cannot be filled from a problem ({why}); those errors are "
                f"answered as {PROBLEM_MEDIA} (or say so with x-backsmith errors: problem)"
            )
            return Read(True, None, (message, at))
        return Read(True, ErrorShape(media, root, _lists_errors(root), at))

    def node(
        self,
        name: str,
        schema: Any,
        entry: bool,
        hint: bool,
        siblings: tuple[str, ...],
        required: bool,
        depth: int = 0,
    ) -> ErrorNode | str | None:
        """The node for one property (None: leave it out; a string: why it cannot be filled)."""
        flat = flatten(self.document, schema)
        if depth > _MAX_DEPTH:
            return None
        branches = flat.get("oneOf") or flat.get("anyOf")
        if isinstance(branches, list) and not flat.get("properties"):
            found = [
                self.node(name, b, entry, hint, siblings, required, depth + 1) for b in branches
            ]
            usable = tuple(n for n in found if n is not None and not isinstance(n, str))
            return Choice(usable) if usable else None
        if "const" in flat and not isinstance(flat["const"], dict | list):
            return Const(flat["const"])
        types = _types(flat)
        key = _norm(name)
        if "boolean" in types and len(types) == 1:
            return self._flag(key, flat)
        if "array" in types:
            return self._array(key, flat, entry, depth)
        if "object" in types:
            return self._object(key, flat, entry, required, depth)
        if types & {"string", "integer", "number"} or (not types and not name):
            return self._scalar(key, flat, types, entry, hint, siblings, required)
        return None

    def _flag(self, key: str, flat: dict[str, Any]) -> ErrorNode | None:
        if key in _SUCCESS:
            return Const(False)
        if key in _FAILED:
            return Const(True)
        enum = flat.get("enum")
        return Const(enum[0]) if isinstance(enum, list) and len(enum) == 1 else None

    def _scalar(
        self,
        key: str,
        flat: dict[str, Any],
        types: set[str],
        entry: bool,
        hint: bool,
        siblings: tuple[str, ...],
        required: bool,
    ) -> ErrorNode | None:
        if key in _LANGUAGES:
            return Const("en")
        fill = _scalar_fill(key, flat, entry, hint, siblings) if key else Fill.MESSAGE
        if fill is None or (fill == Fill.REQUEST_ID and not required):
            return None
        if fill == Fill.TYPE and key != "type" and not required:
            return None  # a documentation link: only where the schema asks for one
        text = "string" in types or not types
        if fill == Fill.CODE and not text:
            fill = Fill.STATUS  # an integer code is the HTTP status (1Password, Ably)
        enum = flat.get("enum")
        choices = (
            tuple(v for v in enum if isinstance(v, str | int)) if isinstance(enum, list) else ()
        )
        return Value(fill, text, choices)

    def _array(self, key: str, flat: dict[str, Any], entry: bool, depth: int) -> ErrorNode | None:
        items = flatten(self.document, flat.get("items", {}))
        item_types = _types(items)
        if entry:
            if key in _FIELDS and item_types and item_types <= {"string", "integer"}:
                return Value(Fill.FIELD_PATH)  # FastAPI's loc: ["body", "title"]
            if item_types == {"string"}:
                return Each(Value(Fill.MESSAGE))  # this error's messages
            return None
        if "object" in item_types:
            item = self.node("", items, True, False, (), True, depth + 1)
            if isinstance(item, Obj | Choice):
                return Each(item)
            return None
        if item_types == {"string"}:
            return Each(Value(Fill.LINE))
        return None

    def _object(
        self, key: str, flat: dict[str, Any], entry: bool, required: bool, depth: int
    ) -> ErrorNode | str | None:
        properties = flat.get("properties") or {}
        open_ = flat.get("additionalProperties") is not False
        if not isinstance(properties, dict) or not properties:
            extra = flat.get("additionalProperties")
            values = flatten(self.document, extra) if isinstance(extra, dict) else None
            if values is not None and _messages(self.document, values):
                return Fields(many="array" in _types(values))
            if values is None and extra is not False and key in _COLLECTIONS:
                return Fields()
            return Obj(()) if required else None
        names = tuple(properties)
        flats = {n: flatten(self.document, properties[n]) for n in names}
        if all(_messages(self.document, s, many=True) for s in flats.values()) and not any(
            _scalar_fill(_norm(n), s, entry, False, names) for n, s in flats.items()
        ):  # {"errors": {"body": ["..."]}}: declared keys beside any field's messages
            declared = set(flat.get("required") or [])
            keys = tuple(sorted(names, key=lambda n: n not in declared))
            return Fields(keys, tuple(n for n in keys if n in declared), open_)
        needed = set(flat.get("required") or [])
        hint = _is_message(key)  # OData's message: {lang, value}
        members = []
        for name in names:
            must = name in needed
            node = self.node(name, properties[name], entry, hint, names, must, depth + 1)
            if isinstance(node, str):
                return node
            if node is None:
                if not must:
                    continue
                if not _types(flats[name]) or is_nullable(flats[name]):
                    node = Const(None)
                else:
                    return f"nothing fills the required property '{name}'"
            members.append(Member(name, node, must, is_nullable(flats[name])))
        return Obj(tuple(members))


def _scalar_fill(
    key: str, flat: dict[str, Any], entry: bool, hint: bool, siblings: tuple[str, ...]
) -> Fill | None:
    """What fills a string or number property named `key` (normalised)."""
    fmt = flat.get("format")
    others = {_norm(s) for s in siblings} - {key}
    if fmt == "date-time" or key in _TIMESTAMPS:
        return Fill.TIMESTAMP
    if key in _POINTERS:
        return Fill.POINTER if entry else None
    if entry and key in _FIELDS:
        # `parameter` is one of JSON:API's sources; express-validator's `param` is any field.
        return Fill.PARAMETER if key == "parameter" else Fill.FIELD
    if _is_message(key):
        return Fill.MESSAGE
    if key == "error":  # Spring's {error: "Not Found", message: ...}, else the message itself
        return Fill.TITLE if any(_is_message(o) for o in others) else Fill.MESSAGE
    if key in _TITLES:
        return Fill.TITLE
    if key in _STATUSES:
        return Fill.STATUS
    if key == "type":
        return Fill.TYPE if fmt in _URI_FORMATS or "title" in others else Fill.CODE
    if key in _CODES or (key == "name" and not entry):
        return Fill.CODE
    if not entry and key in _INSTANCES:
        return Fill.INSTANCE
    if key in _REQUEST_IDS:
        return Fill.REQUEST_ID
    if key in _LINKS or fmt in _URI_FORMATS:
        return Fill.TYPE
    if key in _FIELDS:  # one error's field beside the message: the problem's first error
        return Fill.FIELD
    if hint:
        return Fill.MESSAGE
    return None


def _messages(document: dict[str, Any], flat: dict[str, Any], many: bool = False) -> bool:
    """Whether a schema is an array of messages (or, unless `many`, one message)."""
    types = _types(flat)
    if types == {"string"}:
        return not many
    return types == {"array"} and _types(flatten(document, flat.get("items", {}))) == {"string"}


def _holds_message(node: ErrorNode) -> bool:
    if isinstance(node, Value):
        return node.fill in (Fill.MESSAGE, Fill.LINE)
    if isinstance(node, Fields):
        return True
    if isinstance(node, Each):
        return _holds_message(node.item)
    if isinstance(node, Obj):
        return any(_holds_message(m.node) for m in node.members)
    if isinstance(node, Choice):
        return any(_holds_message(b) for b in node.branches)
    return False


def _lists_errors(node: ErrorNode) -> bool:
    """Whether the shape lists errors one by one (else they are joined into the message)."""
    if isinstance(node, Each | Fields):
        return True
    if isinstance(node, Obj):
        return any(_lists_errors(m.node) for m in node.members)
    if isinstance(node, Choice):
        return any(_lists_errors(b) for b in node.branches)
    return False
