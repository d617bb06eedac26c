"""wrk as the generator of fixed-concurrency runs, when it is on PATH.

Its Lua script cycles through the same request file the built-in generator reads, counts
the statuses in `response()`, and in `done()` prints every latency bucket wrk kept (it
keeps one per microsecond), so the HDR histogram built from them is exact. wrk takes whole
seconds only, and its latencies cannot be told apart by request, so runs of a fraction of
a second and --mix runs use the built-in generator.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hdrh.histogram import HdrHistogram  # type: ignore[import-untyped]

from backsmith.bench.worker import HIGHEST_US, new_histogram
from backsmith.errors import BacksmithError

MARK = "BENCH_WRK "
LUA = r"""
-- backsmith bench: the requests of one file, cycled in order (each create body once).
local pool = {}
local index = 0
local threads = {}
counts = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  local file = assert(io.open(args[1], "rb"))
  local data = file:read("*a")
  file:close()
  local position = 1
  while position <= #data do
    local newline = string.find(data, "\n", position, true)
    local size = tonumber(string.sub(data, position, newline - 1))
    pool[#pool + 1] = string.sub(data, newline + 1, newline + size)
    position = newline + 1 + size
  end
end

function request()
  index = index + 1
  if index > #pool then index = 1 end
  return pool[index]
end

function response(status, headers, body)
  counts[status] = (counts[status] or 0) + 1
end

function done(summary, latency, requests)
  local statuses = {}
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("counts")) do
      statuses[status] = (statuses[status] or 0) + n
    end
  end
  local said = {}
  for status, n in pairs(statuses) do
    said[#said + 1] = string.format('"%d":%d', status, n)
  end
  local buckets = {}
  for i = 1, #latency do
    local value, count = latency(i)
    buckets[#buckets + 1] = string.format("[%d,%d]", value, count)
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_WRK {"requests":%d,"duration_us":%d,"statuses":{%s},' ..
    '"transport":%d,"latency_us":[%s]}\n',
    summary.requests, summary.duration, table.concat(said, ","),
    e.connect + e.read + e.write + e.timeout, table.concat(buckets, ",")))
end
"""


def wrk_binary() -> str | None:
    return shutil.which("wrk")


def run_wrk(
    binary: str,
    folder: Path,
    base: str,
    requests_file: Path,
    connections: int,
    seconds: int,
    tick: Callable[[float], None],
    pinned: bool,
) -> dict[str, Any]:
    """One measured wrk run: {"elapsed", "histogram", "statuses", "transport"}."""
    script = folder / "bench.lua"
    if not script.exists():
        script.write_text(LUA)
    command = [binary, "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "30s"]
    command += ["-s", str(script), base, "--", str(requests_file)]
    started = time.monotonic()
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as process:
        from backsmith.bench.target import pin

        if pinned:  # beside a service this run started: off its core
            pin(process.pid, server=False)
        while process.poll() is None:
            time.sleep(0.25)
            tick(time.monotonic() - started)
        output = process.stdout.read() if process.stdout else ""
    line = next((x for x in output.splitlines() if x.startswith(MARK)), None)
    if process.returncode != 0 or line is None:
        raise BacksmithError(f"wrk failed (exit {process.returncode}): {output.strip()[-300:]}")
    found = json.loads(line[len(MARK) :])
    histogram: HdrHistogram = new_histogram()
    for value, count in found["latency_us"]:
        histogram.record_value(min(HIGHEST_US, max(1, int(value))), int(count))
    return {
        "elapsed": found["duration_us"] / 1_000_000,
        "histogram": histogram,
        "statuses": {int(k): int(v) for k, v in found["statuses"].items()},
        "transport": int(found["transport"]),
        "first_failure": "wrk counted connect, read, write or timeout errors"
        if found["transport"]
        else "",
    }
