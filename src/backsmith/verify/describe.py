"""How backsmith understood a contract, as data (`model --json`) and as a table."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from backsmith.model.types import Hop, ItemShape, Kind, Member, Model, Operation, Param


def _source(member: Member) -> str:
    """Where one response property comes from, in words."""
    if member.source == "column":
        return f"column {member.column}"
    if member.computed is not None:
        return member.computed.describe()
    assert member.hop is not None
    # The order when declared: values otherwise come by value, rows by their key.
    declared = member.order and member.order != (member.column,)
    order = f", by {', '.join(member.order)}" if declared else ""
    if member.source == "values":
        return f"{member.hop.target}.{member.column} ({member.hop.describe()}{order})"
    return f"embed {member.hop.describe()}{order}"


def shape_data(shape: ItemShape | None, depth: int = 0) -> dict[str, Any] | None:
    """A response or body shape as `{property: source}`, embedded shapes nested."""
    if shape is None:
        return None
    data: dict[str, Any] = {}
    for member in shape.members:
        if member.shape is not None and depth < 8:
            data[member.name] = {
                "from": _source(member),
                "shape": shape_data(member.shape, depth + 1),
            }
        else:
            data[member.name] = _source(member)
    return data


def _across(hops: Sequence[Hop], column: str | None) -> str:
    """Where a path across relations ends (`authors.handle`); by the relations' names
    (`followers.handle`) where one links a table to itself, in one direction or the other."""
    if not hops:
        return str(column)
    if not _linked_to_itself(hops):
        return f"{hops[-1].target}.{column}"
    return ".".join([*(h.names[0] if h.names else h.target for h in hops), str(column)])


def _linked_to_itself(hops: Sequence[Hop]) -> bool:
    return any(h.source == h.target for h in hops)


def _filter(param: Param) -> str:
    if param.computed is not None:
        return f"{param.name}({param.computed.describe()})"
    if param.hops:
        return f"{param.name}({_across(param.hops, param.column)})"
    return param.name


def _notes(op: Operation) -> str:
    if op.kind == Kind.CUSTOM:
        needs = f"needs a handler: {op.reason}" if not op.policies.serves else ""
        return "; ".join(n for n in (needs, op.policies.describe()) if n)
    parts = []
    filters = [_filter(p) for p in op.params if p.role == "filter"]
    # The rows' own column, or the parent's across relations (`authors.handle`).
    scopes = [f"{p.name}->{_across(p.hops, p.column)}" for p in op.params if p.role == "scope"]
    keys = [f"{p.name}->{p.column}" for p in op.params if p.role == "key"]
    ignored = [p.name for p in op.params if p.role == "other" and p.location == "query"]
    if keys:
        parts.append("key " + ", ".join(keys))
    if scopes:
        parts.append("scope " + ", ".join(scopes))
    if op.caller_scope is not None:
        scope = op.caller_scope
        parts.append(f"where {_across(scope.hops, scope.column)} = caller")
    if filters:
        parts.append("filters " + ", ".join(filters))
    if any(p.role == "sort" for p in op.params):
        parts.append("sort")
    refused = [p.name for p in op.params if p.role == "refused"]
    if refused:
        parts.append("refuses " + ", ".join(refused) + " (400)")
    if op.pagination:
        parts.append(f"{op.pagination} pages")
    if op.key_in_body:
        parts.append(f"key from body '{op.key_in_body}'")
    if op.link is not None:
        caller = f" for the caller ({op.link_caller})" if op.link_caller else ""
        parts.append(f"link {op.link.join or op.link.target}{caller}")
    envelope = op.response.envelope if op.response else None
    if envelope is not None and envelope.items:
        parts.append(f"envelope '{envelope.items}'")
    if envelope is not None and envelope.values:
        parts.append(f"plain values of {envelope.values}")
    if envelope is not None and envelope.wrapper:
        parts.append(f"wrapper '{envelope.wrapper}'")
    if envelope is not None and envelope.constants:
        fixed = (f"{key}={json.dumps(value)}" for key, value in envelope.constants)
        parts.append("fixed " + ", ".join(fixed))
    if op.response and op.response.urls:  # links.next (next), url (item)
        parts.append("links " + ", ".join(f"{s.place} ({s.role})" for s in op.response.urls))
    shape = op.response.shape if op.response else None
    embeds = [m.name for m in shape.members if m.hop is not None] if shape else []
    computed = [m.name for m in shape.members if m.computed is not None] if shape else []
    if embeds:
        parts.append("embeds " + ", ".join(embeds))
    if computed:
        parts.append("computed " + ", ".join(computed))
    children = [m.name for m in op.body_shape.members if m.hop is not None] if op.body_shape else []
    if children:
        parts.append("writes " + ", ".join(children))
    if ignored:
        parts.append("ignored " + ", ".join(ignored))
    if op.policies.describe():
        parts.append(op.policies.describe())
    if op.hooks:
        parts.append("hooks " + ", ".join(f"{m} {h.describe()}" for m, h, _ in op.hooks))
    return "; ".join(parts)


def requirements_text(op: Operation) -> str:
    """The security requirements one operation declares (`bearerAuth or apiKey`), `public`
    for an empty list, `anyone` for an empty choice; empty when the contract says nothing."""
    requirements = op.access.requirements
    if requirements is None:
        return ""
    choices = [
        " + ".join(f"{name}[{' '.join(scopes)}]" if scopes else name for name, scopes in r)
        or "anyone"
        for r in requirements
    ]
    return " or ".join(choices) if choices else "public"


def owner_text(model: Model, op: Operation) -> str:
    """The owner rule that scopes the operation's rows (`customer_id`), or empty."""
    resource = model.resources.get(op.resource) if op.resource else None
    owner = model.owners.get(resource.table) if resource is not None else None
    if owner is None or op.kind in (Kind.CUSTOM, Kind.LINK, Kind.UNLINK):
        return ""
    return owner.declared + (" (public read)" if owner.public else "")


def access_note(model: Model, op: Operation) -> str:
    """Who may call, as `backsmith model` says it: requirements, roles, owner."""
    access = op.access
    parts = [requirements_text(op)] if access.requirements is not None else []
    if access.roles:
        parts.append("roles " + ", ".join(access.roles))
    if owner_text(model, op):
        parts.append(f"owner {owner_text(model, op)}")
    if access.public:
        parts.append("public on purpose")
    return "access: " + ", ".join(parts) if parts else ""


def _errors(op: Operation) -> dict[str, str]:
    """Each declared error status and the body it is answered with (`other`: undeclared)."""
    found = {
        key: f"{shape.media_type} #{shape.pointer}" if shape else "application/problem+json"
        for key, shape in op.errors.shapes
    }
    family = op.errors.family
    if family is not None:
        found["other"] = f"{family.media_type} #{family.pointer}"
    return found


def describe(model: Model) -> dict[str, Any]:
    """The mapping as plain data."""
    return {
        "title": model.title,
        "version": model.version,
        "openapi": model.openapi_version,
        "base_path": model.base_path.path,
        "resources": {
            name: {
                "table": r.table,
                "schema": r.schema,
                "source": r.source,
                "primary_key": list(r.primary_key),
                "fields": [
                    {
                        "name": f.name,
                        "column": f.column,
                        "type": str(f.type),
                        "nullable": f.nullable,
                        **({"generated": str(f.generated)} if f.generated else {}),
                        **({"enum": list(f.enum)} if f.enum else {}),
                    }
                    for f in r.fields
                    if not f.hidden
                ],
                "references": [
                    {"columns": list(rel.columns), "table": rel.target, "on_delete": rel.on_delete}
                    for rel in r.relations
                ],
            }
            for name, r in model.resources.items()
        },
        "operations": [
            {
                "operation_id": op.operation_id,
                "method": op.method,
                "path": op.path,
                **({"base_path": op.base_path} if op.base_path != model.base_path.path else {}),
                "kind": str(op.kind),
                "resource": op.resource,
                "table": model.resources[op.resource].table if op.resource else None,
                "notes": _notes(op),
                **({"access": access_note(model, op)} if access_note(model, op) else {}),
                **({"reason": op.reason} if needs_handler(op) else {}),
                **(
                    {"response": shape_data(op.response.shape)}
                    if op.response and op.response.shape
                    else {}
                ),
                **({"body": shape_data(op.body_shape)} if op.body_shape else {}),
                **({"policies": op.policies.describe()} if op.policies.describe() else {}),
                **({"slo": _budget(op)} if op.policies.slo is not None else {}),
                **({"hooks": {m: h.describe() for m, h, _ in op.hooks}} if op.hooks else {}),
                **({"errors": _errors(op)} if op.errors.shaped else {}),
            }
            for op in model.operations
        ],
        "events": _events(model),
        "warnings": list(model.warnings),
    }


def _budget(op: Operation) -> dict[str, float]:
    """The latency budget an operation declares (its own, its path item's or the root's)."""
    slo = op.policies.slo
    assert slo is not None
    found = {"p95_ms": slo.p95_ms, "p99_ms": slo.p99_ms, "rps": slo.rps}
    return {name: value for name, value in found.items() if value is not None}


def _events(model: Model) -> dict[str, Any]:
    """What the contract publishes, audits and schedules (model.events)."""
    facts = model.events
    return {
        "published": facts.publishes,
        "webhook_types": list(facts.webhook_types) if facts.webhook_types is not None else None,
        "audited": sorted(facts.audited),
        "schedules": {s.job: s.cron for s in facts.schedules},
    }


def event_lines(model: Model) -> list[str]:
    """One line each for what the contract publishes, audits and schedules."""
    facts = model.events
    lines = []
    if facts.publishes:
        types = facts.webhook_types
        to = f"webhooks take {', '.join(types)}" if types is not None else "webhooks take all"
        lines.append(f"events: each write publishes one ({to}; brokers take all)")
    if facts.audited:
        lines.append(f"audited: {', '.join(sorted(facts.audited))}")
    for schedule in facts.schedules:
        lines.append(f"scheduled: {schedule.job} at {schedule.cron}")
    return lines


def needs_handler(op: Operation) -> bool:
    """A custom operation nothing serves: it answers 501 until a handler does."""
    return op.kind == Kind.CUSTOM and not op.policies.serves


def render_table(model: Model) -> str:
    """A fixed-width table, one operation a row, then the custom ones counted."""
    header = ("OPERATION", "METHOD", "PATH", "KIND", "RESOURCE", "TABLE", "NOTES")
    rows = [header]
    for op in model.operations:
        table = model.resources[op.resource].table if op.resource else "-"
        own = op.base_path != model.base_path.path  # its own servers
        served = f"served under {op.base_path or '/'}" if own else ""
        rows.append(
            (
                op.operation_id,
                op.method,
                op.path,
                str(op.kind),
                op.resource or "-",
                table,
                "; ".join(n for n in (_notes(op), access_note(model, op), served) if n),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header) - 1)]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row[:-1], widths, strict=True))
        + "  "
        + row[-1]
        for row in rows
    ]
    custom = sum(1 for op in model.operations if needs_handler(op))
    title = f"{model.title} {model.version}".strip()
    served = f", served under {model.base_path.describe()}" if model.base_path.path else ""
    lines.insert(0, f"{title}: {len(model.operations)} operations, {custom} need a handler{served}")
    lines.extend(event_lines(model))
    return "\n".join(line.rstrip() for line in lines)
