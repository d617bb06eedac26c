"""Form bodies read like JSON: `application/x-www-form-urlencoded` and `multipart/form-data`.

A form carries text fields only; each becomes the property of the same name, typed by the
body schema as a query parameter is (`42` an integer, `true` a boolean), so the same
validators and writes serve it as a JSON body. A repeated field is an array; a field whose
schema is an object (or an array of objects) is read as JSON text, as OpenAPI's default
encoding of such properties says. File parts need a handler and are refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from email.message import Message
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any
from urllib.parse import parse_qs

import orjson

from backsmith.errors import BadRequest
from backsmith.http.params import scalar
from backsmith.model.bodies import FORM_MEDIA

MULTIPART = "multipart/form-data"
__all__ = ["FORM_MEDIA", "FormReader"]


class FormReader:
    """One operation's form decoding, compiled from its body's JSON Schema once."""

    def __init__(self, validation: Mapping[str, Any] | None) -> None:
        self.types: dict[str, tuple[frozenset[str], frozenset[str]]] = {}
        root = dict(validation) if validation is not None else {}
        for name, schema in _properties(root, root).items():
            item = _resolve(root, schema.get("items", {})) if isinstance(schema, dict) else {}
            self.types[name] = (_types(root, schema), _types(root, item))

    def read(self, raw: bytes, content_type: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """The body as an object of typed values, and an error per field that is a file."""
        media = content_type.split(";")[0].strip().lower()
        if media == MULTIPART:
            fields, errors = _multipart(raw, content_type)
        else:
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise BadRequest("The form body is not valid UTF-8.") from None
            fields, errors = parse_qs(text, keep_blank_values=True), []
        return {name: self._value(name, values) for name, values in fields.items()}, errors

    def _value(self, name: str, values: list[str]) -> Any:
        types, item_types = self.types.get(name, (frozenset({"string"}), frozenset()))
        if "array" in types:
            return [self._one(v, item_types) for v in values]
        return self._one(values[-1], types)

    @staticmethod
    def _one(text: str, types: frozenset[str]) -> Any:
        if types & {"object", "array"}:
            try:
                return orjson.loads(text)
            except orjson.JSONDecodeError:
                return text  # the validator says what the field should have been
        return scalar(text, types or {"string"})


def _multipart(raw: bytes, content_type: str) -> tuple[dict[str, list[str]], list[dict[str, Any]]]:
    if "boundary=" not in content_type:
        raise BadRequest("The multipart body's Content-Type names no boundary.")
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1")
    message = BytesParser(policy=HTTP).parsebytes(head + raw)
    if not message.is_multipart():
        raise BadRequest("The body is not multipart/form-data.")
    fields: dict[str, list[str]] = {}
    errors = []
    for part in message.iter_parts():
        assert isinstance(part, Message)
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            raise BadRequest("A multipart part names no field (Content-Disposition: name).")
        if part.get_filename() is not None:
            detail = "a file is not accepted here: send the field's value as text"
            errors.append({"detail": detail, "pointer": f"#/{_escape(name)}"})
            continue
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        try:
            text = data.decode(part.get_content_charset() or "utf-8")
        except (UnicodeDecodeError, LookupError):
            raise BadRequest(f"The field '{name}' is not valid text.") from None
        fields.setdefault(name, []).append(text)
    return fields, errors


def _resolve(root: dict[str, Any], schema: Any) -> dict[str, Any]:
    """Follow `#/$defs/...` refs of a converted body schema."""
    for _ in range(64):
        if not isinstance(schema, dict):
            return {}
        ref = schema.get("$ref")
        if not isinstance(ref, str) or not ref.startswith("#/$defs/"):
            return schema
        key = ref[len("#/$defs/") :].replace("~1", "/").replace("~0", "~")
        schema = (root.get("$defs") or {}).get(key, {})
    return {}


def _properties(root: dict[str, Any], schema: Any, depth: int = 0) -> dict[str, Any]:
    """Every property a body object may have, allOf parts and oneOf/anyOf branches too."""
    schema = _resolve(root, schema)
    found: dict[str, Any] = {}
    if depth > 16:
        return found
    for key in ("allOf", "oneOf", "anyOf"):
        for part in schema.get(key) or ():
            found.update(_properties(root, part, depth + 1))
    properties = schema.get("properties")
    if isinstance(properties, dict):
        found.update(properties)
    return found


def _types(root: dict[str, Any], schema: Any) -> frozenset[str]:
    schema = _resolve(root, schema)
    declared = schema.get("type")
    types = {declared} if isinstance(declared, str) else set(declared or ())
    for key in ("allOf", "oneOf", "anyOf"):
        for part in schema.get(key) or ():
            types |= _types(root, part)
    return frozenset(str(t) for t in types)


def _escape(name: str) -> str:
    return name.replace("~", "~0").replace("/", "~1")
