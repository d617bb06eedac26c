"""A filter the service cannot serve is refused alone, with a 400 naming it; the list its
operation declares is served (it used to answer 501 for every request)."""

from __future__ import annotations

import time
from pathlib import Path

import jwt
import pytest
from conftest import CORPUS, needs_shared, served

from backsmith.api import load_model

pytestmark = pytest.mark.anyio

BASE = "/api/v3"  # the path of its server, https://petstore3.swagger.io/api/v3
SECRET = "refused-filters-test-secret-of-32-bytes-or-more"


def _token() -> dict[str, str]:
    claims = {"sub": "1", "exp": time.time() + 600, "scope": "write:pets read:pets"}
    return {"authorization": f"Bearer {jwt.encode(claims, SECRET, algorithm='HS256')}"}


@needs_shared
async def test_petstore_find_by_tags_refuses_only_the_tags_parameter(tmp_path: Path) -> None:
    model = load_model(CORPUS / "openapi" / "petstore3.yaml")
    async with served(model, f"sqlite:///{tmp_path / 'pets.db'}", jwt_secret=SECRET) as client:
        pet = {"name": "doggie", "photoUrls": [], "tags": [{"id": 1, "name": "good"}]}
        created = await client.post(f"{BASE}/pet", json=pet, headers=_token())
        assert created.status_code == 200, created.text
        listed = await client.get(f"{BASE}/pet/findByTags", headers=_token())
        assert listed.status_code == 200, listed.text
        assert [p["name"] for p in listed.json()] == ["doggie"]
        refused = await client.get(f"{BASE}/pet/findByTags?tags=good", headers=_token())
        assert refused.status_code == 400, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
        (error,) = refused.json()["errors"]
        assert (error["parameter"], error["in"]) == ("tags", "query")
        assert "cannot be served: tags is json" in error["detail"]
        # The other lists of the contract filter as before.
        by_status = await client.get(f"{BASE}/pet/findByStatus?status=available", headers=_token())
        assert by_status.status_code == 200, by_status.text
