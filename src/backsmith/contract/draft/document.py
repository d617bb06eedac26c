"""Assemble the drafted OpenAPI 3.1 document, with the spec line of every part it holds.

Each operation carries `x-backsmith: {source: "api-spec.md:12"}` and the guesses made
for it; each resource is a component schema placed where its rows sit in the answers;
`lines` maps JSON pointers to spec lines, so that `check` names the spec's line for
whatever it finds in the draft.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from backsmith.contract.draft.auth import Auth, security_of
from backsmith.contract.draft.bodies import body_schema, field_schema
from backsmith.contract.draft.dbml_out import with_columns
from backsmith.contract.draft.details import BODY_METHODS, Body, Details
from backsmith.contract.draft.endpoints import Endpoint
from backsmith.contract.draft.paths import params as path_params
from backsmith.contract.draft.resources import Binding, Resource, rows_of
from backsmith.contract.draft.rows import WRAPPERS, set_at
from backsmith.contract.draft.schemas import Schema, SchemaMaker, by_name, merge
from backsmith.contract.draft.tables import Field
from backsmith.contract.source import escape
from backsmith.model.naming import snake

_WORDS = re.compile(r"[A-Za-z][A-Za-z0-9]*")


@dataclass(slots=True)
class Drafted:
    """An endpoint with what its section says, how it binds, and its guesses."""

    endpoint: Endpoint
    details: Details
    title: str
    binding: Binding | None = None
    guesses: list[str] = field(default_factory=list)
    operation_id: str = ""
    statuses: dict[str, str] = field(default_factory=dict)  # as written -> as drafted


@dataclass(slots=True)
class Assembler:
    """Builds the document and its line map from the drafted endpoints and resources."""

    file: str
    base: str
    auth: Auth
    resources: dict[str, Resource]
    named: dict[str, Body] = field(default_factory=dict)  # types defined under a heading
    lines: dict[str, int] = field(default_factory=dict)
    schemas: dict[str, Schema] = field(default_factory=dict)

    @property
    def names(self) -> frozenset[str]:
        return frozenset(self.named)

    def source(self, line: int) -> str:
        return f"{self.file}:{line}"

    def document(self, title: str, drafted: list[Drafted]) -> dict[str, Any]:
        for resource in self.resources.values():
            self._component(resource)
        for resource in self.resources.values():
            self._typed_references(resource)
        for name, body in self.named.items():
            if name not in self.schemas:
                schema, _ = body_schema(body, named=self.names)
                schema["x-backsmith"] = {"source": self.source(body.line)}
                self.schemas[name] = schema
                self.lines[f"/components/schemas/{escape(name)}"] = body.line
        relative = bool(self.base) and all(
            d.endpoint.path.startswith(self.base.rstrip("/") + "/") for d in drafted
        )
        paths: dict[str, dict[str, Any]] = {}
        for one in drafted:
            path = (
                one.endpoint.path[len(self.base.rstrip("/")) :] if relative else one.endpoint.path
            )
            pointer = f"/paths/{escape(path)}/{one.endpoint.method.lower()}"
            paths.setdefault(path, {})[one.endpoint.method.lower()] = self._operation(one, pointer)
            self.lines.setdefault(f"/paths/{escape(path)}", one.endpoint.primary.line)
        document: dict[str, Any] = {
            "openapi": "3.1.0",
            "info": {"title": title, "version": "0.1.0"},
        }
        if relative:
            document["servers"] = [{"url": self.base}]
        document["paths"] = paths
        self._drop_unused_named(paths)
        components: dict[str, Any] = {}
        if self.schemas:
            components["schemas"] = self.schemas
        if self.auth.schemes:
            components["securitySchemes"] = self.auth.schemes
            for name, line in self.auth.lines.items():
                self.lines[f"/components/securitySchemes/{escape(name)}"] = line
        if components:
            document["components"] = components
        if self.auth.default:
            document["security"] = [{self.auth.default: []}]
            self.lines["/security"] = self.auth.default_line
        return document

    def _component(self, resource: Resource) -> None:
        maker = SchemaMaker()
        rows = [maker.schema(row) for row in rows_of(resource)]
        schema: dict[str, Any] = merge(rows) if rows else {"type": "object", "properties": {}}
        schema.pop("required", None)
        properties = schema.setdefault("properties", {})
        key = properties.get(resource.key) or {}
        properties[resource.key] = _key_schema(key, resource)
        properties = {resource.key: properties.pop(resource.key), **properties}
        guesses = resource.guesses + maker.guesses
        schema["properties"] = with_columns(properties, guesses)
        schema["required"] = [resource.key]
        first = min((line for _, line in resource.rows + resource.writes), default=0)
        schema["x-backsmith"] = {"source": self.source(first)}
        if guesses:
            schema["x-backsmith"]["guesses"] = sorted(set(guesses))
        self.schemas[resource.schema] = schema
        self.lines[f"/components/schemas/{escape(resource.schema)}"] = first

    def _drop_unused_named(self, paths: dict[str, Any]) -> None:
        """A heading named like a type (`### Pagination`) that nothing refers to is prose."""
        used = json.dumps(paths) + json.dumps(
            [self.schemas[r.schema] for r in self.resources.values()]
        )
        tables = {resource.schema for resource in self.resources.values()}
        named = [name for name in self.named if name in self.schemas and name not in tables]
        kept: set[str] = set()
        while True:  # a kept type may refer to another
            found = {n for n in named if f'"#/components/schemas/{n}"' in used} - kept
            if not found:
                break
            kept |= found
            used += json.dumps([self.schemas[n] for n in found])
        for name in named:
            if name not in kept:
                del self.schemas[name]
                self.lines.pop(f"/components/schemas/{escape(name)}", None)

    def _typed_references(self, resource: Resource) -> None:
        """A `customerId` takes the type of the customers' key it refers to."""
        properties = self.schemas[resource.schema]["properties"]
        for name, schema in properties.items():
            column = snake(name)
            target = self.resources.get(column[: -len("_id")]) if column.endswith("_id") else None
            if target is None or target is resource or name == resource.key:
                continue
            key = self._key_of(target)
            nullable = isinstance(schema.get("type"), list)
            properties[name] = {
                **{k: v for k, v in schema.items() if k not in ("type", "format")},
                **key,
            }
            if nullable:
                properties[name]["type"] = [key["type"], "null"]

    def _operation(self, one: Drafted, pointer: str) -> dict[str, Any]:
        endpoint, details = one.endpoint, one.details
        operation: dict[str, Any] = {"operationId": one.operation_id}
        if one.title:
            operation["summary"] = one.title
        if details.description:
            operation["description"] = details.description
        parameters = self._parameters(one)
        if parameters:
            operation["parameters"] = parameters
        assumed = one.binding is not None and one.binding.kind in ("replace", "update")
        if endpoint.method in BODY_METHODS and details.request is None and assumed:
            operation["requestBody"] = self._assumed_body(one)
        if endpoint.method in BODY_METHODS and details.request is not None:
            required_all = one.binding is not None and one.binding.kind == "create"
            schema, guesses = body_schema(details.request, required_all, self.names)
            if one.binding is not None and isinstance(schema.get("properties"), dict):
                schema["properties"] = with_columns(schema["properties"], guesses)
                kept = [name for name in schema.get("required", []) if name in schema["properties"]]
                schema.pop("required", None)
                if kept:
                    schema["required"] = kept
            sketch = details.request.sketch
            from_example = sketch is not None and not sketch.typed and not details.request.fields
            if required_all and schema.get("required") and from_example:
                one.guesses.append("every field of the example is required on create")
            one.guesses.extend(guesses)
            operation["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": schema}},
            }
            self.lines[f"{pointer}/requestBody"] = details.request.line
        operation["responses"] = self._responses(one, pointer)
        security, guess = security_of(endpoint, details, self.auth)
        if guess:
            one.guesses.append(guess)
        if security is not None:
            operation["security"] = security
        extension: dict[str, Any] = {"source": self.source(endpoint.primary.line)}
        if one.binding is not None and one.binding.declared:
            table = self.resources[one.binding.resource].table
            extension.update({"resource": table, "kind": one.binding.kind})
            one.guesses.append(f"creates {table} (the path's last word says so)")
        if _idempotency_required(details) and endpoint.method in ("POST", "PATCH"):
            extension["idempotency"] = "required"
        guesses = endpoint.guesses + one.guesses
        if guesses:
            extension["guesses"] = list(dict.fromkeys(guesses))
        operation["x-backsmith"] = extension
        self.lines[pointer] = endpoint.primary.line
        return operation

    def _parameters(self, one: Drafted) -> list[dict[str, Any]]:
        parameters = []
        resource = self.resources.get(one.binding.resource) if one.binding else None
        for name in path_params(one.endpoint.path):
            written = one.details.path.get(name)
            if written is not None:
                schema = field_schema(written)
            elif resource is not None and one.endpoint.path.endswith("{" + name + "}"):
                schema = self._key_of(resource)
            elif resource is not None and name == resource.parent_param:
                schema = self._key_of(self.resources[resource.parent])
            else:
                schema = by_name(name)[0] if name.lower() != "id" else {"type": "string"}
            parameters.append({"name": name, "in": "path", "required": True, "schema": schema})
        described = {q.name for q in one.details.query}
        stated = [Field(name, one.endpoint.primary.line) for name in one.endpoint.query]
        for one_query in [*one.details.query, *(q for q in stated if q.name not in described)]:
            schema = field_schema(one_query)
            parameter: dict[str, Any] = {"name": one_query.name, "in": "query", "schema": schema}
            if one_query.required:
                parameter["required"] = True
            parameters.append(parameter)
        return parameters

    def _assumed_body(self, one: Drafted) -> dict[str, Any]:
        """A write's body the section does not show: the row's fields but its key."""
        assert one.binding is not None
        resource = self.resources[one.binding.resource]
        row = self.schemas[resource.schema]["properties"]
        fields = {k: v for k, v in row.items() if k != resource.key and not v.get("readOnly")}
        one.guesses.append(f"the body is the fields of {resource.table} (the text shows none)")
        schema = {"type": "object", "properties": fields}
        return {"required": True, "content": {"application/json": {"schema": schema}}}

    def _key_of(self, resource: Resource) -> Schema:
        key = self.schemas[resource.schema]["properties"][resource.key]
        return {k: v for k, v in key.items() if k in ("type", "format")}

    def _responses(self, one: Drafted, pointer: str) -> dict[str, Any]:
        responses: dict[str, Any] = {}
        answers = dict(one.details.answers)
        for status, answer in answers.items():
            code = one.statuses[status] = self._status(one, status)
            response: dict[str, Any] = {"description": answer.description or _phrase(code)}
            if answer.body is not None and (answer.body.sketch or answer.body.fields):
                schema, guesses = body_schema(answer.body, named=self.names)
                one.guesses.extend(guesses)
                schema = self._with_named(self._with_rows(one, status, schema), answer.body)
                response["content"] = {"application/json": {"schema": schema}}
            elif answer.body is not None and answer.body.type_name in self.named:
                schema = {"$ref": f"#/components/schemas/{answer.body.type_name}"}
                response["content"] = {"application/json": {"schema": schema}}
            if code in responses:
                continue
            responses[code] = response
            self.lines[f"{pointer}/responses/{code}"] = answer.line
        success = [c for c in responses if c[:1] in "23"]
        if not success:
            code = self._status(one, "default")
            responses = {code: {"description": _phrase(code)}, **responses}
            success = [code]
        code = success[0]
        binding = one.binding
        unshown = "content" not in responses[code] and code != "204"
        if unshown and binding is not None and binding.kind != "delete":
            schema = {"$ref": f"#/components/schemas/{self.resources[binding.resource].schema}"}
            many = binding.kind == "list"
            if many:
                schema = {"type": "array", "items": schema}
            responses[code]["content"] = {"application/json": {"schema": schema}}
            one.guesses.append(f"answers {'rows' if many else 'the row'} (no example)")
        return responses

    def _with_named(self, schema: Schema, body: Body) -> Schema:
        """`ApiResponse<UserResponse>` over `{"data": {...}}`: the data is a UserResponse."""
        if body.type_name not in self.named or body.type_name not in self.schemas:
            return schema
        ref = {"$ref": f"#/components/schemas/{body.type_name}"}
        properties = schema.get("properties") or {}
        wrapped = [key for key in properties if key.lower() in WRAPPERS]
        if len(wrapped) == 1 and "$ref" not in properties[wrapped[0]]:
            return set_at(schema, (wrapped[0],), ref)
        return schema

    def _with_rows(self, one: Drafted, status: str, schema: Schema) -> Schema:
        binding = one.binding
        if binding is None or status not in binding.places:
            return schema
        ref = {"$ref": f"#/components/schemas/{self.resources[binding.resource].schema}"}
        return set_at(schema, binding.places[status], ref)

    def _status(self, one: Drafted, status: str) -> str:
        if status != "default":
            return status
        kind = one.binding.kind if one.binding else ""
        if kind == "create":
            return "201"
        if kind == "delete" and not one.details.answers:
            return "204"
        return "200"


def _idempotency_required(details: Details) -> bool:
    return any(h.name.lower() == "idempotency-key" and h.required for h in details.headers)


def _key_schema(written: Schema, resource: Resource) -> Schema:
    """The key's schema: an integer or a UUID, as its examples show; a natural key the
    path names (`/config/{key}`) is a string the client gives."""
    if written.get("type") == "integer":
        return {"type": "integer", "readOnly": True}
    if not written and not re.search(r"(^id|Id|_id)$", resource.key):
        return {"type": "string"}
    if written.get("format") != "uuid":
        resource.guesses.append(
            f"{resource.table}.{resource.key}: UUIDs the server makes "
            "(the examples show no integer or UUID)"
        )
    return {"type": "string", "format": "uuid", "readOnly": True}


def _phrase(code: str) -> str:
    try:
        return HTTPStatus(int(code)).phrase
    except ValueError:
        return "Answer"


def operation_id(endpoint: Endpoint, title: str, taken: set[str]) -> str:
    """A camelCase id from the section's title when it is in Latin letters, else from the
    method and path; unique in the document."""
    words = _WORDS.findall(title) if title and title.isascii() else []
    if not words or len(words) > 6:
        words = [
            endpoint.method.lower(),
            *_WORDS.findall(re.sub(r"\{(\w+)\}", r"by \1", endpoint.path)),
        ]
    candidate: str = words[0].lower() + "".join(w[:1].upper() + w[1:] for w in words[1:])
    unique, number = candidate, 2
    while unique in taken:
        unique, number = f"{candidate}{number}", number + 1
    taken.add(unique)
    return unique
