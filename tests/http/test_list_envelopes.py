"""Lists in real APIs' envelopes and schemas named unlike their paths, over HTTP.

tests/fixtures/envelopes/registry.yaml has no DBML: `ADGroup` rows at /groups, listed as
OData's `{value: [...], "@odata.nextLink"}`; `ApiVersion` rows at /apis/{api}/versions,
listed as Google's `{apiVersions: [...], nextPageToken}`, whose token is left out on the
last page since its schema does not allow null.
"""

from __future__ import annotations

import pytest
from conftest import FIXTURES, created, served

from backsmith.api import load_model
from backsmith.model.types import Kind, Model

pytestmark = pytest.mark.anyio

CONTRACT = FIXTURES / "envelopes" / "registry.yaml"


@pytest.fixture(scope="module")
def model() -> Model:
    return load_model(CONTRACT)


def test_every_operation_is_crud(model: Model) -> None:
    kinds = {(op.method, op.path): (op.kind, op.resource) for op in model.operations}
    assert kinds[("GET", "/groups")] == (Kind.LIST, "ad_groups")
    assert kinds[("GET", "/groups/{objectId}")] == (Kind.READ, "ad_groups")
    assert kinds[("GET", "/apis/{api}/versions")] == (Kind.LIST, "api_versions")
    assert kinds[("PATCH", "/apis/{api}/versions/{version}")] == (Kind.UPDATE, "api_versions")
    assert all(op.kind != Kind.CUSTOM for op in model.operations), [
        (op.method, op.path, op.reason) for op in model.operations if op.kind == Kind.CUSTOM
    ]
    assert set(model.resources) == {"ad_groups", "apis", "api_versions"}  # no envelope table


async def test_odata_list_serves_value_and_leaves_out_a_missing_next_link(
    model: Model, database_url: str
) -> None:
    async with served(model, database_url) as client:
        admins = await created(client, "/groups", {"displayName": "Admins"})
        await created(client, "/groups", {"displayName": "Readers", "mailNickname": "read"})
        listed = await client.get("/groups")
        assert listed.status_code == 200, listed.text
        body = listed.json()
        assert sorted(g["displayName"] for g in body["value"]) == ["Admins", "Readers"]
        assert "@odata.nextLink" not in body and "odata" not in body  # one key, no next page
        read = await client.get(f"/groups/{admins['id']}")
        assert read.status_code == 200 and read.json()["displayName"] == "Admins"
        assert (await client.delete(f"/groups/{admins['id']}")).status_code == 204
        assert (await client.get(f"/groups/{admins['id']}")).status_code == 404


async def test_nested_versions_in_a_google_envelope_end_to_end(
    model: Model, database_url: str
) -> None:
    async with served(model, database_url) as client:
        api = await created(client, "/apis", {"name": "petstore"})
        other = await created(client, "/apis", {"name": "library"})
        base = f"/apis/{api['id']}/versions"
        first = await created(client, base, {"name": "v1", "state": "draft"})
        await created(client, base, {"name": "v2"})
        await created(client, f"/apis/{other['id']}/versions", {"name": "v9"})

        page = (await client.get(base, params={"page_size": 1})).json()
        assert len(page["apiVersions"]) == 1 and page["nextPageToken"]
        rest = await client.get(base, params={"page_size": 1, "page_token": page["nextPageToken"]})
        assert rest.status_code == 200, rest.text
        last = rest.json()
        assert len(last["apiVersions"]) == 1 and "nextPageToken" not in last  # last page
        names = {v["name"] for v in [*page["apiVersions"], *last["apiVersions"]]}
        assert names == {"v1", "v2"}  # the other API's versions are not this one's

        item = f"{base}/{first['id']}"
        assert (await client.get(item)).json()["state"] == "draft"
        patched = await client.patch(item, json={"name": "v1.0", "state": "released"})
        assert patched.status_code == 200, patched.text
        assert patched.json()["state"] == "released" and patched.json()["name"] == "v1.0"
        assert (await client.get(f"/apis/{other['id']}/versions/{first['id']}")).status_code == 404
        assert (await client.delete(item)).status_code == 204
        assert (await client.get(item)).status_code == 404
        listed = (await client.get(base)).json()
        assert [v["name"] for v in listed["apiVersions"]] == ["v2"]
