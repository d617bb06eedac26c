"""Policies read from `x-backsmith`: typed values, the nearest level wins, bad values located."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from cli_runs import BOOKS_API, run
from conftest import write_file as write

from backsmith.api import load_model
from backsmith.contract.load import load_contract
from backsmith.model.policies import (
    NO_POLICIES,
    Handler,
    Idempotency,
    Policies,
    RateLimit,
    Slo,
    Window,
    read_policies,
)
from backsmith.verify.describe import describe

API = """\
openapi: 3.1.0
info: {title: Shop, version: "1"}
x-backsmith:
  rate-limit: 100/minute
  slo: {p95: 50ms, p99: 0.2s, rps: 500}
paths:
  /orders:
    x-backsmith:
      idempotency: optional
    post:
      operationId: createOrder
      x-backsmith:
        idempotency: required
        rate-limit: 10/minutes
      responses: {"201": {description: made}}
    get:
      operationId: listOrders
      responses: {"200": {description: ok}}
  /orders/{id}/cancel:
    post:
      operationId: cancelOrder
      x-backsmith: {handler: "shop.hooks:cancel_order"}
      parameters: [{name: id, in: path, required: true, schema: {type: integer}}]
      responses: {"200": {description: ok}}
"""


def test_each_operation_takes_the_nearest_level_of_each_key(tmp_path: Path) -> None:
    contract = load_contract(write(tmp_path, "api.yaml", API))
    create, issues = read_policies(contract, "/orders", "post")
    assert issues == []
    op = "/paths/~1orders/post"
    assert create.rate_limit == RateLimit((Window(10, "minute"),), op)
    assert create.rate_limit.windows[0].seconds == 60
    assert create.idempotency == Idempotency.REQUIRED
    assert create.slo == Slo(p95_ms=50.0, p99_ms=200.0, rps=500.0)
    listing, _ = read_policies(contract, "/orders", "get")
    assert listing.rate_limit == RateLimit((Window(100, "minute"),), "")  # counted at the root
    assert listing.idempotency == "optional"  # from the path item
    cancel, _ = read_policies(contract, "/orders/{id}/cancel", "post")
    assert cancel.handler == Handler("shop.hooks", "cancel_order")
    assert cancel.describe() == (
        "rate-limit 100/minute, handler shop.hooks:cancel_order, slo p95 50ms, p99 200ms, 500 rps"
    )


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("rate-limit", "5", "'rate-limit' must be a count per period, e.g. '100/minute'"),
        ("rate-limit", "0/second", "'rate-limit' must be a count per period"),
        ("rate-limit", "3/fortnight", "'rate-limit' must be a count per period"),
        ("rate-limit", "[1/second, 5/seconds]", "'rate-limit' has two windows of one second"),
        ("rate-limit", "[1/second, 5]", "or a list of them, not 5"),
        ("idempotency", "always", "'idempotency' must be required or optional, not 'always'"),
        ("handler", "shop.hooks.cancel", "'handler' must be 'module:function'"),
        ("slo", "{p90: 10ms}", "'slo' has no percentile 'p90' (p95, p99; or rps)"),
        ("slo", "{p99: 200ms, rps: 0}", "'slo' rps must be a positive number"),
        ("slo", "{rps: 500}", "'slo' declares no budget: give p95, p99 or both"),
        ("slo", "{p95: fast}", "'slo' p95 must be a duration such as 50ms or 1s"),
        ("slo", "{p95: 80ms, p99: 20ms}", "'slo' p99 cannot be below p95"),
    ],
)
def test_a_bad_value_names_its_file_line_and_pointer(
    tmp_path: Path, key: str, value: str, message: str
) -> None:
    cancel = "      x-backsmith: {handler"
    api = API.replace(cancel, cancel.replace("{", f"{{{key}: {value}, "))
    if key == "handler":
        api = API.replace('{handler: "shop.hooks:cancel_order"}', f"{{handler: {value}}}")
    path = write(tmp_path, "api.yaml", api)
    _, issues = read_policies(load_contract(path), "/orders/{id}/cancel", "post")
    (issue,) = issues
    assert message in issue.message
    assert issue.pointer == f"/paths/~1orders~1{{id}}~1cancel/post/x-backsmith/{key}"
    line = api[: api.index("      x-backsmith: {")].count("\n") + 1  # cancelOrder's
    assert issue.file == str(path) and issue.line == line


def test_a_contract_without_policies_has_none(tmp_path: Path) -> None:
    model = load_model(write(tmp_path, "api.yaml", BOOKS_API))
    assert all(op.policies is NO_POLICIES for op in model.operations)


def test_a_latency_budget_is_served_and_its_bad_value_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    declared = (
        "      operationId: listBooks\n      x-backsmith:\n        slo: {p99: 200ms, rps: 50}\n"
    )
    good = BOOKS_API.replace("      operationId: listBooks\n", declared)
    code, _, err = run(capsys, "check", write(tmp_path, "api.yaml", good))
    assert code == 1, err  # lint: its writes ask for no credentials; no contract error
    api = good.replace("{p99: 200ms, rps: 50}", "{p90: 10ms}")
    code, _, err = run(capsys, "check", write(tmp_path, "api.yaml", api))
    assert code == 2
    assert "not supported by this version" not in err
    assert "'slo' has no percentile 'p90' (p95, p99; or rps)" in err


def test_a_bad_idempotency_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    api = BOOKS_API.replace(
        "      operationId: listBooks\n",
        "      operationId: listBooks\n      x-backsmith:\n        idempotency: always\n",
    )
    code, _, err = run(capsys, "check", write(tmp_path, "api.yaml", api))
    assert code == 2
    assert "'idempotency' must be required or optional, not 'always'" in err


def test_backsmith_model_shows_an_operations_policies(tmp_path: Path) -> None:
    model = load_model(write(tmp_path, "api.yaml", BOOKS_API))
    windows = (Window(10, "second"), Window(100, "hour"))
    limited = Policies(rate_limit=RateLimit(windows), idempotency=Idempotency.REQUIRED)
    first, *others = model.operations
    model = replace(model, operations=(replace(first, policies=limited), *others))
    (described, *_) = describe(model)["operations"]
    shown = "rate-limit 10/second, 100/hour, idempotency required"
    assert described["policies"] == shown and described["notes"].endswith(shown)


def test_windows_are_listed_shortest_first(tmp_path: Path) -> None:
    api = API.replace("rate-limit: 100/minute", "rate-limit: [1000/hour, 10/second]")
    listing, issues = read_policies(
        load_contract(write(tmp_path, "api.yaml", api)), "/orders", "get"
    )
    assert issues == [] and listing.rate_limit is not None
    assert listing.rate_limit.describe() == "10/second, 1000/hour"
