"""Load, as the run asks for it: the built-in generator's process, or wrk, and the progress line.

The built-in generator (worker.py) is one process for the whole run, started once and
given one command per operation, so a run of thirty operations pays for one interpreter.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from hdrh.histogram import HdrHistogram  # type: ignore[import-untyped]

from backsmith.bench.target import pin
from backsmith.bench.wrk import run_wrk
from backsmith.errors import BacksmithError


@dataclass(slots=True)
class StreamResult:
    """What one operation's requests met in one run."""

    histogram: Any  # HdrHistogram, in microseconds
    statuses: dict[int, int]
    transport: int
    first_failure: str = ""

    @property
    def answered(self) -> int:
        """Exchanges finished: answers and failures."""
        return int(self.histogram.get_total_count()) + self.transport


@dataclass(slots=True)
class RunResult:
    elapsed: float
    streams: dict[str, StreamResult]
    generator: str


@dataclass(frozen=True, slots=True)
class Load:
    """How hard and how long: the same for every operation of a run."""

    connections: int
    duration: float
    rate: float | None


Tick = Callable[[dict[str, Any]], None]  # progress: phase, requests, errors, elapsed
Streams = list[tuple[str, Path, int, bool]]  # (name, requests file, weight, sent once)


class Generators:
    """The run's generators: the built-in one always (warm-ups, --rate, --mix), wrk when
    chosen for fixed-concurrency runs of whole seconds."""

    def __init__(self, folder: Path, host: str, port: int, local: bool, wrk: str | None) -> None:
        self.folder = folder
        self.host, self.port = host, port
        self.wrk = wrk
        self.local = local
        log = (folder / "generator.log").open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "backsmith.bench.worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        )
        log.close()
        if local:
            pin(self.process.pid, server=False)

    def uses_wrk(self, load: Load, streams: int, once: bool = False) -> bool:
        """wrk for one stream cycled at fixed concurrency for whole seconds; else built-in."""
        whole = load.duration == int(load.duration)
        single = streams == 1 and not once
        return self.wrk is not None and load.rate is None and single and whole

    def warm(self, streams: Streams, load: Load, seconds: float, tick: Tick) -> RunResult:
        """A warm-up: the built-in generator, whatever measures, so it may be any length."""
        return self._builtin(streams, Load(load.connections, seconds, load.rate), tick, "warmup")

    def measure(self, streams: Streams, load: Load, tick: Tick, builtin: bool = False) -> RunResult:
        """The measured run (`builtin`: whatever wrk could do, as the operations' runs do)."""
        if builtin or not self.uses_wrk(load, len(streams), any(s[3] for s in streams)):
            return self._builtin(streams, load, tick)
        name, file, _, _ = streams[0]
        assert self.wrk is not None

        def wrk_tick(elapsed: float) -> None:
            tick({"phase": "measure", "requests": None, "errors": None, "elapsed": elapsed})

        base = f"http://{self.host}:{self.port}"  # the requests carry their whole paths
        seconds = int(load.duration)
        found = run_wrk(
            self.wrk, self.folder, base, file, load.connections, seconds, wrk_tick, self.local
        )
        stream = StreamResult(
            found["histogram"], found["statuses"], found["transport"], found["first_failure"]
        )
        return RunResult(found["elapsed"], {name: stream}, "wrk")

    def _builtin(self, streams: Streams, load: Load, tick: Tick, phase: str = "") -> RunResult:
        command = {
            "host": self.host,
            "port": self.port,
            "connections": load.connections,
            "duration": load.duration,
            "rate": load.rate,
            "streams": [
                {"name": n, "file": str(f), "weight": w, "once": o} for n, f, w, o in streams
            ],
        }
        stdin, stdout = self._pipes()
        stdin.write(json.dumps(command) + "\n")
        stdin.flush()
        while True:
            line = stdout.readline()
            if not line:
                raise BacksmithError(f"the load generator stopped: {self._log_tail()}")
            message = json.loads(line)
            if "progress" in message:
                progress = message["progress"]
                if phase:
                    progress["phase"] = phase
                tick(progress)
            elif "error" in message:
                raise BacksmithError(f"the load generator failed: {message['error']}")
            elif "result" in message:
                return _decoded(message["result"])

    def _pipes(self) -> tuple[IO[str], IO[str]]:
        if self.process.poll() is not None or not self.process.stdin or not self.process.stdout:
            raise BacksmithError(f"the load generator stopped: {self._log_tail()}")
        return self.process.stdin, self.process.stdout

    def _log_tail(self) -> str:
        path = self.folder / "generator.log"
        text = path.read_text(errors="replace").strip() if path.exists() else ""
        return text.splitlines()[-1] if text else "no output"

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        if self.process.stdout is not None:
            self.process.stdout.close()


def _decoded(result: dict[str, Any]) -> RunResult:
    streams = {}
    for name, found in result["streams"].items():
        streams[name] = StreamResult(
            HdrHistogram.decode(found["histogram"]),
            {int(status): int(count) for status, count in found["statuses"].items()},
            int(found["transport"]),
            str(found.get("first_failure", "")),
        )
    return RunResult(float(result["elapsed"]), streams, "builtin")


class ProgressLine:
    """One line per operation: rewritten in place on a terminal, printed once elsewhere."""

    def __init__(self, out: IO[str] | None = None) -> None:
        self.out = out if out is not None else sys.stderr
        self.terminal = self.out.isatty()
        self.last = 0.0

    def update(self, label: str, progress: dict[str, Any], seconds: float) -> None:
        if not self.terminal or time.monotonic() - self.last < 0.2:
            return
        self.last = time.monotonic()
        elapsed = float(progress.get("elapsed", 0))
        phase = progress.get("phase", "measure")
        counted = progress.get("requests")
        said = "running"
        if counted is not None:
            said = f"{counted} requests, {progress.get('errors', 0)} errors"
        self.out.write(f"\r\033[K{label:<28} {phase} {elapsed:4.1f}/{seconds:g} s  {said}")
        self.out.flush()

    def finish(self, line: str) -> None:
        self.out.write(("\r\033[K" if self.terminal else "") + line + "\n")
        self.out.flush()
