"""Contract (+ DBML) -> Model: which schemas are tables, and what each operation does."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from backsmith.contract.dbml import DbmlModel, parse_dbml
from backsmith.contract.load import Contract
from backsmith.contract.source import escape
from backsmith.errors import ContractError, Issue
from backsmith.model.accounts import account_column, hide_password_hashes, read_accounts
from backsmith.model.bodies import unsatisfiable_bodies
from backsmith.model.consistency import compare_dbml, filled_columns
from backsmith.model.crud_hooks import with_crud_hooks
from backsmith.model.envelopes import EnvelopeReader, json_content, list_envelope
from backsmith.model.error_schemas import ShapeReader, problem_only, read_error_answers
from backsmith.model.events import read_events
from backsmith.model.facts import published, with_request_facts
from backsmith.model.findings import WARNING, contract_findings, security_findings
from backsmith.model.indexes import missing_indexes
from backsmith.model.inline import inline_resources
from backsmith.model.lifecycles import Lifecycle, read_lifecycles, transition_target
from backsmith.model.naming import names_match, singular, snake, variant_base
from backsmith.model.operations import OperationMapper
from backsmith.model.owners import inherit_owners, owner_leaks, read_owners
from backsmith.model.path_columns import with_path_columns
from backsmith.model.paths import path_segments
from backsmith.model.policies import read_policies
from backsmith.model.relation_names import read_relation_names
from backsmith.model.relations import RelationGraph
from backsmith.model.resources import (
    infer_relations,
    resource_from_dbml,
    resource_from_schema,
    table_name_for,
)
from backsmith.model.samples import field_schemas
from backsmith.model.schemas import branch_properties, deref, flatten, schema_types
from backsmith.model.security import read_schemes, security_issues
from backsmith.model.segments import (
    Match,
    base_names,
    has_identifier,
    last_segment,
    segment_match,
)
from backsmith.model.servers import operation_base_path, read_base_path
from backsmith.model.shapes import ShapeBuilder
from backsmith.model.table_names import table_names
from backsmith.model.types import Model, Operation, Resource
from backsmith.model.unserved import querystring_parameters, unserved_findings
from backsmith.model.views import describing_schema, subset_views, view_tables
from backsmith.model.vocabulary import METHODS, check_extensions

CRUD_METHODS = ("get", "post", "put", "patch", "delete")


def build_model(contract: Contract) -> Model:
    """Map a loaded contract to the model, or raise ContractError."""
    issues = [*check_extensions(contract), *querystring_parameters(contract)]
    if issues:
        raise ContractError(issues)
    document = contract.document
    options = dict(document.get("x-backsmith") or {})
    dbml = parse_dbml(contract.dbml) if contract.dbml else None
    schemas = _object_schemas(document, polymorphic=dbml is None)
    warnings: list[Issue] = []
    if dbml is not None:
        resources, schema_resources = _from_dbml(document, dbml, schemas)
    else:
        resources, schema_resources = _from_schemas(document, schemas)
    resources = {name: hide_password_hashes(r) for name, r in resources.items()}
    reader = EnvelopeReader(document, resources, schema_resources)
    views = view_tables(document, schemas, resources, schema_resources, reader.shape_of)
    schema_resources = {**schema_resources, **views}
    declared, naming_issues = read_relation_names(contract, resources, schema_resources)
    if naming_issues:
        raise ContractError(naming_issues)
    graph = RelationGraph(resources, declared)
    owners, owner_issues = read_owners(contract, resources, schema_resources, graph)
    if owner_issues:
        raise ContractError(owner_issues)
    shapes = ShapeBuilder(document, graph, schema_resources, contract.issue)
    mapper = OperationMapper(document, resources, schema_resources, shapes)
    base_path = read_base_path(document.get("servers"), "/servers", contract.issue)
    server_warnings = list(base_path.warnings)
    operations = []
    policy_issues: list[Issue] = []
    error_bodies = ShapeReader(document)
    for path, item in (document.get("paths") or {}).items():
        if not isinstance(item, dict):
            continue
        for method in METHODS:
            if isinstance(item.get(method), dict):
                policies, found = read_policies(contract, path, method)
                policy_issues.extend(found)
                operation = mapper.map(path, method, item, item[method])
                errors, unusable = read_error_answers(
                    document,
                    item[method],
                    operation.pointer,
                    problem_only(document, item, item[method]),
                    contract.issue,
                    error_bodies,
                )
                warnings.extend(w for w in unusable if w not in warnings)  # shared: said once
                served = operation_base_path(document, path, method, base_path, contract.issue)
                server_warnings.extend(w for w in served.warnings if w not in server_warnings)
                operations.append(
                    replace(operation, policies=policies, base_path=served.path, errors=errors)
                )
    if policy_issues:  # a root key's problem is found once per operation: say it once
        raise ContractError(list({(i.pointer, i.message): i for i in policy_issues}.values()))
    if shapes.issues:
        raise ContractError(shapes.issues)
    # serve answers these 501 until the contract says which column the parameter names
    for message, pointer in mapper.unaddressed:
        warnings.append(contract.issue(message, pointer, severity="warning"))
    warnings.extend(missing_indexes(contract, graph, operations))
    _check_duplicate_ids(contract, operations)
    owners = inherit_owners(owners, resources, operations)
    lifecycles, operations = _lifecycles(contract, resources, schema_resources, operations)
    operations, table_hooks, hook_issues = with_crud_hooks(
        contract, resources, schema_resources, operations
    )
    if hook_issues:
        raise ContractError(hook_issues)
    events, event_issues = read_events(contract, resources, schema_resources)
    if event_issues:
        raise ContractError(event_issues)
    if dbml is not None:
        related = _related_members(shapes, resources)
        filled = filled_columns(owners, resources, operations)
        warnings.extend(compare_dbml(contract, dbml, resources, related, filled))
    leaks = owner_leaks(contract, owners, resources, operations)
    if leaks:
        raise ContractError(leaks)
    accounts, account_issues = read_accounts(contract, resources, operations)
    if account_issues:
        raise ContractError(account_issues)
    if accounts is not None:
        warnings = [w for w in warnings if not account_column(w.message, accounts)]
    schemes = read_schemes(document, accounts is not None)
    gaps = security_issues(contract, schemes, operations)
    unsatisfiable = unsatisfiable_bodies(contract, operations)
    if unsatisfiable:
        raise ContractError(unsatisfiable)
    operations = with_request_facts(document, contract.version, operations)
    findings = [
        *contract.notes,
        *server_warnings,
        *warnings,
        *contract_findings(contract, resources, operations, schemes, accounts),
        *unserved_findings(contract),
        *security_findings(gaps),
    ]
    info = document.get("info") or {}
    return Model(
        title=str(info.get("title", "")),
        version=str(info.get("version", "")),
        openapi_version=contract.version,
        resources=resources,
        operations=tuple(operations),
        document=document,
        options=options,
        warnings=tuple(f.render() for f in findings if f.severity == WARNING),
        path=contract.path,
        schemes=schemes,
        accounts=accounts,
        owners=owners,
        lifecycles=lifecycles,
        table_hooks=table_hooks,
        events=events,
        security_gaps=tuple(g.render() for g in gaps),
        findings=tuple(findings),
        locations=_locations(contract, operations, schemes),
        published_openapi=published(document),
        field_schemas=field_schemas(document, resources, operations),
        base_path=replace(base_path, warnings=tuple(server_warnings)),
        converted_from=contract.converted_from,
        positions=contract.positions,
    )


def _locations(
    contract: Contract, operations: list[Operation], schemes: dict[str, Any]
) -> dict[str, tuple[str, int | None]]:
    """Where each operation and security scheme is, for findings made at start-up."""
    pointers = ["", "/security", *(op.pointer for op in operations)]
    pointers += [f"/components/securitySchemes/{escape(name)}" for name in schemes]
    return {pointer: contract.locate(pointer) for pointer in pointers}


def _related_members(shapes: ShapeBuilder, resources: dict[str, Resource]) -> dict[str, set[str]]:
    """Per table, the schema properties served from relations or computed, not from a column."""
    found: dict[str, set[str]] = {}
    for resource in resources.values():
        if resource.schema is None:
            continue
        pointer = f"/components/schemas/{resource.schema}"
        shape = shapes.item(resource, {"$ref": f"#{pointer}"}, pointer)
        found[resource.table] = {m.name for m in shape.members if m.source != "column"}
    return found


def _object_schemas(
    document: dict[str, Any], polymorphic: bool = False
) -> dict[str, dict[str, Any]]:
    """Component schemas that describe objects with properties (possible table rows); with
    `polymorphic`, a oneOf/anyOf of such objects too (`rule_response`: an HTTP rule or an
    AMQP rule...), whose rows have every branch's properties."""
    found = {}
    for name, schema in ((document.get("components") or {}).get("schemas") or {}).items():
        flat = flatten(document, schema)
        if not isinstance(flat, dict) or (
            schema_types(flat) and "object" not in schema_types(flat)
        ):
            continue
        if flat.get("properties"):
            found[name] = flat
        elif polymorphic and _branches_are_rows(document, flat):
            found[name] = {**flat, "properties": branch_properties(document, schema)}
    return found


def _branches_are_rows(document: dict[str, Any], flat: dict[str, Any]) -> bool:
    branches = flat.get("oneOf") or flat.get("anyOf") or []
    return len(branches) > 1 and all(
        flatten(document, branch).get("properties") for branch in branches
    )


def _declared_table(schema: dict[str, Any]) -> str | None:
    ext = schema.get("x-backsmith") or {}
    return ext.get("table") or ext.get("resource")


def _from_dbml(
    document: dict[str, Any], dbml: DbmlModel, schemas: dict[str, dict[str, Any]]
) -> tuple[dict[str, Resource], dict[str, str]]:
    raw_schemas = (document.get("components") or {}).get("schemas") or {}
    declared_for: dict[str, list[str]] = {}  # table -> the schemas declaring it
    for name in schemas:
        declared = _declared_table(raw_schemas.get(name, {}))
        if declared and dbml.table(declared):
            declared_for.setdefault(declared, []).append(name)
    schema_for_table: dict[str, str] = {}
    for name in schemas:
        for table in dbml.tables:
            if table.name in schema_for_table:
                continue
            if (
                snake(name) in (table.name, singular(table.name))
                or table_name_for(name) == table.name
            ):
                if table.name in declared_for:  # a Customer beside a declared PublicCustomer
                    if name not in declared_for[table.name]:
                        declared_for[table.name].append(name)
                else:
                    schema_for_table[table.name] = name
    schema_resources = {schema: table for table, schema in schema_for_table.items()}
    for stored_in, names in declared_for.items():
        # Several schemas declaring one table: the widest describes it, the others are views.
        schema_for_table[stored_in] = describing_schema(names, schemas)
        schema_resources.update(dict.fromkeys(names, stored_in))
    resources = {
        table.name: resource_from_dbml(
            document, dbml, table, schema_for_table.get(table.name), table.name
        )
        for table in dbml.tables
    }
    return resources, schema_resources


def _from_schemas(
    document: dict[str, Any], schemas: dict[str, dict[str, Any]]
) -> tuple[dict[str, Resource], dict[str, str]]:
    raw_schemas = (document.get("components") or {}).get("schemas") or {}
    declared = [n for n in schemas if _declared_table(raw_schemas.get(n, {}))]
    # A schema that is nothing but a page of rows ({value: [Group], nextLink}) is an
    # envelope whatever its name: never a table, so its rows' schema is found inside it.
    rows = {n: n for n in schemas if n in declared or list_envelope(document, _ref(n)) is None}
    provisional = OperationMapper(document, {}, rows)
    chosen: list[str] = list(declared)
    by_base: set[str] = set()  # chosen where the path names its variant base: EpisodeFull
    paths = document.get("paths") or {}
    for path, item in paths.items():
        if not isinstance(item, dict):
            continue
        segments = path_segments(path)
        statics = [s for s in segments if not s.startswith("{")]
        last, parent, param = last_segment(segments)
        for method in CRUD_METHODS:
            op = item.get(method)
            if not isinstance(op, dict):
                continue
            for name, is_list in _schemas_of(document, provisional, op):
                if name not in rows or name in chosen:
                    continue
                # a segment anywhere in the path names it outright (`books` ~ Book)
                named = any(
                    names_match(s, name) or names_match(s, table_name_for(name)) for s in statics
                )
                # the last segment names it, exactly or loosely (ApiVersion at
                # /apis/{api}/versions, ADGroup at /groups, EpisodeFull at /episodes)
                match = segment_match(last, parent, param, name)
                # A loose match (a qualifier, a variant word) takes rows with a key only
                # (`SearchResponse` at /search, `{status}` answering a delete, are no rows),
                # and only where no other schema answers the segment (FullItem beside Item).
                loose = match == Match.LOOSE and has_identifier(schemas[name])
                loose = loose and _names_alone(name, (last, parent, param), rows)
                if named or match == Match.EXACT or loose or (is_list and method == "get"):
                    chosen.append(name)
                    if loose and names_match(last, variant_base(name)):
                        by_base.add(name)
    places = {last_segment(path_segments(str(p))) for p in paths}
    views = subset_views(
        document,
        schemas,
        [n for n in chosen if not _declared_table(raw_schemas.get(n, {}))],
        lambda n: any(_names_alone(n, where, rows) for where in places if where[0]),
    )
    declared_tables = {n: _declared_table(raw_schemas.get(n, {})) for n in chosen}
    tables = table_names(chosen, schemas, declared_tables, by_base, places)
    tables.update({view: tables[of] for view, of in views.items()})
    resources: dict[str, Resource] = {}
    schema_resources: dict[str, str] = {}
    for name in chosen:
        table = tables[name]
        if table not in resources:
            sharing = [n for n in chosen if tables[n] == table]
            describing = describing_schema(sharing, schemas)
            stored = {n: t for n, t in tables.items() if n not in views}
            resources[table] = resource_from_schema(document, describing, table, table, stored)
        schema_resources[name] = table
    resources.update(inline_resources(document, resources))
    resources = with_path_columns(document, infer_relations(resources, document), schema_resources)
    return resources, schema_resources


def _names_alone(name: str, where: tuple[str, str, str], rows: dict[str, str]) -> bool:
    """Whether a path's segment (in `where`: segment, parent, item parameter) names `name`
    exactly, or loosely with no other candidate than its variants: `EpisodeFull` and
    `EpisodeSimple` are one candidate, `FullItem` beside `Item` two; where the segment names
    the variant's base, only other such variants compete (`key_response` at /keys beside
    `aws_access_keys`)."""
    match = segment_match(*where, name)
    if match != Match.LOOSE:
        return match == Match.EXACT
    segment, parent, _ = where
    if base_names(segment, parent, name):  # app_response at /apps beside aws_access_keys
        found = {variant_base(n) for n in rows if base_names(segment, parent, n)}
    else:
        found = {variant_base(n) for n in rows if segment_match(*where, n) != Match.NONE}
    return found == {variant_base(name)}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{escape(name)}"}


def _schemas_of(
    document: dict[str, Any], mapper: OperationMapper, op: dict[str, Any]
) -> list[tuple[str, bool]]:
    """Component schemas an operation returns (or, failing that, accepts)."""
    found = []
    for status, response in sorted((op.get("responses") or {}).items()):
        if not str(status).startswith("2"):
            continue
        response = deref(document, response)
        _, schema = json_content(response.get("content") if isinstance(response, dict) else None)
        if schema:
            shape = mapper.shape_of(schema)
            if shape.schema_name:
                found.append((shape.schema_name, shape.is_list))
    if not found:
        body = deref(document, op.get("requestBody"))
        if isinstance(body, dict):
            _, schema = json_content(body.get("content"))
            body_shape = mapper.shape_of(schema) if schema else None
            if body_shape is not None and body_shape.schema_name and not body_shape.is_list:
                found.append((body_shape.schema_name, False))
    return found


def _check_duplicate_ids(contract: Contract, operations: list[Any]) -> None:
    seen: dict[str, str] = {}
    issues = []
    for op in operations:
        if op.operation_id in seen:
            issues.append(
                contract.issue(
                    f"operationId '{op.operation_id}' is also used by {seen[op.operation_id]}",
                    f"{op.pointer}/operationId",
                )
            )
        seen.setdefault(op.operation_id, f"{op.method} {op.path}")
    if issues:
        raise ContractError(issues)


def _lifecycles(
    contract: Contract,
    resources: dict[str, Resource],
    schema_resources: dict[str, str],
    operations: list[Operation],
) -> tuple[dict[str, Lifecycle], list[Operation]]:
    """The tables' lifecycle rules, and each transition operation with the resource it moves
    (the one served at the path above it: /orders/{id} for /orders/{id}/cancel)."""
    lifecycles, issues = read_lifecycles(contract, resources, schema_resources)
    items = {op.path: op for op in reversed(operations) if op.resource}  # the first wins
    moved = []
    for op in operations:
        wanted = op.policies.transition
        if wanted is not None:
            item = items.get(op.path.rsplit("/", 1)[0])
            name = item.resource if item is not None else op.resource
            resource = resources.get(name) if name else None
            issue = transition_target(contract, op, wanted.to, resource, lifecycles)
            if issue is not None:
                issues.append(issue)
            elif resource is not None:
                key = _item_key(item, resource) if item is not None else ()
                transition = replace(wanted, resource=resource.name, key=key)
                op = replace(op, policies=replace(op.policies, transition=transition))
        moved.append(op)
    if issues:
        raise ContractError(issues)
    return lifecycles, moved


def _item_key(item: Operation, resource: Resource) -> tuple[tuple[str, str], ...]:
    """(path parameter, property) pairs by which the item's own path names its row
    (`{slug}` -> slug), so the transition below it finds the same row."""
    pairs = []
    for param in item.params:
        field = resource.field(param.column) if param.role == "key" and param.column else None
        if field is not None:
            pairs.append((param.name, field.name))
    return tuple(pairs)
