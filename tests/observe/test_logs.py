"""The log: one JSON line per request, with its id, operation and route, never a secret;
a console format to read; an unhandled error logged once with its request id; the start's
findings said in one block.

Served as a user serves it (`backsmith serve`, its standard error read after it stops),
except where a handler must fail on purpose (in-process, the log captured).
"""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import BOOKSHOP, FIXTURES, served
from policy_servers import Instance

from backsmith.api import load_model
from backsmith.logs import ConsoleFormatter, JsonFormatter

SECRET = "logs-test-secret-of-at-least-32-bytes!"
ACCOUNTS = FIXTURES / "accounts" / "api.yaml"
PASSWORD = "a-password-no-log-may-hold"
API_KEY = "sk_live_never_in_a_log_line"


def serve(folder: Path, contract: Path, instances: list[Any], **env: str) -> Instance:
    instance = Instance(contract, folder, {"BACKSMITH_JWT_SECRET": SECRET, **env})
    instances.append(instance)
    instance.wait_ready()
    return instance


def account_traffic(base: str) -> dict[str, str]:
    """Register, log in and read as the account; the secrets the log must not hold."""
    with httpx.Client(base_url=base, timeout=10) as client:
        body = {"user": {"username": "ursula", "email": "u@example.com", "password": PASSWORD}}
        made = client.post("/users", json=body)
        assert made.status_code == 201, made.text
        user = made.json()["user"]
        login = {"user": {"email": "u@example.com", "password": PASSWORD}}
        assert client.post("/users/login", json=login).status_code == 200
        token = {"Authorization": f"Token {user['token']}", "X-API-Key": API_KEY}
        mine = client.get("/user", headers={**token, "X-Request-ID": "checkout-42"})
        assert mine.headers["x-request-id"] == "checkout-42"  # honoured and echoed
        forged = client.get("/user", headers={**token, "X-Request-ID": 'x" level=error'})
        assert forged.headers["x-request-id"] != 'x" level=error'  # not plain: a new one
        assert len(forged.headers["x-request-id"]) == 32
        assert client.get("/articles/no-such-slug").status_code == 404
        return {"token": user["token"], "refresh": user["refreshToken"], "forged": forged}


def test_every_request_is_one_json_line_with_its_route_and_no_secret(
    tmp_path: Path, instances: list[Any]
) -> None:
    instance = serve(tmp_path, ACCOUNTS, instances, BACKSMITH_LOG_FORMAT="json")
    secrets = account_traffic(instance.base)
    output = instance.stop()
    lines = [json.loads(line) for line in output.splitlines() if line.strip()]  # every line
    requests = [line for line in lines if line["logger"] == "backsmith.requests"]
    routes = [
        (line["method"], line["route"], line["operation"], line["status"])
        for line in requests
        if line["route"] != "/healthz"  # the start's own readiness checks
    ]
    assert routes == [
        ("POST", "/users", "register", 201),
        ("POST", "/users/login", "login", 200),
        ("GET", "/user", "currentUser", 200),
        ("GET", "/user", "currentUser", 200),
        ("GET", None, None, 404),  # a path no operation takes is not written down
    ]
    mine = next(line for line in requests if line["request_id"] == "checkout-42")
    assert mine["subject"] and mine["status"] == 200 and mine["duration_ms"] > 0
    assert set(mine) == {
        "time",
        "level",
        "logger",
        "request_id",
        "operation",
        "method",
        "route",
        "status",
        "duration_ms",
        "subject",
    }
    assert not any("no-such-slug" in json.dumps(line) for line in lines)
    for secret in (PASSWORD, API_KEY, secrets["token"], secrets["refresh"], SECRET):
        assert secret not in output
    assert any(line["message"].startswith("backsmith ") for line in lines)  # the start, too


def test_the_console_format_is_one_readable_line_per_request(
    tmp_path: Path, instances: list[Any]
) -> None:
    instance = serve(tmp_path, BOOKSHOP, instances, BACKSMITH_LOG_FORMAT="console")
    with httpx.Client(base_url=instance.base) as client:
        client.get("/authors/7", headers={"X-Request-ID": "look-here"})
    output = instance.stop()
    line = next(line for line in output.splitlines() if "look-here" in line)
    assert line.startswith("INFO:     GET /authors/{id} 404 ")
    assert line.endswith("ms getAuthor [request look-here]")


def test_the_starts_findings_are_one_block(tmp_path: Path, instances: list[Any]) -> None:
    instance = serve(tmp_path, BOOKSHOP, instances, BACKSMITH_LOG_FORMAT="console")
    output = instance.stop()
    warnings = [line for line in output.splitlines() if line.startswith("WARNING")]
    assert len(warnings) == 1, output
    assert "refusing a production start (backsmith check --production lists each" in warnings[0]
    assert "writes with no security requirement, role or owner (20 operations:" in output


def test_a_log_level_above_info_writes_no_request_lines(
    tmp_path: Path, instances: list[Any]
) -> None:
    instance = serve(tmp_path, BOOKSHOP, instances, BACKSMITH_LOG_LEVEL="warning")
    with httpx.Client(base_url=instance.base) as client:
        assert client.get("/authors").headers["x-request-id"]  # the id is given all the same
    assert "/authors" not in instance.stop()


@pytest.mark.anyio
async def test_an_unhandled_error_is_logged_once_with_its_request_id_and_traceback(
    database_url: str,
) -> None:
    captured = io.StringIO()
    handler = logging.StreamHandler(captured)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("backsmith")
    logger.addHandler(handler)
    try:
        async with served(load_model(FIXTURES / "handlers" / "stockroom.yaml"), database_url) as c:
            item = (await c.post("/items", json={"name": "vase", "stock": 3})).json()
            broken = await c.post(f"/items/{item['id']}/explode")
    finally:
        logger.removeHandler(handler)
    assert broken.status_code == 500
    request_id = broken.headers["x-request-id"]
    assert request_id in broken.json()["detail"]
    records = [json.loads(line) for line in captured.getvalue().splitlines()]
    faults = [r for r in records if "exception" in r]
    assert len(faults) == 1, records
    assert faults[0]["request_id"] == request_id and faults[0]["level"] == "error"
    assert "Traceback" in faults[0]["exception"] and "broke after writing" in faults[0]["exception"]


def test_the_console_formatter_puts_the_request_id_after_the_message() -> None:
    record = logging.LogRecord("backsmith", logging.ERROR, __file__, 1, "it broke", None, None)
    record.request_id = "abc"
    assert ConsoleFormatter().format(record) == "ERROR:    it broke [request abc]"
