"""docs/observability.md, run: its request line is the one the bookshop writes, its
console line the one the console format writes, its metrics table the metrics served."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
from conftest import BOOKSHOP, ROOT
from policy_servers import Instance

from backsmith.observe.request_log import RequestLog

PAGE = (ROOT / "docs" / "observability.md").read_text(encoding="utf-8")


def block(language: str, after: str) -> str:
    return PAGE.split(after, 1)[1].split(f"```{language}\n", 1)[1].split("```", 1)[0]


class Lines:
    def __init__(self) -> None:
        self.written = b""

    def write(self, data: bytes) -> int:
        self.written += data
        return len(data)

    def flush(self) -> None:
        pass


def test_the_documented_lines_and_metrics_are_the_ones_served(
    tmp_path: Path, instances: list[Any]
) -> None:
    command = block("sh", "## Logs").splitlines()
    assert command[0] == "BACKSMITH_LOG_FORMAT=json backsmith serve examples/bookshop/api-spec.md"
    instance = Instance(BOOKSHOP, tmp_path, {"BACKSMITH_LOG_FORMAT": "json"})
    instances.append(instance)
    instance.wait_ready()
    with httpx.Client(base_url=instance.base) as client:
        asked = client.get("/authors/7", headers={"X-Request-ID": "checkout-42"})
        assert asked.status_code == 404
        scraped = client.get("/metrics").text
    documented = json.loads(block("json", "## Logs"))
    output = instance.stop()
    served = next(
        json.loads(line) for line in output.splitlines() if '"request_id":"checkout-42"' in line
    )
    assert set(served) == set(documented)
    varying = ("time", "duration_ms")
    assert {k: v for k, v in served.items() if k not in varying} == {
        k: v for k, v in documented.items() if k not in varying
    }

    console = Lines()
    RequestLog("console", console).write(
        b"checkout-42", "GET", "/authors/{id}", "getAuthor", 404, 0.001214, None, None
    )
    assert console.written.decode() == block("text", "In the console format")

    table = PAGE.split("| metric | what it counts |", 1)[1].split("\n\n", 1)[0]
    listed = set(re.findall(r"^\| `(backsmith_\w+)`", table, re.MULTILINE))
    families = set(re.findall(r"^# TYPE (backsmith_\w+) ", scraped, re.MULTILINE))
    assert listed == families  # a counter's family is named with its _total
    sample = block("text", "## Metrics").strip()
    assert sample in scraped
