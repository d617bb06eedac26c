"""The README's tour, run as written with bash and curl against a served bookshop.

Only the port changes (8000 may be taken where the tests run) and `make serve` becomes the
command it runs; every other line is the README's own.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from conftest import BOOKSHOP
from loopback_ports import free_port

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()
TOUR = README[README.index("## A short tour") : README.index("## Commands")]
VENV = Path(sys.executable).parent.parent

pytestmark = pytest.mark.skipif(
    not shutil.which("curl") or not (VENV / "bin" / "python").exists(),
    reason="the tour needs curl and a virtualenv",
)


@contextmanager
def _serving(folder: Path, port: int, **settings: str) -> Iterator[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BACKSMITH_")}
    env.update(settings)
    command = [sys.executable, "-m", "backsmith", "serve", str(BOOKSHOP), "--port", str(port)]
    process = subprocess.Popen(
        command,
        cwd=folder,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            pytest.fail("the server did not start within 30 s")
        yield f"localhost:{port}"
    finally:  # what Ctrl-C in its terminal does
        os.killpg(process.pid, signal.SIGINT)
        errors = process.communicate(timeout=20)[1].decode()
    assert "Traceback" not in errors, errors


def _bash(script: str, folder: Path, **env: str) -> str:
    done = subprocess.run(
        ["bash", "-c", script],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **env},
    )
    assert "command not found" not in done.stderr, done.stderr
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_tour_runs_as_written(tmp_path: Path) -> None:
    first, events, second = re.findall(r"```sh\n(.*?)```", TOUR, re.DOTALL)
    (tmp_path / ".venv").symlink_to(VENV)  # the tour's .venv/bin/python and backsmith
    contract = "examples/bookshop/api-spec.md"
    port = free_port()
    with _serving(tmp_path, port) as address:
        script = first.replace("localhost:8000", address).replace(contract, str(BOOKSHOP))
        out = _bash(script + 'echo "::$CUSTOMER_ID::$BOOK_ID"\n', tmp_path)
    assert "HTTP/1.1 201" in out and "location: /authors/1\n" in out.lower()
    assert '"slug":"a-wizard-of-earthsea"' in out and '"genres":["fantasy"]' in out
    assert '"total_cents":1798' in out
    assert '"status":422' in out
    assert '"status":"cancelled"' in out and "cannot go from cancelled to cancelled" in out
    assert '"status":"paid"' in out and '"stock":1\n' in out
    assert "  created  by anonymous  via createOrder" in out
    assert "  paid  by anonymous  via payOrder" in out
    assert '"status":"pass"' in out and "<!doctype html>" in out.lower()
    customer, book = out.rsplit("::", 2)[1:]
    assert re.fullmatch(r"[0-9a-f-]{36}", customer), out
    ids = {"CUSTOMER_ID": customer, "BOOK_ID": book.strip()}

    receive, serve, *rest = events.splitlines()
    assert receive.startswith(".venv/bin/python examples/bookshop/receiver.py "), receive
    webhooks = re.fullmatch(r"BACKSMITH_WEBHOOKS=(\S+) make serve\s+# first terminal", serve)
    assert webhooks and webhooks.group(1) == "http://127.0.0.1:9000/hooks", serve
    hook_port = free_port()
    receiver = subprocess.Popen(
        [sys.executable, str(BOOKSHOP.parent / "receiver.py"), str(hook_port)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert receiver.stdout is not None and "taking webhooks" in receiver.stdout.readline()
        url = webhooks.group(1).replace("9000", str(hook_port))
        with _serving(tmp_path, port, BACKSMITH_WEBHOOKS=url) as address:
            body_id = first.splitlines()[0]
            script = "\n".join([body_id, *rest]).replace("localhost:8000", address)
            script = script.replace(contract, str(BOOKSHOP)).replace("9000", str(hook_port))
            out = _bash(script, tmp_path, **ids)
            printed = receiver.stdout.readline()
    finally:
        receiver.terminate()
        receiver.wait(10)
    assert printed.startswith("order.paid ") and " signature ok: " in printed, printed
    assert "order.paid" in out and "delivered after 1" in out, out

    serve, *rest = second.splitlines()
    secret = re.fullmatch(r"BACKSMITH_JWT_SECRET=(\S+) make serve\s+# first terminal", serve)
    assert secret, serve
    with _serving(tmp_path, port, BACKSMITH_JWT_SECRET=secret.group(1)) as address:
        script = "\n".join(rest).replace("localhost:8000", address)
        out = _bash(script, tmp_path, CUSTOMER_ID=customer)
    assert '"wishlisted_count":1' in out and '"wishlisted":true' in out
