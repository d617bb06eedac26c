"""Public read, owner write: `x-backsmith: {owner: author_id, visibility: public}`.

Anyone reads and lists public rows (anonymous too where the operation allows it); a
create takes its owner from the caller; only the owner, or an admin role, changes or
deletes a row, and another caller's change is a 403. Optional security (`[{}, {bearer:
[]}]`) admits anonymous callers and still knows a caller who sends a token. Private
owners (the default) behave as before. SQLite and PostgreSQL both.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from conftest import FIXTURES, served, write_file

from backsmith.api import load_model
from backsmith.errors import ContractError
from backsmith.model.types import Model, Visibility

pytestmark = pytest.mark.anyio

SECRET = "a-visibility-test-secret-of-32-bytes"
CONTRACT = FIXTURES / "visibility" / "api.yaml"


@pytest.fixture(scope="module")
def posts_model() -> Model:
    return load_model(CONTRACT)


@pytest.fixture
async def client(posts_model: Model, database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with served(posts_model, database_url, jwt_secret=SECRET) as served_client:
        yield served_client


def bearer(sub: object, *roles: str) -> dict[str, str]:
    claims = {"sub": str(sub), "exp": int(time.time()) + 600, "roles": list(roles)}
    return {"Authorization": f"Bearer {jwt.encode(claims, SECRET, algorithm='HS256')}"}


def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    return body


async def users(client: httpx.AsyncClient, *handles: str) -> list[dict[str, str]]:
    """Each handle signed up, as the headers of a caller whose token names them."""
    found = []
    for handle in handles:
        made = await client.post("/users", json={"handle": handle})
        assert made.status_code == 201, made.text
        found.append(bearer(made.json()["id"]))
    return found


async def a_post(client: httpx.AsyncClient, headers: dict[str, str], title: str) -> Any:
    made = await client.post("/posts", json={"title": title}, headers=headers)
    assert made.status_code == 201, made.text
    return made.json()


def test_visibility_is_read_into_the_model(posts_model: Model) -> None:
    assert posts_model.owners["posts"].visibility == Visibility.PUBLIC
    assert posts_model.owners["comments"].public
    # Rows under a public post's path follow its owner, and its visibility.
    assert posts_model.owners["attachments"].public
    assert posts_model.owners["notes"].visibility == Visibility.PRIVATE


async def test_anyone_reads_and_lists_public_rows(client: httpx.AsyncClient) -> None:
    ana, ben = await users(client, "ana", "ben")
    first = await a_post(client, ana, "Ana's first")
    await a_post(client, ben, "Ben's first")
    listed = await client.get("/posts")  # no token: the operation allows anonymous callers
    assert listed.status_code == 200, listed.text
    assert sorted(p["title"] for p in listed.json()) == ["Ana's first", "Ben's first"]
    assert "cache-control" not in listed.headers  # not an answer for one caller
    read = await client.get(f"/posts/{first['id']}")
    assert read.status_code == 200 and read.json()["title"] == "Ana's first"
    # A caller lists everyone's rows too, not only their own; filters still apply.
    theirs = await client.get("/posts", headers=ben)
    assert len(theirs.json()) == 2 and theirs.headers["cache-control"] == "no-store"
    by_ana = await client.get("/posts", params={"author_id": first["author_id"]}, headers=ben)
    assert [p["id"] for p in by_ana.json()] == [first["id"]]
    # security: [] lists rows under a public parent for anyone, too.
    comment = await client.post(
        f"/posts/{first['id']}/comments", json={"body": "Nice"}, headers=ben
    )
    assert comment.status_code == 201, comment.text
    comments = await client.get(f"/posts/{first['id']}/comments")
    assert comments.status_code == 200 and [c["body"] for c in comments.json()] == ["Nice"]
    problem(await client.get("/posts/999"), 404)
    problem(await client.get("/posts/999/comments"), 404)


async def test_the_owner_comes_from_the_caller_and_only_the_owner_changes_a_row(
    client: httpx.AsyncClient,
) -> None:
    ana, ben = await users(client, "ana", "ben")
    post = await a_post(client, ana, "Draft")
    ana_id = post["author_id"]
    assert ana_id == (await client.get(f"/posts/{post['id']}")).json()["author_id"]
    claimed = await client.post("/posts", json={"title": "x", "author_id": ana_id}, headers=ben)
    assert problem(claimed, 422)["errors"][0]["pointer"] == "#/author_id"
    patch = {"Content-Type": "application/merge-patch+json"}

    changed = await client.patch(
        f"/posts/{post['id']}", content=b'{"title": "Ben was here"}', headers={**ben, **patch}
    )
    body = problem(changed, 403)
    assert "belongs to another caller" in body["detail"] and body["code"] == "BSM301"
    problem(await client.delete(f"/posts/{post['id']}", headers=ben), 403)
    # Someone else's row is forbidden, a row that does not exist is still not found.
    problem(await client.delete("/posts/999", headers=ben), 404)
    missing = await client.patch("/posts/999", content=b'{"title": "x"}', headers={**ben, **patch})
    problem(missing, 404)
    # Anonymous callers are asked for credentials before anything else.
    anonymous = await client.delete(f"/posts/{post['id']}")
    assert problem(anonymous, 401) and anonymous.headers["www-authenticate"] == "Bearer"
    assert (await client.get(f"/posts/{post['id']}")).json()["title"] == "Draft"

    mine = await client.patch(
        f"/posts/{post['id']}", content=b'{"title": "Final"}', headers={**ana, **patch}
    )
    assert mine.status_code == 200 and mine.json()["title"] == "Final"
    gone = await client.delete(f"/posts/{post['id']}", headers=ana)
    assert gone.status_code == 204
    problem(await client.get(f"/posts/{post['id']}"), 404)


async def test_rows_of_a_public_parent(client: httpx.AsyncClient) -> None:
    ana, ben = await users(client, "ana", "ben")
    post = await a_post(client, ana, "Photos")
    # Comments have an owner of their own: anyone signed in comments on a public post.
    comment = await client.post(f"/posts/{post['id']}/comments", json={"body": "Hi"}, headers=ben)
    assert comment.status_code == 201 and comment.json()["author_id"] != post["author_id"]
    problem(await client.delete(f"/comments/{comment.json()['id']}", headers=ana), 403)
    assert (
        await client.delete(f"/comments/{comment.json()['id']}", headers=ben)
    ).status_code == 204
    # Attachments belong to whoever owns their post: only Ana adds them; anyone lists them.
    url = {"url": "https://example.com/a.png"}
    refused = await client.post(f"/posts/{post['id']}/attachments", json=url, headers=ben)
    assert "belongs to another caller" in problem(refused, 403)["detail"]
    added = await client.post(f"/posts/{post['id']}/attachments", json=url, headers=ana)
    assert added.status_code == 201, added.text
    problem(await client.post("/posts/999/attachments", json=url, headers=ana), 404)
    listed = await client.get(f"/posts/{post['id']}/attachments")
    assert listed.status_code == 200 and [a["url"] for a in listed.json()] == [url["url"]]


async def test_links_to_a_public_row(client: httpx.AsyncClient) -> None:
    """A like is the caller's own row: anyone adds theirs. A tag changes the post: its
    owner's alone (403 for another caller, 404 for no post)."""
    ana, ben = await users(client, "ana", "ben")
    post = await a_post(client, ana, "Tagged")
    tag = await client.post("/tags", json={"name": "sea"}, headers=ben)
    assert tag.status_code == 201, tag.text
    at = f"/posts/{post['id']}/tags/{tag.json()['id']}"
    assert "another caller" in problem(await client.put(at, headers=ben), 403)["detail"]
    problem(await client.put(f"/posts/999/tags/{tag.json()['id']}", headers=ben), 404)
    assert (await client.get(f"/posts/{post['id']}")).json()["tags"] == []
    assert (await client.put(at, headers=ana)).status_code == 204
    assert (await client.get(f"/posts/{post['id']}")).json()["tags"] == ["sea"]
    problem(await client.delete(at, headers=ben), 403)
    assert (await client.get(f"/posts/{post['id']}")).json()["tags"] == ["sea"]
    assert (await client.delete(at, headers=ana)).status_code == 204
    assert (await client.post(f"/posts/{post['id']}/like", headers=ben)).status_code == 200


async def test_an_admin_role_changes_every_row(client: httpx.AsyncClient) -> None:
    (ana,) = await users(client, "ana")
    post = await a_post(client, ana, "Spam")
    moderator = bearer("moderator-1", "moderator")
    edited = await client.patch(
        f"/posts/{post['id']}",
        content=b'{"title": "[removed]"}',
        headers={**moderator, "Content-Type": "application/merge-patch+json"},
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["title"] == "[removed]"
    assert edited.json()["author_id"] == post["author_id"]  # still Ana's
    assert (await client.delete(f"/posts/{post['id']}", headers=moderator)).status_code == 204
    assert (await client.get("/posts")).json() == []


async def test_optional_security_knows_the_caller_when_a_token_is_sent(
    client: httpx.AsyncClient,
) -> None:
    ana, ben = await users(client, "ana", "ben")
    post = await a_post(client, ana, "Liked")
    liked = await client.post(f"/posts/{post['id']}/like", headers=ben)  # anyone likes a post
    assert liked.status_code == 200, liked.text
    assert liked.json()["liked"] is True and liked.json()["likes_count"] == 1
    anonymous = await client.get(f"/posts/{post['id']}")
    assert anonymous.status_code == 200
    assert anonymous.json()["liked"] is False and anonymous.json()["likes_count"] == 1
    as_ben = await client.get(f"/posts/{post['id']}", headers=ben)
    assert as_ben.json()["liked"] is True
    as_ana = await client.get("/posts", headers=ana)
    assert [p["liked"] for p in as_ana.json()] == [False]
    assert [p["liked"] for p in (await client.get("/posts", headers=ben)).json()] == [True]
    # A token that is sent must be good, even where none is needed.
    bad = await client.get("/posts", headers={"Authorization": "Bearer not.a.token"})
    assert problem(bad, 401) and "invalid_token" in bad.headers["www-authenticate"]
    unliked = await client.delete(f"/posts/{post['id']}/like", headers=ben)
    assert unliked.json()["liked"] is False and unliked.json()["likes_count"] == 0
    problem(await client.post(f"/posts/{post['id']}/like"), 401)


async def test_a_private_owner_behaves_as_before(client: httpx.AsyncClient) -> None:
    ana, ben = await users(client, "ana", "ben")
    made = await client.post("/notes", json={"text": "secret"}, headers=ana)
    assert made.status_code == 201, made.text
    note = made.json()["id"]
    # Optional security does not open private rows: they act for the caller.
    anonymous = await client.get("/notes")
    assert problem(anonymous, 401) and anonymous.headers["www-authenticate"] == "Bearer"
    assert (await client.get("/notes", headers=ben)).json() == []
    assert [n["id"] for n in (await client.get("/notes", headers=ana)).json()] == [note]
    # Another owner's private row is not found, whatever the method.
    problem(await client.get(f"/notes/{note}", headers=ben), 404)
    patch = {"Content-Type": "application/merge-patch+json"}
    changed = await client.patch(
        f"/notes/{note}", content=b'{"text": "x"}', headers={**ben, **patch}
    )
    problem(changed, 404)
    problem(await client.delete(f"/notes/{note}", headers=ben), 404)
    assert (await client.get(f"/notes/{note}", headers=ana)).json()["text"] == "secret"


def _contract(tmp_path: Path, extension: str) -> Path:
    text = CONTRACT.read_text(encoding="utf-8").replace(
        "x-backsmith: {owner: author_id, visibility: public}\n      required: [title]",
        f"x-backsmith: {extension}\n      required: [title]",
    )
    (tmp_path / "schema.dbml").write_text(
        (CONTRACT.parent / "schema.dbml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    return write_file(tmp_path, "api.yaml", text)


@pytest.mark.parametrize(
    ("extension", "message"),
    [
        ("{owner: author_id, visibility: open}", "'visibility' must be private or public"),
        ("{owner: author_id, visibility: publik}", "did you mean 'public'"),
        ("{visibility: public}", "visibility applies to owned rows: declare owner beside it"),
    ],
)
def test_a_bad_visibility_names_its_pointer(tmp_path: Path, extension: str, message: str) -> None:
    with pytest.raises(ContractError) as raised:
        load_model(_contract(tmp_path, extension))
    rendered = str(raised.value)
    assert message in rendered
    assert "/components/schemas/Post/x-backsmith/visibility" in rendered


def test_private_rows_reached_from_public_ones_are_refused(tmp_path: Path) -> None:
    """Anyone reads a post: counting its comments is fine while they are public too, and
    refused once they are private, since every reader would learn about them."""
    counted = _contract(tmp_path, "{owner: author_id, visibility: public}").read_text()
    counted = counted.replace(
        "        liked: {type: boolean",
        "        comments_count: {type: integer, readOnly: true, x-backsmith: {count: comments}}\n"
        "        liked: {type: boolean",
    )
    assert "comments_count" in counted
    load_model(write_file(tmp_path, "api.yaml", counted))
    private = counted.replace(
        "x-backsmith: {owner: author_id, visibility: public}\n      required: [body]",
        "x-backsmith: {owner: author_id}\n      required: [body]",
    )
    assert private != counted
    with pytest.raises(ContractError, match=r"reaches rows that belong to their owners"):
        load_model(write_file(tmp_path, "api.yaml", private))
