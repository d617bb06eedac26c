"""Names a backend engineer reads without a declaration: a boolean `liked` is whether the
caller has a row in `likes`; `?liked=ana` lists what ana liked; a link under a path that
serves a view of a table (`/profiles/{handle}/follow`) links rows of that table."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import jwt
import pytest
import sqlalchemy as sa
from conftest import client_for, start_app, stop_app, write_file

from backsmith.api import check, load_model

pytestmark = pytest.mark.anyio
SECRET = "participle-test-secret-of-32-bytes-or-more"

DBML = """
Table users {
  id integer [pk, increment]
  handle varchar [unique, not null]
  bio text
}
Table posts {
  id integer [pk, increment]
  title varchar [not null]
  author_id integer [not null, ref: > users.id]
}
Table likes {
  user_id integer [not null, ref: > users.id]
  post_id integer [not null, ref: > posts.id]
  indexes {
    (user_id, post_id) [pk]
    post_id
  }
}
Table follows {
  follower_id integer [not null, ref: > users.id]
  followed_id integer [not null, ref: > users.id]
  indexes {
    (follower_id, followed_id) [pk]
    followed_id
  }
}
"""

API = """
openapi: 3.1.0
info: {title: Participles, version: '1'}
components:
  securitySchemes:
    bearer: {type: http, scheme: bearer}
  schemas:
    Post:
      type: object
      required: [id, title, liked]
      properties:
        id: {type: integer, readOnly: true}
        title: {type: string}
        liked: {type: boolean, readOnly: true}
    Profile:
      type: object
      properties:
        handle: {type: string}
        bio: {type: [string, 'null']}
        following: {type: boolean, readOnly: true, x-backsmith: {exists: followers}}
paths:
  /posts:
    get:
      security: [{}, {bearer: []}]
      parameters:
        - {name: liked, in: query, schema: {type: string}}
      responses:
        '200':
          description: posts
          content:
            application/json: {schema: {type: array, items: {$ref: '#/components/schemas/Post'}}}
  /posts/{id}:
    get:
      security: [{}, {bearer: []}]
      parameters: [{name: id, in: path, required: true, schema: {type: integer}}]
      responses:
        '200':
          description: a post
          content: {application/json: {schema: {$ref: '#/components/schemas/Post'}}}
  /posts/{id}/like:
    post:
      security: [{bearer: []}]
      x-backsmith: {link: likes}
      parameters: [{name: id, in: path, required: true, schema: {type: integer}}]
      responses:
        '200':
          description: the post
          content: {application/json: {schema: {$ref: '#/components/schemas/Post'}}}
  /profiles/{handle}:
    get:
      security: [{}, {bearer: []}]
      parameters: [{name: handle, in: path, required: true, schema: {type: string}}]
      responses:
        '200':
          description: a profile
          content: {application/json: {schema: {$ref: '#/components/schemas/Profile'}}}
  /profiles/{handle}/follow:
    post:
      security: [{bearer: []}]
      x-backsmith: {link: followers}
      parameters: [{name: handle, in: path, required: true, schema: {type: string}}]
      responses:
        '200':
          description: the profile
          content: {application/json: {schema: {$ref: '#/components/schemas/Profile'}}}
"""


def _as(user_id: int) -> dict[str, str]:
    claims = {"sub": str(user_id), "exp": int(time.time()) + 600}
    return {"Authorization": f"Bearer {jwt.encode(claims, SECRET, algorithm='HS256')}"}


def _contract(tmp_path: Path) -> tuple[Path, Path]:
    return write_file(tmp_path, "api.yaml", API), write_file(tmp_path, "schema.dbml", DBML)


def test_every_operation_is_served_without_a_handler(tmp_path: Path) -> None:
    report = check(*_contract(tmp_path))
    assert report.needs_handler == []


async def test_a_participle_is_the_callers_row_and_a_filter_by_whoever(
    tmp_path: Path, database_url: str
) -> None:
    model = load_model(*_contract(tmp_path))
    app = await start_app(model, database_url, jwt_secret=SECRET)
    try:
        # The contract has no creates for users and posts: rows are made in the database.
        async with app.engine.begin() as conn:
            await conn.execute(sa.text("INSERT INTO users (handle) VALUES ('ana'), ('ben')"))
            await conn.execute(
                sa.text("INSERT INTO posts (title, author_id) VALUES ('One', 1), ('Two', 2)")
            )
        async with client_for(app) as client:
            await _walk(client)
    finally:
        await stop_app(app)


async def _walk(client: httpx.AsyncClient) -> None:
    liked = await client.post("/posts/2/like", headers=_as(1))
    assert (liked.status_code, liked.json()["liked"]) == (200, True), liked.text
    assert (await client.get("/posts/2")).json()["liked"] is False  # anonymous
    assert (await client.get("/posts/2", headers=_as(2))).json()["liked"] is False
    by_ana = await client.get("/posts", params={"liked": "ana"})
    assert [p["title"] for p in by_ana.json()] == ["Two"]
    assert (await client.get("/posts", params={"liked": "ben"})).json() == []

    follow = await client.post("/profiles/ben/follow", headers=_as(1))
    assert follow.status_code == 200, follow.text
    assert follow.json() == {"handle": "ben", "bio": None, "following": True}
    assert (await client.get("/profiles/ben")).json()["following"] is False
