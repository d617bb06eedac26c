"""Swagger 2.0 -> OpenAPI 3.0.3, with every node keeping the file and line it was read at.

The rules are those of the reference converter, swagger2openapi: `definitions`,
`parameters`, `responses` and `securityDefinitions` move under `components` (their names
unchanged), `host`, `basePath` and `schemes` become `servers`, a body parameter becomes a
`requestBody` with one content entry per media type the operation consumes, formData
parameters one form body, other parameters keep their type keywords in a `schema`, and a
response's schema is served as each media type the operation produces. A document's
errors are found in the converted document, but name the Swagger file's lines.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from backsmith.contract.origins import Origins
from backsmith.contract.refs import resolve_pointer
from backsmith.contract.source import escape, unescape
from backsmith.contract.swagger2_schemas import (
    JSON,
    TYPE_KEYS,
    array_style,
    extensions,
    mapping,
    new_ref,
    response,
    schema,
    security_scheme,
    typed_schema,
)
from backsmith.errors import ContractError, Issue

TARGET_VERSION = "3.0.3"
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
METHODS = ("get", "put", "post", "delete", "options", "head", "patch")
# Root keys of Swagger 2.0 that the conversion reads and places elsewhere.
_REPLACED = frozenset(
    {"swagger", "info", "host", "basePath", "schemes", "consumes", "produces"}
    | {"definitions", "parameters", "responses", "securityDefinitions", "components"}
)
# Keys whose values are data: a `$ref` inside one is text, not a reference.
_DATA_KEYS = frozenset({"example", "examples", "default", "enum"})

Position = tuple[str, int | None]


def convert_swagger(
    document: dict[str, Any], positions: dict[str, Position]
) -> tuple[dict[str, Any], dict[str, Position]]:
    """The OpenAPI 3.0 document for a (bundled) Swagger 2.0 one, and the position of each
    of its pointers, taken from `positions` of the node it was made from.

    Raises ContractError for what no OpenAPI 3.0 document can say: two body parameters, a
    body beside form fields, a reference into a part of the Swagger layout that moved.
    """
    converter = _Converter(document, positions)
    converted = converter.document()
    if converter.issues:
        raise ContractError(converter.issues)
    result, moved = converter.origins.relocate(converted, positions)
    dangling = _dangling_refs(result, moved)
    if dangling:
        raise ContractError(dangling)
    return result, moved


@dataclass(frozen=True, slots=True)
class _Entry:
    """One entry of a parameters list, and the parameter it is or refers to."""

    source: str  # where the entry is
    param: dict[str, Any]  # the parameter itself, a `$ref` followed
    param_source: str  # where the parameter itself is
    ref: str | None = None  # the entry's `$ref`
    component: str | None = None  # the root parameter's name, for `#/parameters/<name>`

    @property
    def place(self) -> str:
        return str(self.param.get("in"))

    @property
    def key(self) -> tuple[str, str]:
        return str(self.param.get("name")), self.place


class _Converter:
    def __init__(self, swagger: dict[str, Any], positions: dict[str, Position]) -> None:
        self.swagger = swagger
        self.positions = positions
        self.origins = Origins()
        self.issues: list[Issue] = []
        self.consumes = _media_types(swagger.get("consumes"))
        self.produces = _media_types(swagger.get("produces"))

    def document(self) -> dict[str, Any]:
        swagger = self.swagger
        result: dict[str, Any] = {"openapi": TARGET_VERSION}
        self.origins.key(result, "openapi", "/swagger")
        if "info" in swagger:
            result["info"] = swagger["info"]
        servers = self.servers()
        if servers:
            result["servers"] = servers
        for key, value in swagger.items():
            if key in _REPLACED:
                continue
            result[key] = self.paths(value) if key == "paths" and isinstance(value, dict) else value
        components = self.components()
        if components:
            result["components"] = components
        return result

    def servers(self) -> list[dict[str, Any]]:
        """One server per scheme at `host` + `basePath`; a relative one without a host."""
        host, base = self.swagger.get("host"), self.swagger.get("basePath")
        path = base.rstrip("/") if isinstance(base, str) else ""
        if isinstance(host, str) and host:
            schemes = [s for s in self.swagger.get("schemes") or () if isinstance(s, str)]
            urls, source = [f"{scheme}://{host}{path}" for scheme in schemes or ["https"]], "/host"
        elif isinstance(base, str) and base:
            urls, source = [path or "/"], "/basePath"
        else:
            return []
        mark = self.origins.mark
        return mark([mark({"url": url}, source) for url in urls], source)

    def components(self) -> dict[str, Any]:
        swagger, mark = self.swagger, self.origins.mark
        found: dict[str, Any] = {}
        schemas: dict[str, Any] = mark({}, "/definitions")
        # Schemas the bundler hoisted from other files sit in `components` already.
        hoisted = (mapping(swagger.get("components")).get("schemas"), "/components/schemas")
        for section, at in ((swagger.get("definitions"), "/definitions"), hoisted):
            for name, node in mapping(section).items():
                schemas[name] = schema(node, f"{at}/{escape(name)}", self.origins)
        parameters: dict[str, Any] = mark({}, "/parameters")
        bodies: dict[str, Any] = mark({}, "/parameters")
        for name, param in mapping(swagger.get("parameters")).items():
            at = f"/parameters/{escape(name)}"
            if not isinstance(param, dict):
                parameters[name] = param
            elif param.get("in") == "body":
                bodies[name] = self.body(param, at, self.consumes)
            elif param.get("in") != "formData":  # form fields join each form body using them
                parameters[name] = self.parameter(param, at)
        responses = mark(
            {
                name: response(node, f"/responses/{escape(name)}", self.produces, self.origins)
                for name, node in mapping(swagger.get("responses")).items()
            },
            "/responses",
        )
        schemes = mark(
            {
                name: security_scheme(node, f"/securityDefinitions/{escape(name)}", self.origins)
                for name, node in mapping(swagger.get("securityDefinitions")).items()
            },
            "/securityDefinitions",
        )
        for key, value in (
            ("schemas", schemas),
            ("parameters", parameters),
            ("requestBodies", bodies),
            ("responses", responses),
            ("securitySchemes", schemes),
        ):
            if value:
                found[key] = value
        return found

    # ------------------------------------------------------------------ paths, operations

    def paths(self, paths: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = self.origins.mark({}, "/paths")
        for path, item in paths.items():
            at = f"/paths/{escape(path)}"
            keep = path.startswith("x-") or not isinstance(item, dict)
            result[path] = item if keep else self.path_item(item, at)
        return result

    def path_item(self, item: dict[str, Any], at: str) -> dict[str, Any]:
        shared = self.entries(item.get("parameters"), f"{at}/parameters")
        result: dict[str, Any] = self.origins.mark({}, at)
        for key, value in item.items():
            if key == "parameters" and isinstance(value, list):
                plain = self.plain_parameters(shared, f"{at}/parameters")
                if plain:
                    result[key] = plain
            elif key in METHODS and isinstance(value, dict):
                # A body or form field declared on the path is each operation's own.
                result[key] = self.operation(value, f"{at}/{key}", shared)
            else:
                result[key] = value
        return result

    def operation(self, op: dict[str, Any], at: str, shared: list[_Entry]) -> dict[str, Any]:
        entries = self.entries(op.get("parameters"), f"{at}/parameters")
        own = {entry.key for entry in entries}
        inherited = [e for e in shared if e.place in ("body", "formData") and e.key not in own]
        carried = [*inherited, *(e for e in entries if e.place in ("body", "formData"))]
        consumes = _media_types(op.get("consumes")) or self.consumes
        produces = _media_types(op.get("produces")) or self.produces
        body = self.request_body(carried, consumes, bool(_media_types(op.get("consumes"))))
        result: dict[str, Any] = self.origins.mark({}, at)
        for key, value in op.items():
            if key in ("consumes", "produces", "schemes"):
                continue
            if key == "parameters" and isinstance(value, list):
                plain = self.plain_parameters(entries, f"{at}/parameters")
                if plain:
                    result[key] = plain
            elif key == "responses" and isinstance(value, dict):
                result[key] = self.origins.mark(
                    {
                        status: response(
                            node, f"{at}/responses/{escape(status)}", produces, self.origins
                        )
                        for status, node in value.items()
                    },
                    f"{at}/responses",
                )
            else:
                result[key] = value
            if key == "parameters" and body is not None:
                result["requestBody"] = body
        if body is not None and "requestBody" not in result:
            result["requestBody"] = body
        return result

    # ------------------------------------------------------------------------ parameters

    def entries(self, params: Any, at: str) -> list[_Entry]:
        found = []
        for index, raw in enumerate(params if isinstance(params, list) else ()):
            source = f"{at}/{index}"
            if not isinstance(raw, dict):
                continue
            ref = raw.get("$ref")
            if not isinstance(ref, str):
                found.append(_Entry(source, raw, source))
                continue
            target: Any = None
            if ref.startswith("#/"):
                try:
                    target = resolve_pointer(self.swagger, ref[1:])
                except KeyError:
                    target = None
            tokens = ref[2:].split("/")
            component = unescape(unquote(tokens[1])) if len(tokens) == 2 else None
            if tokens[0] != "parameters":
                component = None
            param = target if isinstance(target, dict) else {}
            found.append(_Entry(source, param, unquote(ref[1:]), ref, component))
        return found

    def plain_parameters(self, entries: list[_Entry], at: str) -> list[Any]:
        """The query, path and header parameters, in their order (bodies and form fields
        become the request body)."""
        plain = []
        for entry in entries:
            if entry.place in ("body", "formData"):
                continue
            if entry.ref is not None:
                plain.append(self.origins.mark({"$ref": new_ref(entry.ref)}, entry.source))
            else:
                plain.append(self.parameter(entry.param, entry.source))
        return self.origins.mark(plain, at) if plain else []

    def parameter(self, param: dict[str, Any], at: str) -> dict[str, Any]:
        result: dict[str, Any] = self.origins.mark({}, at)
        for key, value in param.items():
            if key in TYPE_KEYS or key in ("collectionFormat", "x-nullable", "schema"):
                continue
            if key == "x-example":
                result["example"] = value
                self.origins.key(result, "example", f"{at}/x-example")
            elif key != "allowEmptyValue" or param.get("in") == "query":
                result[key] = value
        typed = typed_schema(param, at, self.origins)
        if isinstance(param.get("schema"), dict):  # not Swagger 2.0, but written
            declared = schema(param["schema"], f"{at}/schema", self.origins)
            typed = {**typed, **declared} if "$ref" not in declared else declared
        result["schema"] = typed
        result.update(array_style(param))
        return result

    def request_body(
        self, entries: list[_Entry], consumes: list[str], own_types: bool
    ) -> dict[str, Any] | None:
        bodies = [e for e in entries if e.place == "body"]
        fields = [e for e in entries if e.place == "formData"]
        if bodies and fields:
            self.issue(
                "an operation takes a body parameter or formData parameters, not both",
                fields[0].source,
            )
            return None
        if len(bodies) > 1:
            self.issue("an operation takes one body parameter; this is a second", bodies[1].source)
            return None
        if fields:
            return self.form(fields, consumes)
        if not bodies:
            return None
        entry = bodies[0]
        if entry.component is not None and not own_types:
            ref = f"#/components/requestBodies/{escape(entry.component)}"
            return self.origins.mark({"$ref": ref}, entry.source)
        return self.body(entry.param, entry.param_source, consumes)

    def body(self, param: dict[str, Any], at: str, consumes: list[str]) -> dict[str, Any]:
        """A body parameter as a request body, its schema under each media type."""
        mark = self.origins.mark
        result: dict[str, Any] = mark({}, at)
        for key in ("description", "required"):
            if key in param:
                result[key] = param[key]
        body_schema = schema(param.get("schema", {}), f"{at}/schema", self.origins)
        if param.get("x-nullable") is True and isinstance(body_schema, dict):
            if "$ref" in body_schema:  # OpenAPI 3.0 reads nothing beside a `$ref`
                body_schema = mark({"allOf": [body_schema]}, f"{at}/schema")
            body_schema["nullable"] = True
            self.origins.key(body_schema, "nullable", f"{at}/x-nullable")
        content = {m: mark({"schema": body_schema}, f"{at}/schema") for m in consumes or [JSON]}
        result["content"] = mark(content, f"{at}/schema")
        result.update(extensions(param, skip=("x-nullable",)))
        return result

    def form(self, fields: list[_Entry], consumes: list[str]) -> dict[str, Any]:
        """formData parameters as one form body: an object with a property per field."""
        mark, first = self.origins.mark, fields[0].source
        properties: dict[str, Any] = mark({}, first)
        required: list[str] = []
        for entry in fields:
            param, at = entry.param, entry.param_source
            name = str(param.get("name"))
            field = typed_schema(param, at, self.origins)
            for key in ("description", "x-example"):
                if key in param:
                    field["example" if key == "x-example" else key] = param[key]
            field.update(extensions(param, skip=("x-example", "x-nullable")))
            properties[name] = field
            if param.get("required") is True:
                required.append(name)
        has_file = any(entry.param.get("type") == "file" for entry in fields)
        media = [m for m in consumes if m in FORM_TYPES]
        if has_file:
            media = ["multipart/form-data"]  # a file is never sent url-encoded
        form: dict[str, Any] = mark({"type": "object", "properties": properties}, first)
        if required:
            form["required"] = mark(required, first)
        content = {m: mark({"schema": form}, first) for m in media or [FORM_TYPES[0]]}
        result: dict[str, Any] = mark({"content": mark(content, first)}, first)
        if required:
            result["required"] = True
        return result

    def issue(self, message: str, pointer: str) -> None:
        probe = pointer
        while probe not in self.positions and probe:
            probe = probe.rsplit("/", 1)[0]
        file, line = self.positions.get(probe, ("<contract>", None))
        self.issues.append(Issue(message, file, line, pointer))


def _media_types(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return list(dict.fromkeys(v for v in value if isinstance(v, str)))
    return []


def _dangling_refs(document: dict[str, Any], positions: dict[str, Position]) -> list[Issue]:
    """References that named a Swagger 2.0 place the conversion moved (`#/paths/...`)."""
    found: list[Issue] = []

    def walk(value: Any, pointer: str) -> None:
        if isinstance(value, list):
            for index, item in enumerate(value):
                walk(item, f"{pointer}/{index}")
        if not isinstance(value, dict):
            return
        ref = value.get("$ref")
        if isinstance(ref, str) and ref.startswith("#"):
            try:
                resolve_pointer(document, ref[1:])
            except KeyError:
                file, line = positions.get(pointer, ("<contract>", None))
                message = (
                    f"$ref {ref!r} names a place the conversion from Swagger 2.0 moves; "
                    "refer to a definition, a parameter or a response instead"
                )
                found.append(Issue(message, file, line, pointer))
        for key, item in value.items():
            if not key.startswith("x-") and key not in _DATA_KEYS:
                walk(item, f"{pointer}/{escape(key)}")

    walk(document, "")
    return found
