"""The command line as a table of commands over `backsmith.api`, its version and exit codes."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

from conftest import BOOKSHOP

from backsmith import __version__, api
from backsmith.cli.main import COMMANDS, EXIT_CODES, command_modules, exit_codes_text

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def _backsmith(*argv: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BACKSMITH_")}
    return subprocess.run(
        [sys.executable, "-m", "backsmith", *argv],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
        env=env,
    )


def test_each_command_is_a_module_calling_the_api_function_of_its_name() -> None:
    modules = command_modules()
    assert [module.NAME for module in modules] == list(COMMANDS)
    for module in modules:
        assert callable(module.run) and callable(module.add_arguments)
        assert callable(getattr(api, module.NAME)), module.NAME
        assert f"api.{module.NAME}(" in Path(module.__file__ or "").read_text()


def test_python_dash_m_backsmith_is_the_command_line() -> None:
    done = _backsmith("--help")
    assert done.returncode == 0, done.stderr
    for name in COMMANDS:
        assert name in done.stdout


def test_the_version_printed_is_the_one_the_readme_states() -> None:
    done = _backsmith("--version")
    assert done.stdout == f"backsmith {__version__}\n"
    stated = re.search(r"This is version (\S+) \(`backsmith --version`\)", README)
    assert stated and stated.group(1) == __version__
    assert f"backsmith {__version__} serving" in README


def test_the_readme_lists_the_exit_codes_the_command_line_has() -> None:
    flat = " ".join(README.split())
    assert exit_codes_text() in flat
    listed = re.search(r"Exit codes: (.*?)\.(?: |$)", flat)
    assert listed
    codes = [int(part.split()[0]) for part in re.split(r"; (?=\d+ )", listed.group(1))]
    assert codes == list(EXIT_CODES)


def test_the_readme_serve_line_lists_the_flags_serve_has() -> None:
    from backsmith.cli.serve import FLAGS
    from backsmith.settings import setting

    line = next(line for line in README.splitlines() if line.startswith("backsmith serve "))
    assert set(re.findall(r"--[a-z-]+", line)) == {"--dbml"} | {setting(n).option for n in FLAGS}


def test_the_readme_tour_uses_no_macos_only_commands() -> None:
    tour = README[README.index("## A short tour") : README.index("## Commands")]
    for command in ("open ", "pbcopy", "pbpaste", "sed -i ''"):
        assert command not in tour


def test_a_port_already_taken_is_a_start_failure(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = _backsmith("serve", str(BOOKSHOP), "--port", str(port), cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith(f"backsmith: cannot listen on 127.0.0.1:{port}: address already in use")
    assert "Traceback" not in done.stderr and done.stdout == ""
    assert done.stderr.startswith(f"backsmith {__version__} serving {BOOKSHOP} on ")


def test_a_bad_setting_through_the_installed_entry_point(tmp_path: Path) -> None:
    done = _backsmith("serve", str(BOOKSHOP), "--port", "99999", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr == ("backsmith: --port 99999: port must be a whole number from 1 to 65535\n")


def test_a_reader_that_leaves_early_is_no_fault(tmp_path: Path) -> None:
    """`backsmith config | head -1`: the rest of the table has nowhere to go; no traceback."""
    env = {**os.environ, "BACKSMITH_CACHE_DIR": ""}
    piped = subprocess.run(
        f"'{sys.executable}' -m backsmith config '{BOOKSHOP}' | head -1",
        shell=True,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=60,
    )
    assert piped.stdout.startswith("SETTING")
    assert "Traceback" not in piped.stderr
    assert "BrokenPipeError" not in piped.stderr
