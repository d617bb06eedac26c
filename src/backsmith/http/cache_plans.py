"""Which reads keep their answers, and which writes drop them (see `policies.caching`).

A read or list declaring `x-backsmith: {cache: 30s}` keeps its answers, keyed by caller
when what it shows depends on who asks (owned rows, `where` scopes, `exists` values). A
write drops the answers of every table it may touch: a CRUD write the tables its rows,
children and links reach; a handler, a transition or a write with hooks every cached
table, since its code may write anywhere.
"""

from __future__ import annotations

from backsmith.http.handled import HandledPlan
from backsmith.http.plans import OperationPlan
from backsmith.model.types import Kind, Model
from backsmith.policies.caching import READS, ReadCache, Store, tables_of
from backsmith.settings import Settings


def plan_caches(plans: dict[str, OperationPlan], model: Model, settings: Settings) -> Store | None:
    """Give cached reads their cache and writes what they invalidate; the store, if any."""
    store = Store(settings.cache_entries)
    cached: set[str] = set()
    for plan in plans.values():
        operation = plan.operation
        seconds = operation.policies.cache_seconds
        if not seconds or operation.method != "GET" or operation.kind not in READS:
            continue
        tables = tables_of(operation, model)
        per_caller = bool(
            plan.needs_caller or plan.owners.any or operation.caller_scope is not None
        )
        plan.cache = ReadCache(seconds, tuple(sorted(tables)), per_caller, store)
        cached.update(tables)
    if not cached:
        return None
    for plan in plans.values():
        operation = plan.operation
        if operation.method in ("GET", "HEAD", "OPTIONS"):
            continue
        anywhere = (
            isinstance(plan, HandledPlan)
            or operation.kind == Kind.CUSTOM
            or getattr(plan, "write_hooks", None) is not None
        )
        touched = cached if anywhere else tables_of(operation, model) & cached
        plan.invalidates = tuple(sorted(touched))
        plan.invalidation = store
    return store
