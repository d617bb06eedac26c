"""Built-in accounts over HTTP: register, login, refresh rotation and reuse, logout, me.

The contract (tests/fixtures/accounts) is RealWorld-shaped: `{"user": {...}}` wrappers,
`Authorization: Token <jwt>`, the token inside the user; its refresh and logout use
OAuth-style bodies. SQLite and PostgreSQL both.
"""

from __future__ import annotations

import base64
import statistics
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import jwt
import pytest
import sqlalchemy as sa
from conftest import FIXTURES, served, start_app, stop_app

from backsmith.api import load_model
from backsmith.model.types import Model
from backsmith.security.exposure import ExposureRefused

pytestmark = pytest.mark.anyio

SECRET = "accounts-test-secret-of-32-bytes-or-more"
CONTRACT = FIXTURES / "accounts" / "api.yaml"


@pytest.fixture(scope="module")
def writers() -> Model:
    return load_model(CONTRACT)


@pytest.fixture
async def site(writers: Model, database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with served(writers, database_url, jwt_secret=SECRET) as client:
        yield client


def token_header(token: str) -> dict[str, str]:
    return {"Authorization": f"Token {token}"}


async def register(
    client: httpx.AsyncClient, name: str = "ursula", password: str = "a-long-password"
) -> dict[str, Any]:
    body = {"user": {"username": name, "email": f"{name}@example.com", "password": password}}
    response = await client.post("/users", json=body)
    assert response.status_code == 201, response.text
    return dict(response.json()["user"])


async def login(
    client: httpx.AsyncClient, name: str = "ursula", password: str = "a-long-password"
) -> httpx.Response:
    body = {"user": {"email": f"{name}@example.com", "password": password}}
    return await client.post("/users/login", json=body)


async def test_register_stores_an_argon2id_hash_and_answers_with_a_token(
    site: httpx.AsyncClient, writers: Model, database_url: str
) -> None:
    user = await register(site)
    assert set(user) == {"email", "username", "bio", "token", "refreshToken"}
    assert "password" not in str(user) and "argon2" not in str(user)
    claims = jwt.decode(user["token"], SECRET, algorithms=["HS256"])
    assert claims["roles"] == ["reader"] and claims["exp"] - claims["iat"] == 900
    me = await site.get("/user", headers=token_header(user["token"]))
    assert me.status_code == 200
    assert me.json()["user"]["username"] == "ursula"
    assert me.json()["user"]["token"] == user["token"]
    stored = await _stored_hash(database_url)
    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")


async def _stored_hash(database_url: str) -> str:
    query = "SELECT password_hash FROM users"
    if database_url.startswith("sqlite"):
        engine = sa.create_engine(database_url)
        with engine.connect() as conn:
            value = conn.execute(sa.text(query)).scalar_one()
        engine.dispose()
        return str(value)
    import asyncpg

    conn = await asyncpg.connect(database_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        return str(await conn.fetchval(query))
    finally:
        await conn.close()


async def test_registration_refuses_taken_names_weak_passwords_and_roles(
    site: httpx.AsyncClient,
) -> None:
    await register(site)
    taken = await site.post(
        "/users",
        json={"user": {"username": "ursula", "email": "x@example.com", "password": "long-enough"}},
    )
    assert taken.status_code == 409 and "already exists" in taken.json()["detail"]
    weak = await site.post(
        "/users", json={"user": {"username": "w", "email": "w@example.com", "password": "short"}}
    )
    assert weak.status_code == 422
    assert weak.json()["errors"][0]["pointer"] == "#/user/password"
    admin = {"username": "m", "email": "m@example.com", "password": "long-enough", "roles": "admin"}
    assert (await site.post("/users", json={"user": admin})).status_code == 422


async def test_wrong_password_and_unknown_account_get_one_answer(
    site: httpx.AsyncClient,
) -> None:
    await register(site)
    wrong = await login(site, password="not-the-password")
    unknown = await login(site, name="nobody")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["detail"] == unknown.json()["detail"]
    assert wrong.headers["www-authenticate"] == unknown.headers["www-authenticate"]
    good = await login(site)
    assert good.status_code == 200
    assert good.json()["user"]["refreshToken"].startswith("bsr_")


async def test_logins_are_limited_per_account(site: httpx.AsyncClient) -> None:
    await register(site)
    answers = [(await login(site, password="wrong-password")).status_code for _ in range(6)]
    assert answers == [401] * 5 + [429]
    limited = await login(site)  # even the right password waits now
    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) >= 1
    assert limited.headers["content-type"] == "application/problem+json"


async def test_refresh_tokens_rotate_and_a_reused_one_ends_the_login(
    site: httpx.AsyncClient,
) -> None:
    await register(site)
    first = (await login(site)).json()["user"]["refreshToken"]
    rotated = await site.post("/auth/refresh", json={"refresh_token": first})
    assert rotated.status_code == 200, rotated.text
    tokens = rotated.json()
    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] == 900
    assert tokens["refresh_token"] != first
    me = await site.get("/user", headers=token_header(tokens["access_token"]))
    assert me.status_code == 200
    # The first token again: someone kept a copy. Its whole family is revoked.
    replay = await site.post("/auth/refresh", json={"refresh_token": first})
    assert replay.status_code == 401 and "revoked" in replay.json()["detail"]
    after = await site.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert after.status_code == 401
    forged = await site.post("/auth/refresh", json={"refresh_token": "bsr_x_y"})
    assert forged.status_code == 401


async def test_logout_revokes_the_refresh_token(site: httpx.AsyncClient) -> None:
    await register(site)
    refresh = (await login(site)).json()["user"]["refreshToken"]
    out = await site.post("/auth/logout", json={"refresh_token": refresh})
    assert out.status_code == 204
    assert (await site.post("/auth/refresh", json={"refresh_token": refresh})).status_code == 401
    assert (await site.post("/auth/logout")).status_code == 401  # nothing names a login


async def test_me_changes_the_profile_and_the_password(site: httpx.AsyncClient) -> None:
    user = await register(site)
    auth = token_header(user["token"])
    changed = await site.put(
        "/user", json={"user": {"bio": "Earthsea", "password": "a-new-long-password"}}, headers=auth
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["user"]["bio"] == "Earthsea"
    assert (await login(site)).status_code == 401
    assert (await login(site, password="a-new-long-password")).status_code == 200
    sneaky = await site.put("/user", json={"user": {"roles": "admin"}}, headers=auth)
    assert sneaky.status_code == 422
    assert (await site.get("/user")).status_code == 401


async def test_the_account_owns_what_it_writes_and_basic_works(site: httpx.AsyncClient) -> None:
    ursula = await register(site)
    other = await register(site, "mallory")
    written = await site.post(
        "/articles", json={"title": "Earthsea"}, headers=token_header(ursula["token"])
    )
    assert written.status_code == 201, written.text
    mine = await site.get("/articles", headers=token_header(ursula["token"]))
    assert [a["title"] for a in mine.json()] == ["Earthsea"]
    assert (await site.get("/articles", headers=token_header(other["token"]))).json() == []
    basic = base64.b64encode(b"ursula@example.com:a-long-password").decode()
    by_basic = await site.get("/articles", headers={"Authorization": f"Basic {basic}"})
    assert by_basic.status_code == 200 and len(by_basic.json()) == 1
    bad = base64.b64encode(b"ursula@example.com:wrong").decode()
    refused = await site.get("/articles", headers={"Authorization": f"Basic {bad}"})
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"] == 'Basic realm="backsmith"'


async def test_unknown_and_wrong_take_the_same_time(writers: Model, database_url: str) -> None:
    """Timing, measured over many tries: medians within a quarter of each other."""
    limits = {"jwt_secret": SECRET, "login_rate_limit": "1000/minute"}
    async with served(writers, database_url, **limits) as client:
        await register(client)
        unknown, wrong = [], []
        for _ in range(12):
            for name, into in (("nobody", unknown), ("ursula", wrong)):
                start = time.perf_counter()
                assert (await login(client, name=name, password="guess-me-not")).status_code == 401
                into.append(time.perf_counter() - start)
    ratio = statistics.median(unknown) / statistics.median(wrong)
    assert 0.75 < ratio < 1.33, (statistics.median(unknown), statistics.median(wrong))


async def test_production_needs_a_secret_to_issue_tokens(writers: Model, database_url: str) -> None:
    with pytest.raises(ExposureRefused, match="accounts issue tokens"):
        await start_app(writers, database_url, env="production")
    app = await start_app(writers, database_url, env="production", jwt_secret=SECRET)
    await stop_app(app)


async def test_basic_checks_are_limited_and_a_new_password_ends_old_logins(
    site: httpx.AsyncClient,
) -> None:
    await register(site)
    wrong = base64.b64encode(b"ursula@example.com:wrong-password").decode()
    answers = []
    for _ in range(6):
        response = await site.get("/articles", headers={"Authorization": f"Basic {wrong}"})
        answers.append(response.status_code)
    assert answers == [401] * 5 + [429]


async def test_a_new_password_revokes_refresh_tokens(site: httpx.AsyncClient) -> None:
    await register(site)
    logged_in = (await login(site)).json()["user"]
    auth = token_header(logged_in["token"])
    changed = await site.put("/user", json={"user": {"password": "another-long-one"}}, headers=auth)
    assert changed.status_code == 200
    stale = await site.post("/auth/refresh", json={"refresh_token": logged_in["refreshToken"]})
    assert stale.status_code == 401


async def test_logout_with_only_an_access_token_ends_every_login(
    site: httpx.AsyncClient,
) -> None:
    user = await register(site)
    refresh = (await login(site)).json()["user"]["refreshToken"]
    out = await site.post("/auth/logout", headers=token_header(user["token"]))
    assert out.status_code == 204
    assert (await site.post("/auth/refresh", json={"refresh_token": refresh})).status_code == 401


@pytest.fixture(scope="module")
def lax_writers(tmp_path_factory: pytest.TempPathFactory) -> Model:
    """The accounts contract with open request schemas that name roles, and a plain read."""
    folder = tmp_path_factory.mktemp("lax")
    text = CONTRACT.read_text(encoding="utf-8")
    text = text.replace(
        "          additionalProperties: false\n          required: [username, email, password]\n",
        "          required: [username, email, password]\n",
    ).replace(
        "            password: {type: string, writeOnly: true}\n    LoginRequest:",
        "            password: {type: string, writeOnly: true}\n"
        "            roles: {type: string}\n            password_hash: {type: string}\n"
        "    LoginRequest:",
    )
    text = text.replace(
        "  /users/login:",
        "  /users/{id}:\n    get:\n      operationId: getUser\n"
        "      parameters: [{name: id, in: path, required: true, schema: {type: integer}}]\n"
        "      responses:\n        '200': {description: A user., content: {application/json: "
        "{schema: {type: object}}}}\n  /users/login:",
    )
    (folder / "schema.dbml").write_text(
        (CONTRACT.parent / "schema.dbml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    (folder / "api.yaml").write_text(text, encoding="utf-8")
    return load_model(folder / "api.yaml")


async def test_no_body_sets_roles_or_the_hash_and_no_answer_shows_it(
    lax_writers: Model, database_url: str
) -> None:
    async with served(lax_writers, database_url, jwt_secret=SECRET) as client:
        body = {
            "username": "m",
            "email": "m@example.com",
            "password": "long-enough",
            "roles": "admin",
            "password_hash": "$argon2id$forged",
        }
        created = await client.post("/users", json={"user": body})
        assert created.status_code == 201, created.text
        claims = jwt.decode(created.json()["user"]["token"], SECRET, algorithms=["HS256"])
        assert claims["roles"] == ["reader"]
        assert (await login(client, "m", "long-enough")).status_code == 200
        mine = token_header(created.json()["user"]["token"])
        read = await client.get(f"/users/{claims['sub']}", headers=mine)
        assert read.status_code == 200 and "password_hash" not in read.json()
        assert "argon2" not in read.text


async def test_subjects_have_one_spelling_and_basic_forgets_old_passwords(
    site: httpx.AsyncClient,
) -> None:
    user = await register(site)
    sub = jwt.decode(user["token"], SECRET, algorithms=["HS256"])["sub"]
    padded = jwt.encode({"sub": f"0{sub}", "exp": int(time.time()) + 600}, SECRET)
    assert (await site.get("/user", headers=token_header(padded))).status_code == 401
    old = base64.b64encode(b"ursula@example.com:a-long-password").decode()
    basic = {"Authorization": f"Basic {old}"}
    assert (await site.get("/articles", headers=basic)).status_code == 200
    auth = token_header(user["token"])
    moved = await site.put("/user", json={"user": {"password": "brand-new-password"}}, headers=auth)
    assert moved.status_code == 200
    assert (await site.get("/articles", headers=basic)).status_code == 401
