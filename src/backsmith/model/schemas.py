"""Read OpenAPI schemas: follow refs, merge allOf, and convert to JSON Schema 2020-12."""

from __future__ import annotations

import copy
from typing import Any

from backsmith.contract.refs import resolve_pointer
from backsmith.contract.source import unescape

COMPONENT_PREFIX = "#/components/schemas/"
_INT_BOUNDS = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}
_MAX_DEPTH = 64


def deref(document: dict[str, Any], schema: Any, depth: int = 0) -> Any:
    """Follow `$ref` chains inside `document` until a non-ref value."""
    while isinstance(schema, dict) and isinstance(schema.get("$ref"), str) and depth < _MAX_DEPTH:
        ref = schema["$ref"]
        if not ref.startswith("#"):
            return schema
        try:
            schema = resolve_pointer(document, ref[1:])
        except KeyError:
            return {}
        depth += 1
    return schema


def component_name(schema: Any) -> str | None:
    """`Book` for `{"$ref": "#/components/schemas/Book"}`, else None."""
    if isinstance(schema, dict):
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith(COMPONENT_PREFIX):
            return unescape(ref[len(COMPONENT_PREFIX) :])
        if len(schema.get("allOf", [])) == 1 and not schema.get("properties"):
            return component_name(schema["allOf"][0])
    return None


def flatten(document: dict[str, Any], schema: Any, depth: int = 0) -> dict[str, Any]:
    """One object schema: refs followed, allOf members merged (properties and required)."""
    schema = deref(document, schema)
    if not isinstance(schema, dict):
        return {}
    if "allOf" not in schema or depth > _MAX_DEPTH:
        return schema
    merged: dict[str, Any] = {k: v for k, v in schema.items() if k != "allOf"}
    properties: dict[str, Any] = {}
    required: list[str] = []
    for part in [*schema["allOf"], {k: v for k, v in schema.items() if k != "allOf"}]:
        part = flatten(document, part, depth + 1)
        properties.update(part.get("properties", {}))
        required.extend(r for r in part.get("required", []) if r not in required)
        for key, value in part.items():
            if key not in {"properties", "required"}:
                merged.setdefault(key, value)
    if properties:
        merged["properties"] = properties
    if required:
        merged["required"] = required
    return merged


def branch_properties(document: dict[str, Any], schema: Any, depth: int = 0) -> dict[str, Any]:
    """Every property an object may have: its own, its allOf parts' and its oneOf and anyOf
    branches' (a body may carry any branch's), the first declaration of a name winning."""
    flat = flatten(document, schema)
    found: dict[str, Any] = dict(flat.get("properties") or {})
    own = deref(document, schema)
    if depth > _MAX_DEPTH or not isinstance(own, dict):
        return found
    for key in ("allOf", "oneOf", "anyOf"):
        for part in own.get(key) or ():
            for name, prop in branch_properties(document, part, depth + 1).items():
                found.setdefault(name, prop)
    return found


def schema_types(schema: dict[str, Any]) -> set[str]:
    """The JSON types a schema allows (from `type`, either form)."""
    declared = schema.get("type")
    if isinstance(declared, list):
        return {str(t) for t in declared}
    if isinstance(declared, str):
        return {declared}
    return set()


def is_nullable(schema: dict[str, Any]) -> bool:
    if schema.get("nullable") is True or "null" in schema_types(schema):
        return True
    for key in ("oneOf", "anyOf"):
        if any(isinstance(s, dict) and s.get("type") == "null" for s in schema.get(key, [])):
            return True
    return False


class JsonSchemaConverter:
    """Converts OpenAPI schemas to JSON Schema 2020-12 for one purpose (request or response)."""

    def __init__(self, document: dict[str, Any], version: str, mode: str) -> None:
        self.document = document
        self.openapi30 = version == "3.0"
        self.mode = mode  # "request": readOnly not required; "response": writeOnly not required
        self._defs: dict[str, Any] = {}
        self._converting: set[str] = set()

    def root(self, schema: Any) -> dict[str, Any]:
        """A self-contained JSON Schema for `schema`, with the components it reaches."""
        converted = self.convert(schema)
        defs_used = self._reachable(converted)
        root: dict[str, Any] = {"$schema": "https://json-schema.org/draft/2020-12/schema"}
        root.update(converted if isinstance(converted, dict) else {"allOf": [converted]})
        if defs_used:
            root["$defs"] = {name: self._defs[name] for name in sorted(defs_used)}
        return root

    def convert(self, schema: Any, depth: int = 0) -> Any:
        if isinstance(schema, bool):
            return schema
        if not isinstance(schema, dict) or depth > _MAX_DEPTH:
            return {}
        name = component_name(schema) if "$ref" in schema else None
        if name is not None:
            self._define(name, depth)
            return {"$ref": f"#/$defs/{_def_key(name)}"}
        if isinstance(schema.get("$ref"), str):
            return self.convert(deref(self.document, schema), depth + 1)
        out: dict[str, Any] = {}
        for key, value in schema.items():
            if key in ("properties", "patternProperties", "$defs", "dependentSchemas"):
                if isinstance(value, dict):
                    out[key] = {k: self.convert(v, depth + 1) for k, v in value.items()}
            elif key in ("items", "additionalProperties", "not", "contains", "propertyNames"):
                out[key] = self.convert(value, depth + 1)
            elif key in ("allOf", "oneOf", "anyOf", "prefixItems"):
                out[key] = [self.convert(v, depth + 1) for v in value]
            elif key in (
                "discriminator",
                "xml",
                "externalDocs",
                "example",
                "nullable",
            ) or key.startswith("x-"):
                continue
            else:
                out[key] = value
        self._fix_required(schema, out)
        if self.openapi30:
            self._from_30(schema, out)
        # Every integer column is at most 64 bits wide: larger values are invalid input.
        bounds = _INT_BOUNDS.get(str(schema.get("format")), _INT_BOUNDS["int64"])
        if "integer" in schema_types(out):
            out.setdefault("minimum", bounds[0])
            out.setdefault("maximum", bounds[1])
        return out

    def _fix_required(self, schema: dict[str, Any], out: dict[str, Any]) -> None:
        properties = schema.get("properties")
        if not isinstance(properties, dict) or "required" not in out:
            return
        skip = "readOnly" if self.mode == "request" else "writeOnly"
        out["required"] = [
            name
            for name in out["required"]
            if not deref(self.document, properties.get(name, {})).get(skip)
        ]
        if not out["required"]:
            del out["required"]

    def _from_30(self, schema: dict[str, Any], out: dict[str, Any]) -> None:
        for bound, exclusive in (("minimum", "exclusiveMinimum"), ("maximum", "exclusiveMaximum")):
            if out.get(exclusive) is True and bound in out:
                out[exclusive] = out.pop(bound)
            elif isinstance(out.get(exclusive), bool):
                del out[exclusive]
        if schema.get("nullable") is True:
            if isinstance(out.get("type"), str):
                out["type"] = [out["type"], "null"]
                if isinstance(out.get("enum"), list) and None not in out["enum"]:
                    out["enum"] = [*out["enum"], None]
            elif "type" not in out:
                inner = {k: v for k, v in out.items()}
                out.clear()
                out["anyOf"] = [inner, {"type": "null"}]

    def _define(self, name: str, depth: int) -> None:
        if name in self._defs or name in self._converting:
            return
        self._converting.add(name)
        try:
            target = resolve_pointer(self.document, COMPONENT_PREFIX[1:] + name)
        except KeyError:
            target = {}
        self._defs[name] = self.convert(target, depth + 1)
        self._converting.discard(name)

    def _reachable(self, converted: Any) -> set[str]:
        found: set[str] = set()
        stack = [converted]
        while stack:
            node = stack.pop()
            if isinstance(node, dict):
                ref = node.get("$ref")
                if isinstance(ref, str) and ref.startswith("#/$defs/"):
                    key = ref[len("#/$defs/") :]
                    name = next((n for n in self._defs if _def_key(n) == key), None)
                    if name is not None and name not in found:
                        found.add(name)
                        stack.append(self._defs[name])
                stack.extend(node.values())
            elif isinstance(node, list):
                stack.extend(node)
        return {_def_key(n) for n in found} and found


def _def_key(name: str) -> str:
    return name.replace("~", "~0").replace("/", "~1")


def without_read_only(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """A copy of an object schema with readOnly properties removed (what a client may send)."""
    flat = copy.deepcopy(flatten(document, schema))
    properties = flat.get("properties", {})
    for name in [n for n, s in properties.items() if deref(document, s).get("readOnly")]:
        del properties[name]
    if "required" in flat:
        flat["required"] = [r for r in flat["required"] if r in properties]
    return flat
