"""The request pipeline: each step timed into Server-Timing when asked, and only then."""

from __future__ import annotations

import re

import httpx
import pytest
from conftest import served

from backsmith.model.types import Model

pytestmark = pytest.mark.anyio

TIMING = re.compile(r"^([a-z]+);dur=(\d+\.\d{3})$")


def steps(response: httpx.Response) -> dict[str, float]:
    """The Server-Timing entries as step -> milliseconds, each checked for its form."""
    found = {}
    for entry in response.headers["server-timing"].split(", "):
        match = TIMING.match(entry)
        assert match is not None, entry
        found[match.group(1)] = float(match.group(2))
    return found


async def test_server_timing_lists_each_step_of_the_chain(
    bookshop_model: Model, database_url: str
) -> None:
    async with served(bookshop_model, database_url, server_timing=True) as client:
        created = await client.post("/authors", json={"name": "Ursula K. Le Guin"})
        assert created.status_code == 201, created.text
        timed = steps(created)
        # An open operation has no authenticate step: it is not in its chain at all. A POST
        # honours Idempotency-Key: its step is in the chain, sent one or not.
        assert list(timed) == ["parse", "idempotency", "execute", "total"]
        # Each is rounded to a microsecond; the whole request holds the steps and more.
        assert timed["execute"] > 0 and timed["total"] + 0.002 >= timed["parse"] + timed["execute"]
        listed = await client.get("/authors")  # a read's answer is tagged (ETag) outside
        assert list(steps(listed)) == ["conditions", "parse", "execute", "total"]
        # A problem answer is timed too, up to the step that refused.
        missing = await client.get("/authors/999999")
        assert missing.status_code == 404
        assert list(steps(missing)) == ["conditions", "parse", "execute", "total"]
        invalid = await client.get("/authors/abc")
        assert invalid.status_code in (400, 422)
        assert list(steps(invalid)) == ["conditions", "parse", "total"]
        assert invalid.headers["x-content-type-options"] == "nosniff"


async def test_no_server_timing_unless_asked(bookshop_model: Model, database_url: str) -> None:
    async with served(bookshop_model, database_url) as client:
        created = await client.post("/authors", json={"name": "Ursula K. Le Guin"})
        assert created.status_code == 201, created.text
        assert "server-timing" not in created.headers
        assert "server-timing" not in (await client.get("/authors")).headers
