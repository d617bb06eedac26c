"""Conventions that name tables must not misfire on ordinary contracts: two schemas each
named by its own path stay two tables, one segment under two parents is two tables, a
pair no GET shows is no table, and a schema-less operation follows its neighbours' verdict.
"""

from __future__ import annotations

from conftest import FIXTURES

from backsmith.api import load_model
from backsmith.model.types import Kind

MODEL = load_model(FIXTURES / "guards" / "shop.yaml")
OPS = {f"{op.method} {op.path}": op for op in MODEL.operations}


def _columns(table: str) -> list[str]:
    return [f.column for f in MODEL.resources[table].fields]


def test_schemas_named_by_their_own_paths_are_their_own_tables() -> None:
    assert _columns("orders") == ["id", "customer", "total"]
    assert _columns("order_summaries") == ["id", "day", "order_count", "revenue"]
    assert OPS["POST /orders"].resource == "orders"
    assert OPS["GET /order-summaries"].resource == "order_summaries"


def test_one_inline_segment_under_two_parents_is_two_tables() -> None:
    assert _columns("project_members") == ["id", "project_id", "role"]
    assert _columns("team_members") == ["id", "team_id", "seat"]
    assert OPS["GET /projects/{projectId}/members"].resource == "project_members"
    assert OPS["GET /teams/{teamId}/members/{memberId}"].resource == "team_members"


def test_a_pair_no_get_shows_is_no_table() -> None:
    """A login taking a password is never stored as rows of a `sessions` table."""
    assert "sessions" not in MODEL.resources
    assert OPS["POST /sessions"].kind == Kind.CUSTOM
    assert OPS["DELETE /sessions/{token}"].kind == Kind.CUSTOM


def test_a_schema_less_delete_follows_its_neighbours_verdict() -> None:
    refused = OPS["GET /accounts/{id}"]
    assert refused.kind == Kind.CUSTOM and "not a collection or item path" in refused.reason
    assert OPS["DELETE /accounts/{id}"].kind == Kind.CUSTOM
    for key, kind in (("GET /tiles.json", Kind.LIST), ("DELETE /tiles/{id}.json", Kind.DELETE)):
        assert (OPS[key].kind, OPS[key].resource) == (kind, "thing_tiles"), key
