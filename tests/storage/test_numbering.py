"""A key a client chose moves PostgreSQL's numbering past it in the transaction that writes
its row: no other create is handed that number in between, and a numbering that cannot be
moved leaves no row behind."""

from __future__ import annotations

import secrets
import time
from typing import Any

import jwt
import pytest
import sqlalchemy as sa
from conftest import CORPUS, client_for, start_app, stop_app

from backsmith.api import load_model
from backsmith.http.app import create_app
from backsmith.settings import load_settings

pytestmark = [pytest.mark.anyio, pytest.mark.postgres]
SECRET = "a-numbering-test-secret-of-32-bytes-or-more"


def bearer(**claims: Any) -> dict[str, str]:
    token = jwt.encode({"sub": "u1", "exp": int(time.time()) + 600, **claims}, SECRET)
    return {"Authorization": f"Bearer {token}"}


async def test_a_row_whose_numbering_cannot_follow_is_not_kept(pg_url: str) -> None:
    model = load_model(CORPUS / "openapi" / "petstore3.yaml")
    owner = await start_app(model, pg_url, jwt_secret=SECRET, base_path="")  # makes the tables
    role = f"backsmith_numbering_{secrets.token_hex(4)}"
    grants = [
        f'CREATE ROLE "{role}" LOGIN',
        f'GRANT USAGE ON SCHEMA public TO "{role}"',
        f'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO "{role}"',
        # nextval, not setval: the numbering can hand out numbers but not be moved
        f'GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO "{role}"',
    ]
    async with owner.engine.begin() as conn:
        for statement in grants:
            await conn.execute(sa.text(statement))
    own_url = pg_url.replace("postgres@", f"{role}@", 1)
    app = create_app(
        model,
        load_settings(
            model.options, environ={}, database_url=own_url, jwt_secret=SECRET, base_path=""
        ),
    )
    caller = bearer(scope="write:pets read:pets")
    try:
        await app.startup()
        async with client_for(app) as client:
            numbered = await client.post(
                "/pet", json={"name": "cat", "photoUrls": []}, headers=caller
            )
            assert numbered.status_code == 200, numbered.text
            chosen = {"id": 500, "name": "doggie", "photoUrls": []}
            refused = await client.post("/pet", json=chosen, headers=caller)
            assert refused.status_code >= 500, refused.text  # setval: permission denied
            assert (await client.get("/pet/500", headers=caller)).status_code == 404
    finally:
        await stop_app(app)
        async with owner.engine.begin() as conn:
            await conn.execute(sa.text(f'DROP OWNED BY "{role}"'))
            await conn.execute(sa.text(f'DROP ROLE "{role}"'))
        await stop_app(owner)
