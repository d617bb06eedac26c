"""Every stored type round-trips through HTTP on SQLite and PostgreSQL.

The contract (tests/fixtures/types/api.yaml, OpenAPI 3.0.3, no DBML) has one `Thing`
schema with a property of each type; its table is inferred from that schema.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import httpx
import pytest
from conftest import FIXTURES, served

from backsmith.api import load_model
from backsmith.model.types import Model

pytestmark = pytest.mark.anyio

MERGE_PATCH = {"content-type": "application/merge-patch+json"}
FULL: dict[str, Any] = {
    "name": "widget",
    "count": 7,
    "ratio": 0.25,
    "price": 12.34,
    "active": False,
    "kind": "b",
    "born": "1990-02-03",
    "seen_at": "2024-05-01T10:00:00+00:00",
    "meta": {"colour": "red", "size": {"w": 2, "h": 3}, "tags": ["x"], "ok": True},
    "labels": ["alpha", "beta"],
    "nested": [{"x": 1, "y": "one"}, {"x": 2}],
}
NULLABLE = ("ratio", "price", "active", "kind", "born", "seen_at", "meta", "labels", "nested")


@pytest.fixture(scope="module")
def types_model() -> Model:
    return load_model(FIXTURES / "types" / "api.yaml")


@pytest.fixture
async def things(types_model: Model, database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with served(types_model, database_url) as client:
        yield client


async def _create(client: httpx.AsyncClient, **fields: Any) -> dict[str, Any]:
    response = await client.post("/things", json={"name": "thing", **fields})
    assert response.status_code == 201, response.text
    return response.json()


async def _patch(client: httpx.AsyncClient, thing_id: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await client.patch(f"/things/{thing_id}", json=body, headers=MERGE_PATCH)
    assert response.status_code == 200, response.text
    return response.json()


def _instant(text: str) -> datetime:
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    assert parsed.tzinfo is not None, f"{text} has no offset"
    return parsed


def _problem_pointers(response: httpx.Response) -> list[str]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    return [error["pointer"] for error in response.json()["errors"]]


# ---------------------------------------------------------------- round trips
async def test_every_type_round_trips_with_its_json_type(things: httpx.AsyncClient) -> None:
    created = await _create(things, **FULL)
    for name, value in FULL.items():
        if name != "seen_at":
            assert created[name] == value, name
    assert _instant(created["seen_at"]) == _instant(FULL["seen_at"])  # "Z" or "+00:00"
    assert type(created["count"]) is int
    assert type(created["ratio"]) is float and type(created["price"]) is float
    assert created["active"] is False
    assert isinstance(created["meta"]["size"], dict) and created["meta"]["ok"] is True
    assert created["nested"][1] == {"x": 2}
    assert set(created) == {"id", "created_at", "updated_at", *FULL}

    read = await things.get(f"/things/{created['id']}")
    assert read.status_code == 200 and read.json() == created
    listed = (await things.get("/things")).json()
    assert listed == {"items": [created], "next_cursor": None}


async def test_nullable_fields_accept_null(things: httpx.AsyncClient) -> None:
    created = await _create(things, **dict.fromkeys(NULLABLE))
    for name in NULLABLE:
        assert name in created and created[name] is None, name
    assert (await things.get(f"/things/{created['id']}")).json() == created

    full = await _create(things, **FULL)
    cleared = await _patch(things, full["id"], dict.fromkeys(NULLABLE))
    for name in NULLABLE:
        assert cleared[name] is None, name
    assert cleared["name"] == "widget" and cleared["count"] == 7


async def test_non_nullable_fields_refuse_null(things: httpx.AsyncClient) -> None:
    response = await things.post("/things", json={"name": None, "count": None})
    assert sorted(_problem_pointers(response)) == ["#/count", "#/name"]
    thing = await _create(things)
    response = await things.patch(f"/things/{thing['id']}", json={"count": None})
    assert _problem_pointers(response) == ["#/count"]


async def test_invalid_values_are_refused_with_pointers(things: httpx.AsyncClient) -> None:
    bad = {
        "name": "x" * 51,
        "count": 1.5,
        "ratio": "high",
        "active": "yes",
        "kind": "z",
        "born": "1990-13-45",
        "labels": [1],
        "meta": [1, 2],
    }
    response = await things.post("/things", json=bad)
    pointers = set(_problem_pointers(response))
    expected = {"#/name", "#/count", "#/ratio", "#/active", "#/kind", "#/born", "#/meta"}
    assert expected <= pointers
    assert "#/labels/0" in pointers
    assert (await things.get("/things")).json()["items"] == []  # nothing was written

    fifty = await _create(things, name="y" * 50)
    assert fifty["name"] == "y" * 50


async def test_decimals_keep_their_value(things: httpx.AsyncClient) -> None:
    for value in (12.34, 0.1, 1234567.89, -5.5, 0):
        created = await _create(things, price=value)
        assert created["price"] == value, value
        assert (await things.get(f"/things/{created['id']}")).json()["price"] == value
    patched = await _patch(things, created["id"], {"price": 99.99})
    assert patched["price"] == 99.99


@pytest.mark.parametrize("value", [2**31, 2**40 + 3, 2**53 + 1, 2**63 - 1, -(2**63)])
async def test_int64_values_beyond_32_bits_round_trip(
    things: httpx.AsyncClient, value: int
) -> None:
    created = await _create(things, count=value)
    assert created["count"] == value
    assert (await things.get(f"/things/{created['id']}")).json()["count"] == value
    assert (await things.get("/things")).json()["items"][0]["count"] == value


async def test_int64_bounds_are_enforced(things: httpx.AsyncClient) -> None:
    response = await things.post("/things", json={"name": "big", "count": 2**63})
    assert _problem_pointers(response) == ["#/count"]


# ---------------------------------------------------------------- date-times
@pytest.mark.parametrize(
    "sent",
    [
        "2024-05-01T12:00:00+02:00",
        "2024-05-01T04:30:00-05:30",
        "2024-05-01T10:00:00Z",
        "2024-05-01T10:00:00.123456+00:00",
        "2024-12-31T23:30:00-01:00",  # the UTC instant is on the next day, in the next year
    ],
)
async def test_date_times_keep_their_instant_and_are_stored_as_utc(
    things: httpx.AsyncClient, sent: str
) -> None:
    created = await _create(things, seen_at=sent)
    returned = _instant(created["seen_at"])
    # Answered to the millisecond (the default precision): .123456 is read back as .123.
    expected = _instant(sent).replace(microsecond=_instant(sent).microsecond // 1000 * 1000)
    assert returned == expected
    assert returned.utcoffset() == timedelta(0)
    read = (await things.get(f"/things/{created['id']}")).json()
    assert _instant(read["seen_at"]) == expected
    assert _instant(read["seen_at"]).utcoffset() == timedelta(0)


async def test_date_time_offsets_order_by_instant(things: httpx.AsyncClient) -> None:
    first = await _create(things, seen_at="2024-05-01T12:00:00+02:00")  # 10:00Z
    second = await _create(things, seen_at="2024-05-01T09:30:00-01:00")  # 10:30Z
    assert _instant(first["seen_at"]) < _instant(second["seen_at"])
    assert _instant(second["seen_at"]) - _instant(first["seen_at"]) == timedelta(minutes=30)


@pytest.mark.parametrize(
    "naive", ["2024-05-01T12:00:00", "2024-05-01T12:00:00.5", "2024-05-01", "yesterday"]
)
async def test_a_date_time_without_offset_is_refused(things: httpx.AsyncClient, naive: str) -> None:
    response = await things.post("/things", json={"name": "naive", "seen_at": naive})
    assert _problem_pointers(response) == ["#/seen_at"]
    assert "date-time" in response.json()["errors"][0]["detail"]
    thing = await _create(things)
    response = await things.patch(f"/things/{thing['id']}", json={"seen_at": naive})
    assert _problem_pointers(response) == ["#/seen_at"]


# ---------------------------------------------------------------- server fields
async def test_ids_are_uuid7_and_increase_over_time(things: httpx.AsyncClient) -> None:
    before_ms = time.time_ns() // 1_000_000
    ids = []
    for _ in range(5):
        ids.append(UUID((await _create(things))["id"]))
        await asyncio.sleep(0.003)  # UUIDv7 order is by millisecond
    after_ms = time.time_ns() // 1_000_000
    for value in ids:
        assert value.version == 7
        assert str(value)[14] == "7" and str(value)[19] in "89ab"  # version and variant
        assert before_ms <= value.int >> 80 <= after_ms  # the 48-bit Unix-millisecond prefix
    assert ids == sorted(ids) and len(set(ids)) == 5
    assert [value.int >> 80 for value in ids] == sorted({value.int >> 80 for value in ids})


async def test_a_client_id_is_refused_and_nothing_is_stored(things: httpx.AsyncClient) -> None:
    mine = "00000000-0000-4000-8000-000000000000"
    response = await things.post("/things", json={"name": "thing", "id": mine})
    assert response.status_code == 422
    assert _problem_pointers(response) == ["#/id"]
    assert (await things.get(f"/things/{mine}")).status_code == 404
    created = await _create(things)
    assert UUID(created["id"]).version == 7


async def test_created_and_updated_at_are_set_by_the_server(things: httpx.AsyncClient) -> None:
    start = datetime.now(UTC) - timedelta(seconds=1)
    stale = "2000-01-01T00:00:00+00:00"
    refused = await things.post("/things", json={"name": "x", "created_at": stale})
    assert refused.status_code == 422 and _problem_pointers(refused) == ["#/created_at"]
    created = await _create(things)
    created_at, updated_at = _instant(created["created_at"]), _instant(created["updated_at"])
    assert start <= created_at <= datetime.now(UTC) + timedelta(seconds=1)
    assert created_at == updated_at

    await asyncio.sleep(0.01)
    stamped = {"name": "renamed", "created_at": stale, "updated_at": stale}
    path = f"/things/{created['id']}"
    refused = await things.patch(path, json=stamped, headers=MERGE_PATCH)
    assert refused.status_code == 422
    assert _problem_pointers(refused) == ["#/created_at", "#/updated_at"]
    patched = await _patch(things, created["id"], {"name": "renamed"})
    assert patched["name"] == "renamed"
    assert patched["created_at"] == created["created_at"]
    assert _instant(patched["updated_at"]) > updated_at

    await asyncio.sleep(0.01)
    assert (await things.put(path, json={**stamped, "name": "again"})).status_code == 422
    replaced = await things.put(path, json={"name": "again"})
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["created_at"] == created["created_at"]
    assert _instant(replaced.json()["updated_at"]) > _instant(patched["updated_at"])
    read = (await things.get(path)).json()
    assert read["created_at"] == created["created_at"]
    assert read["updated_at"] == replaced.json()["updated_at"]


# ---------------------------------------------------------------- writes
async def test_merge_patch_merges_nested_keys_and_null_removes_one(
    things: httpx.AsyncClient,
) -> None:
    thing = await _create(
        things, meta={"a": 1, "b": {"c": 2, "d": 3}, "e": "x", "list": [1, 2]}, labels=["l1"]
    )
    patched = await _patch(
        things,
        thing["id"],
        {"meta": {"b": {"c": 20, "d": None, "new": {"deep": True}}, "e": None, "f": [0]}},
    )
    assert patched["meta"] == {
        "a": 1,
        "b": {"c": 20, "new": {"deep": True}},
        "list": [1, 2],
        "f": [0],
    }
    assert patched["labels"] == ["l1"] and patched["name"] == "thing"  # untouched
    assert (await things.get(f"/things/{thing['id']}")).json()["meta"] == patched["meta"]

    arrays = await _patch(things, thing["id"], {"meta": {"list": [3]}, "labels": ["l2", "l3"]})
    assert arrays["meta"]["list"] == [3]  # arrays are replaced, not merged
    assert arrays["labels"] == ["l2", "l3"]

    emptied = await _patch(things, thing["id"], {"meta": None})
    assert emptied["meta"] is None
    regrown = await _patch(things, thing["id"], {"meta": {"z": {"y": None, "x": 1}}})
    assert regrown["meta"] == {"z": {"x": 1}}  # nulls never reach storage


async def test_merge_patch_as_plain_json_also_merges(things: httpx.AsyncClient) -> None:
    thing = await _create(things, meta={"a": 1, "b": 2})
    response = await things.patch(f"/things/{thing['id']}", json={"meta": {"b": None, "c": 3}})
    assert response.status_code == 200, response.text
    assert response.json()["meta"] == {"a": 1, "c": 3}


async def test_put_replaces_the_whole_item(things: httpx.AsyncClient) -> None:
    thing = await _create(things, **FULL)
    response = await things.put(f"/things/{thing['id']}", json={"name": "bare"})
    assert response.status_code == 200, response.text
    replaced = response.json()
    assert replaced["id"] == thing["id"] and replaced["name"] == "bare"
    for name in NULLABLE:
        assert replaced[name] is None, name  # absent optional fields are cleared
    assert "count" not in replaced  # not nullable in the schema, so absent rather than null
    assert (await things.get(f"/things/{thing['id']}")).json() == replaced

    again = await things.put(f"/things/{thing['id']}", json={**FULL, "meta": {"only": 1}})
    assert again.status_code == 200
    assert again.json()["meta"] == {"only": 1}  # PUT does not merge
    assert again.json()["count"] == 7

    missing = await things.put(f"/things/{UUID(int=0)}", json={"name": "ghost"})
    assert missing.status_code == 404
    assert _problem_pointers(await things.put(f"/things/{thing['id']}", json={})) == ["#"]


async def test_read_and_delete_by_uuid(things: httpx.AsyncClient) -> None:
    thing = await _create(things)
    assert (await things.get(f"/things/{thing['id']}")).status_code == 200
    assert (await things.get(f"/things/{thing['id'].upper()}")).json()["id"] == thing["id"]
    assert (await things.get("/things/not-a-uuid")).status_code == 422
    assert (await things.delete(f"/things/{thing['id']}")).status_code == 204
    assert (await things.get(f"/things/{thing['id']}")).status_code == 404
    assert (await things.delete(f"/things/{thing['id']}")).status_code == 404


async def test_things_list_walks_with_cursors(things: httpx.AsyncClient) -> None:
    created = [await _create(things, name=f"t{i}", count=2**40 + i) for i in range(7)]
    seen: list[dict[str, Any]] = []
    params: dict[str, Any] = {"limit": 3}
    while True:
        body = (await things.get("/things", params=params)).json()
        seen.extend(body["items"])
        if body["next_cursor"] is None:
            break
        params["cursor"] = body["next_cursor"]
    assert sorted(t["id"] for t in seen) == sorted(t["id"] for t in created)
    assert {t["count"] for t in seen} == {2**40 + i for i in range(7)}
