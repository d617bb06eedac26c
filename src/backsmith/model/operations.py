"""Conventions that map each declared operation to a CRUD kind over a resource."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from backsmith.contract.source import escape
from backsmith.model.batches import batch_reason, listed_at, unrowed_reason
from backsmith.model.beside import item_kind, read_beside, served_beside
from backsmith.model.bodies import not_an_object, request_body
from backsmith.model.classify import default_sort, kind_of, status_of
from backsmith.model.custom_reasons import answers_other_media, custom_method, why_custom
from backsmith.model.envelopes import EnvelopeReader, ResponseShape, json_answer
from backsmith.model.fixed_members import with_status
from backsmith.model.links import Link, find_link
from backsmith.model.naming import names_match, snake, strip_affixes, variant_table
from backsmith.model.parameters import ParamRoles, parameter_pointer, read_params
from backsmith.model.path_params import Unaddressed
from backsmith.model.paths import bare_path, is_item_path, named_resource, path_segments
from backsmith.model.places import place_keys
from backsmith.model.pointers import ext_pointer, param_pointer
from backsmith.model.relations import Ambiguous, RelationGraph
from backsmith.model.schemas import component_name, flatten
from backsmith.model.scopes import CallerScope, read_caller_scope
from backsmith.model.security import access_of
from backsmith.model.segments import last_segment
from backsmith.model.shapes import ShapeBuilder, flat_shape, plain_shape
from backsmith.model.types import (
    ACCOUNT_KINDS,
    Envelope,
    ItemShape,
    Kind,
    Operation,
    Resource,
    SuccessAnswer,
)
from backsmith.model.urls import url_slots
from backsmith.model.write_answers import wrapped_row

JSON_MEDIA = ("application/json", "application/merge-patch+json")
_WRITES = (Kind.CREATE, Kind.REPLACE, Kind.UPDATE, Kind.DELETE)


class OperationMapper:
    """Classifies operations given the resources and which schema each one is served as."""

    def __init__(
        self,
        document: dict[str, Any],
        resources: dict[str, Resource],
        schema_resources: dict[str, str],
        shapes: ShapeBuilder | None = None,
    ) -> None:
        self.document = document
        self.resources = resources
        self.schema_resources = schema_resources
        self.graph = shapes.graph if shapes is not None else RelationGraph(resources)
        self.shapes = shapes
        self.envelopes = EnvelopeReader(document, resources, schema_resources)
        self.param_roles = ParamRoles(self.graph, resources)
        # Path parameters no column answers to: (message, pointer of the parameter).
        self.unaddressed: list[tuple[str, str]] = []
        # Paths whose neighbours are being asked what they serve (served_at asks back).
        self._asking_beside: set[str] = set()

    def _problem(self, message: str, pointer: str) -> None:
        """A contract error about an operation's declarations (raised once all are read)."""
        if self.shapes is not None:
            self.shapes.problem(message, pointer)

    def shape_of(self, schema: Any, item: bool = False) -> ResponseShape:
        """How a response schema carries rows (see EnvelopeReader.shape_of)."""
        return self.envelopes.shape_of(schema, item)

    def map(self, path: str, method: str, item: dict[str, Any], op: dict[str, Any]) -> Operation:
        pointer = f"/paths/{escape(path)}/{method}"
        ext = {**(item.get("x-backsmith") or {}), **(op.get("x-backsmith") or {})}
        operation_id = op.get("operationId") or f"{method}_{snake(path) or 'root'}"
        params = read_params(self.document, item, op)
        responses = op.get("responses") or {}
        statuses = sorted(str(code) for code in responses)
        success = [s for s in statuses if s.startswith("2")]
        errors = frozenset(int(s) for s in statuses if s.isdigit() and s[0] in "45")
        body_media, body_schema, body_required = request_body(self.document, op)
        base = {
            "operation_id": operation_id,
            "method": method.upper(),
            "path": path,
            "pointer": pointer,
            "error_statuses": errors,
            "summary": str(op.get("summary") or ""),
            "body_schema": body_schema,
            "body_media_types": body_media,
            "body_required": body_required,
            "access": access_of(self.document, op, ext),
            "ignore_unknown_fields": ext.get(
                "unknown-fields", (self.document.get("x-backsmith") or {}).get("unknown-fields")
            )
            == "ignore",
        }

        def custom(reason: str, resource: str | None = None) -> Operation:
            plain = tuple(params)
            return Operation(
                kind=Kind.CUSTOM, reason=reason, resource=resource, params=plain, **base
            )

        if ext.get("kind") == "custom":
            return custom("declared custom with x-backsmith kind")
        if method not in {"get", "post", "put", "patch", "delete"}:
            return custom(f"{method.upper()} is not a CRUD method")

        response_status, response_media, response_schema = json_answer(self.document, responses)
        segments = path_segments(path)
        one = method != "get" or is_item_path(segments)
        shape = self.shape_of(response_schema, item=one) if response_schema else None
        if shape is not None and "envelope" in ext:
            shape = self.envelopes.declared_shape(response_schema, ext["envelope"], shape)
        link = find_link(self.graph, self.resources, ext, method, segments, params, self.served_at)
        if isinstance(link, Ambiguous):
            self._problem(link, ext_pointer(item, op, pointer, "link"))
        if isinstance(link, str):
            return custom(link)
        if link is not None:
            self._caller_scope(ext, item, op, pointer, Kind.LINK, None)
            return self._link_operation(link, method, success, response_media, shape, base)
        body_wrapper, body_item = self.envelopes.unwrap_body(body_schema)
        resource = self._resource(ext, shape, body_item, path)
        if ext.get("kind") in ACCOUNT_KINDS:
            return self._account_operation(
                Kind(ext["kind"]),
                ext,
                resource,
                shape,
                response_status,
                response_media,
                success,
                body_wrapper,
                body_item,
                base,
            )
        if resource is None or (  # a download at /files/{id} is no row in JSON
            method == "get" and response_media is None and answers_other_media(self.document, op)
        ):
            batch = (
                None if resource else unrowed_reason(self, response_schema, body_schema, not one)
            )
            why = batch or why_custom(
                self.document, self.resources.values(), path, method, op, body_schema
            )
            return custom(why, resource.name if resource is not None else None)
        verb = custom_method(segments)
        if verb is not None:
            return custom(verb, resource.name)
        is_item = is_item_path(segments)
        listed = is_item and listed_at(self, "/" + "/".join(segments[:-1]), resource)
        kind = kind_of(
            self.document,
            self.schema_resources,
            ext,
            method,
            is_item,
            shape,
            resource,
            segments,
            body_item,
            listed,
        )
        bare = is_item and shape is None and body_item is None and not isinstance(kind, Kind)
        if bare and (listed or read_beside(self, item, resource, segments)):
            kind = item_kind(method)  # DELETE /apps/{id}, 204: what its neighbours serve
        if isinstance(kind, Kind):
            kind = batch_reason(self.document, kind, response_schema, body_schema, resource) or kind
        if not isinstance(kind, Kind):
            return custom(kind, resource.name)
        if kind in (Kind.CREATE, Kind.REPLACE, Kind.UPDATE) and body_schema is None:
            if body_media == () and op.get("requestBody"):
                return custom("request body is not JSON", resource.name)
            return custom("a write without a JSON request body", resource.name)
        if kind in (Kind.CREATE, Kind.REPLACE, Kind.UPDATE):
            scalar = not_an_object(self.document, body_item)
            if scalar is not None:
                return custom(f"request body is {scalar}, not an object with fields", resource.name)
        status = status_of(kind, success, response_status)
        if shape is not None and kind in _WRITES:  # {resource: {id, url}, status}
            shape = wrapped_row(self.document, shape, resource, self._row_table) or shape
        item_schema = shape.item_schema if shape else None
        if item_schema is not None and not flatten(self.document, item_schema).get("properties"):
            item_schema = None
        envelope = shape.envelope if shape else Envelope()
        response_shape = self._item_shape(resource, item_schema, f"{pointer}/responses")
        if shape is not None and shape.plain is not None and kind == Kind.LIST:
            plain = plain_shape(self.document, resource, shape.plain, shape.item_schema)
            if plain is None:
                return custom(
                    "lists plain values of no column it can tell: declare x-backsmith "
                    f"{{embed: {resource.table}.<column>}} on the array",
                    resource.name,
                )
            response_shape = plain
            envelope = replace(envelope, values=plain.members[0].name)
        roles = self.param_roles.roles(
            params, resource, segments, kind, is_item, response_shape, self.served_at
        )
        for param, message in self.param_roles.ambiguous:
            self._problem(message, param_pointer(self.document, item, op, pointer, param))
        self.param_roles.ambiguous.clear()
        if isinstance(roles, str):
            return custom(roles, resource.name)
        if isinstance(roles, Unaddressed):
            where = parameter_pointer(self.document, path, method, item, op, roles.parameter)
            self.unaddressed.append((f"{roles.reason}: {roles.fix}", where))
            return custom(f"needs a declaration: {roles.reason}", resource.name)
        caller_scope = self._caller_scope(ext, item, op, pointer, kind, resource)
        key_in_body = None
        if kind in (Kind.REPLACE, Kind.UPDATE) and not is_item:
            key_in_body = resource.key.name
        urls = url_slots(
            self.document, response_schema, item_schema, envelope, resource, kind == Kind.LIST
        )
        envelope = with_status(envelope, status)
        response = SuccessAnswer(
            status, response_media, item_schema, envelope, response_shape, urls
        )
        body_shape = None
        if kind in (Kind.CREATE, Kind.REPLACE, Kind.UPDATE) and body_item is not None:
            body_shape = self._item_shape(resource, body_item, f"{pointer}/requestBody")
        return Operation(
            kind=kind,
            resource=resource.name,
            params=roles,
            response=response,
            key_in_body=key_in_body,
            default_sort=default_sort(ext, resource, envelope) if kind == Kind.LIST else (),
            page_size=ext.get("page-size"),
            max_page_size=ext.get("max-page-size"),
            body_shape=body_shape,
            body_wrapper=body_wrapper,
            replace_children=ext.get("children") == "replace",
            caller_scope=caller_scope,
            **base,
        )

    def path_item(self, path: str) -> tuple[str, dict[str, Any] | None]:
        """The contract's path (`/posts/{id}.json` for `/posts/{id}`) and its path item."""
        paths = self.document.get("paths") or {}
        if path not in paths:
            path = next((p for p in paths if bare_path(p) == bare_path(path)), path)
        item = paths.get(path)
        return path, item if isinstance(item, dict) else None

    def served_at(self, path: str) -> Resource | None:
        """The resource an item path (`/books/{slug}`, `/{id}`) serves, judged by what its
        operations return or accept; None where the contract has no such path."""
        path, item = self.path_item(path)
        if item is None:
            return None
        for method in ("get", "put", "patch", "delete", "post"):
            op = item.get(method)
            if isinstance(op, dict):
                found = self.resource_of(path, method, item, op)
                if found is not None:
                    return found
        return None

    def resource_of(
        self, path: str, method: str, item: dict[str, Any], op: dict[str, Any]
    ) -> Resource | None:
        """The resource one operation works on, by its extension, schemas and path."""
        ext = {**(item.get("x-backsmith") or {}), **(op.get("x-backsmith") or {})}
        _, _, response_schema = json_answer(self.document, op.get("responses"))
        one = method != "get" or is_item_path(path_segments(path))
        shape = self.shape_of(response_schema, item=one) if response_schema else None
        _, body_item = self.envelopes.unwrap_body(request_body(self.document, op)[1])
        return self._resource(ext, shape, body_item, path)

    def _caller_scope(
        self,
        ext: dict[str, Any],
        item: dict[str, Any],
        op: dict[str, Any],
        pointer: str,
        kind: Kind,
        resource: Resource | None,
    ) -> CallerScope | None:
        """A list's `where: <path> = caller`; a contract error where it names nothing or
        sits on an operation other than a list (a path item's applies to its list only)."""
        declared = ext.get("where")
        if declared is None:
            return None
        where = ext_pointer(item, op, pointer, "where")
        if kind != Kind.LIST or resource is None:
            if "where" in (op.get("x-backsmith") or {}):
                self._problem("where scopes list operations only (GET on a collection)", where)
            return None
        found = read_caller_scope(self.graph, resource, str(declared))
        if isinstance(found, str):
            self._problem(found, where)
            return None
        return found

    def _account_operation(
        self,
        kind: Kind,
        ext: dict[str, Any],
        resource: Resource | None,
        shape: ResponseShape | None,
        response_status: int | None,
        response_media: str | None,
        success: list[str],
        body_wrapper: str | None,
        body_item: Any,
        base: dict[str, Any],
    ) -> Operation:
        """register, login, refresh, logout or me: shaped by the accounts table where the
        schemas describe its rows (the profile), and by their own properties elsewhere."""
        pointer = base["pointer"]
        item_schema = shape.item_schema if shape is not None else None
        response_shape = None
        profile = item_schema is not None and flatten(self.document, item_schema).get("properties")
        if resource is not None and profile:
            response_shape = self._item_shape(resource, item_schema, f"{pointer}/responses")
        default = 201 if kind == Kind.REGISTER else (204 if kind == Kind.LOGOUT else 200)
        status = response_status or (int(success[0]) if success else default)
        envelope = with_status(shape.envelope if shape is not None else Envelope(), status)
        response = SuccessAnswer(status, response_media, item_schema, envelope, response_shape)
        body_shape = None
        writes = kind in (Kind.REGISTER, Kind.ME) and body_item is not None
        if resource is not None and writes and flatten(self.document, body_item).get("properties"):
            body_shape = self._item_shape(resource, body_item, f"{pointer}/requestBody")
        return Operation(
            kind=kind,
            resource=resource.name if resource is not None else None,
            response=response,
            body_shape=body_shape,
            body_wrapper=body_wrapper,
            token_field=ext.get("token-field"),
            **base,
        )

    def _row_table(self, name: str, schema: Any) -> str | None:
        """The table an object in an answer is a row of, by its schema or else its name."""
        component = component_name(schema) or ""
        found = self.schema_resources.get(component) or self.schema_resources.get(
            strip_affixes(component) if component else ""
        )
        if found is not None:
            return self.resources[found].table
        return next((r.table for r in self.resources.values() if names_match(name, r.table)), None)

    def _item_shape(self, resource: Resource, schema: Any, pointer: str) -> ItemShape:
        if schema is None or self.shapes is None:
            return flat_shape(resource)
        return self.shapes.item(resource, schema, pointer)

    def _link_operation(
        self,
        link: Link,
        method: str,
        success: list[str],
        media: str | None,
        shape: ResponseShape | None,
        base: dict[str, Any],
    ) -> Operation:
        parent, hop, params, caller_column = link
        codes = sorted(int(s) for s in success if s.isdigit())
        response_shape = None
        schema = None
        if shape is not None and media is not None:
            schema = shape.item_schema
            returned = self.resources.get(self.schema_resources.get(shape.schema_name or "", ""))
            if returned is None or returned.table not in (parent.table, hop.target):
                returned = parent
            response_shape = self._item_shape(returned, schema, f"{base['pointer']}/responses")
        status = codes[0] if codes else (204 if response_shape is None else 200)
        envelope = with_status(shape.envelope if shape else Envelope(), status)
        response = SuccessAnswer(
            status, media if response_shape else None, schema, envelope, response_shape
        )
        return Operation(
            kind=Kind.UNLINK if method == "delete" else Kind.LINK,
            resource=parent.name,
            params=tuple(params),
            response=response,
            link=hop,
            link_caller=caller_column,
            **base,
        )

    def _resource(
        self, ext: dict[str, Any], shape: ResponseShape | None, body: Any, path: str
    ) -> Resource | None:
        if isinstance(ext.get("resource"), str):
            return self.resources.get(ext["resource"])
        names = [shape.schema_name if shape else None, component_name(body)]
        for name in names:
            if name in self.schema_resources:
                return self.resources[self.schema_resources[name]]
        for name in names:  # BookCreate, NewBook, BookPatch -> Book
            base = strip_affixes(name) if name else None
            if base in self.schema_resources:
                return self.resources[self.schema_resources[base]]
        for name in names:  # EpisodeSimple beside EpisodeFull, app_patch beside app_response
            found = variant_table(name, self.schema_resources) if name else None
            if found is not None:
                return self.resources[found]
        segment, parent, param = last_segment(path_segments(path))
        if segment:
            by_path = named_resource(self.resources.values(), segment, parent, param)
            if by_path is not None:
                return by_path
        if shape is not None and shape.plain is not None:  # {"genres": [...]}: genres' rows
            named = place_keys(shape.plain or shape.envelope.items or "")[0]
            for resource in self.resources.values():
                if named and names_match(named, resource.table):
                    return resource
        if shape is None and body is None:  # DELETE /apps/{id}: the rows beside it serve
            return served_beside(path, self.served_at, self._asking_beside)
        return None
