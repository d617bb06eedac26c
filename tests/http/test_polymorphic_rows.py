"""Rows of a oneOf schema, over HTTP: the ably corpus contract's integration rules.

`rule_response` is one of eleven rule kinds (`http`, `amqp`, `aws/lambda`...) told apart by
`ruleType`; without DBML its table has every kind's properties, and /apps/{app_id}/rules
serves them as a collection nested under apps.
"""

from __future__ import annotations

import pytest
from conftest import CORPUS, bearer, client_for, needs_shared, start_app, stop_app

from backsmith.api import load_model

pytestmark = pytest.mark.anyio

ABLY = CORPUS / "openapi" / "apis-guru" / "ably.net__control.yaml"
BASE = "/v1"  # the path of its server URL
SECRET = "polymorphic-rows-test-secret-of-32-bytes"


@needs_shared
async def test_ably_rules_of_any_kind_are_rows_of_their_app(database_url: str) -> None:
    model = load_model(ABLY)
    auth = bearer(SECRET)
    app = await start_app(model, database_url, jwt_secret=SECRET)
    try:
        async with client_for(app) as client:
            apps = f"{BASE}/accounts/acc1/apps"
            made = await client.post(apps, json={"name": "demo"}, headers=auth)
            assert made.status_code == 201, made.text
            app_id = made.json()["id"]
            rule = {
                "ruleType": "http",
                "requestMode": "single",
                "source": {"channelFilter": "^orders", "type": "channel.message"},
                "target": {"url": "https://example.com/hook", "format": "json"},
            }
            created = await client.post(f"{BASE}/apps/{app_id}/rules", json=rule, headers=auth)
            assert created.status_code == 201, created.text
            rule_id = created.json()["id"]
            assert created.json()["ruleType"] == "http"
            listed = await client.get(f"{BASE}/apps/{app_id}/rules", headers=auth)
            assert listed.status_code == 200, listed.text
            assert [r["id"] for r in listed.json()] == [rule_id]
            item = f"{BASE}/apps/{app_id}/rules/{rule_id}"
            read = await client.get(item, headers=auth)
            assert read.status_code == 200 and read.json()["source"]["channelFilter"] == "^orders"
            # No PATCH: the contract's `ifttt_rule_patch` branch is `{}`, so every body is
            # valid under two of rule_patch's oneOf branches and is refused, as it says.
            assert (await client.delete(item, headers=auth)).status_code == 204
            assert (await client.get(item, headers=auth)).status_code == 404
    finally:
        await stop_app(app)
