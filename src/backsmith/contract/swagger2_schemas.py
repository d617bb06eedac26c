"""Swagger 2.0 schemas, parameter types, headers, responses and security schemes as
OpenAPI 3.0 has them.

Each function takes a node and the pointer it was read from, returns the new node, and
marks what it made in an `Origins`, so that positions follow the nodes they came from.
"""

from __future__ import annotations

from typing import Any

from backsmith.contract.origins import Origins
from backsmith.contract.source import escape

JSON = "application/json"
# Where Swagger 2.0 keeps what OpenAPI 3.0 keeps under `components`.
SECTIONS = {
    "definitions": "schemas",
    "parameters": "parameters",
    "responses": "responses",
    "securityDefinitions": "securitySchemes",
}
# A non-body parameter's (or a header's) type keywords: a schema's in OpenAPI 3.0.
TYPE_KEYS = (
    "type",
    "format",
    "items",
    "default",
    "maximum",
    "exclusiveMaximum",
    "minimum",
    "exclusiveMinimum",
    "maxLength",
    "minLength",
    "pattern",
    "maxItems",
    "minItems",
    "uniqueItems",
    "enum",
    "multipleOf",
)
_SCHEMA_MAPS = ("properties", "definitions", "patternProperties")
_SCHEMA_LISTS = ("allOf", "anyOf", "oneOf")
_SCHEMA_VALUES = ("additionalProperties", "not")


def new_ref(ref: str) -> str:
    """A Swagger 2.0 reference as it reads in the converted document: `#/definitions/Pet`
    -> `#/components/schemas/Pet` (in this file or in another)."""
    file_part, hash_mark, fragment = ref.partition("#")
    if not hash_mark:
        return ref
    section, slash, rest = fragment[1:].partition("/")
    if fragment.startswith("/") and section in SECTIONS and slash:
        return f"{file_part}#/components/{SECTIONS[section]}/{rest}"
    return ref


def schema(node: Any, source: str, origins: Origins) -> Any:
    """A Swagger 2.0 schema as an OpenAPI 3.0 one: `$ref`s moved, `x-nullable` as
    `nullable`, a `discriminator` name as an object, `type: file` as binary text."""
    if not isinstance(node, dict):
        return node
    result: dict[str, Any] = origins.mark({}, source)
    for key, value in node.items():
        at = f"{source}/{escape(key)}"
        if key == "$ref" and isinstance(value, str):
            result[key] = new_ref(value)
        elif key == "x-nullable" and isinstance(value, bool):
            result["nullable"] = value
            origins.key(result, "nullable", at)
        elif key == "discriminator" and isinstance(value, str):
            result[key] = origins.mark({"propertyName": value}, at)
        elif key == "type" and value == "file":
            result.update(type="string", format="binary")
            origins.key(result, "format", at)
        elif key == "items" and isinstance(value, list):  # a tuple: not OpenAPI 3.0 at all
            items = [schema(item, f"{at}/{i}", origins) for i, item in enumerate(value)]
            result[key] = items[0] if len(items) == 1 else origins.mark({"anyOf": items}, at)
        elif key in _SCHEMA_MAPS and isinstance(value, dict):
            result[key] = origins.mark(
                {k: schema(v, f"{at}/{escape(k)}", origins) for k, v in value.items()}, at
            )
        elif key in _SCHEMA_LISTS and isinstance(value, list):
            result[key] = origins.mark(
                [schema(v, f"{at}/{i}", origins) for i, v in enumerate(value)], at
            )
        elif key in _SCHEMA_VALUES or key == "items":
            result[key] = schema(value, at, origins)
        else:  # data (enum, default, example), annotations and extensions, as they were
            result[key] = value
    return result


def typed_schema(node: dict[str, Any], source: str, origins: Origins) -> dict[str, Any]:
    """The schema a non-body parameter, a form field or a header states by its own type
    keywords (`type`, `format`, `items`, `enum`...), marked as made from the node itself."""
    found: dict[str, Any] = origins.mark({}, source)
    for key in TYPE_KEYS:
        if key not in node:
            continue
        value = node[key]
        if key == "items":
            found[key] = schema(_without_formats(value), f"{source}/items", origins)
        elif key == "type" and value == "file":
            found.update(type="string", format="binary")
        else:
            found[key] = value
    if isinstance(node.get("x-nullable"), bool):
        found["nullable"] = node["x-nullable"]
        origins.key(found, "nullable", f"{source}/x-nullable")
    return found


def _without_formats(items: Any) -> Any:
    """An array parameter's `items` less their own (nested) collectionFormat: OpenAPI 3.0
    has one style per parameter."""
    if not isinstance(items, dict):
        return items
    inner = {k: v for k, v in items.items() if k != "collectionFormat"}
    if "items" in inner:
        inner["items"] = _without_formats(inner["items"])
    return inner


# collectionFormat -> (style, explode) by where the parameter is; None: no such style there.
_STYLES: dict[str, dict[str, tuple[str, bool]]] = {
    "csv": {"query": ("form", False), "path": ("simple", False), "header": ("simple", False)},
    "multi": {"query": ("form", True)},
    "ssv": {"query": ("spaceDelimited", False)},
    "pipes": {"query": ("pipeDelimited", False)},
}


def array_style(param: dict[str, Any]) -> dict[str, Any]:
    """`style` and `explode` for an array parameter's collectionFormat (csv by default).

    A format OpenAPI 3.0 has no style for where the parameter is (tsv anywhere, ssv or
    pipes outside the query) is kept as `x-collectionFormat`, read as csv is."""
    if param.get("type") != "array":
        return {}
    place = str(param.get("in"))
    declared = str(param.get("collectionFormat") or "csv")
    style = _STYLES.get(declared, {}).get(place)
    if style is not None:
        return {"style": style[0], "explode": style[1]}
    csv = _STYLES["csv"].get(place, ("form", False))
    return {"style": csv[0], "explode": csv[1], "x-collectionFormat": declared}


def header(node: Any, source: str, origins: Origins) -> Any:
    """A response header: its type keywords as a `schema`, the rest as it was."""
    if not isinstance(node, dict):
        return node
    result: dict[str, Any] = origins.mark({}, source)
    for key, value in node.items():
        if key not in TYPE_KEYS and key not in ("collectionFormat", "x-nullable"):
            result[key] = value
    if "$ref" in node:
        result["$ref"] = new_ref(str(node["$ref"]))
        return result
    result["schema"] = typed_schema(node, source, origins)
    if node.get("type") == "array":
        result["style"] = "simple"
    return result


def response(node: Any, at: str, produces: list[str], origins: Origins) -> Any:
    """A response: its schema (and examples) under each media type the operation produces,
    its headers' types as schemas."""
    mark = origins.mark
    if not isinstance(node, dict):
        return node
    if isinstance(node.get("$ref"), str):
        return mark({**node, "$ref": new_ref(node["$ref"])}, at)
    content: dict[str, Any] = {}
    if "schema" in node:
        answer = schema(node["schema"], f"{at}/schema", origins)
        for media in produces or [JSON]:
            content[media] = mark({"schema": answer}, f"{at}/schema")
    for media, example in mapping(node.get("examples")).items():
        entry = content.setdefault(media, mark({}, f"{at}/examples"))
        entry["example"] = example
        origins.key(entry, "example", f"{at}/examples/{escape(media)}")
    result: dict[str, Any] = mark({}, at)
    for key, value in node.items():
        if key == "headers" and isinstance(value, dict):
            headers = {n: header(h, f"{at}/headers/{escape(n)}", origins) for n, h in value.items()}
            result[key] = mark(headers, f"{at}/headers")
        elif key not in ("schema", "examples"):
            result[key] = value
        if key == "description" and content:
            result["content"] = mark(content, f"{at}/schema" if "schema" in node else at)
    if content and "content" not in result:
        result["content"] = mark(content, f"{at}/schema" if "schema" in node else at)
    return result


_OAUTH_FLOWS = {
    "implicit": "implicit",
    "password": "password",
    "application": "clientCredentials",
    "accessCode": "authorizationCode",
}


def security_scheme(node: Any, at: str, origins: Origins) -> Any:
    """basic -> http basic; apiKey as it is; oauth2 with its one flow under `flows`."""
    if not isinstance(node, dict):
        return node
    kind = node.get("type")
    result: dict[str, Any] = origins.mark({}, at)
    if kind == "basic":
        result.update(type="http", scheme="basic")
    elif kind == "oauth2":
        name = str(node.get("flow"))
        flow = {k: node[k] for k in ("authorizationUrl", "tokenUrl") if k in node}
        flow["scopes"] = node.get("scopes") or {}
        flows = {_OAUTH_FLOWS.get(name, name): origins.mark(flow, at)}
        result.update(type="oauth2", flows=origins.mark(flows, at))
    else:  # apiKey, and what no version knows (the validator names it)
        result.update(node)
        return result
    if "description" in node:
        result["description"] = node["description"]
    result.update(extensions(node))
    return result


def mapping(value: Any) -> dict[str, Any]:
    """`value` if it is a mapping, else an empty one."""
    return value if isinstance(value, dict) else {}


def extensions(node: dict[str, Any], skip: tuple[str, ...] = ()) -> dict[str, Any]:
    """The `x-` keys of `node`, less those in `skip`."""
    return {k: v for k, v in node.items() if k.startswith("x-") and k not in skip}
