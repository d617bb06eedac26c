"""Earlier versions of a contract, read back from the git repository that holds it: the
one at the newest tag (the last release, for `build`), or at HEAD (the last commit, for
`migrate plan`, which plans from the change not yet committed).

The contract's folder is exported as it was, so its DBML and `$ref`ed files come along.
Outside a repository, or where git is missing, there is no earlier version: None.
"""

from __future__ import annotations

import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from io import BytesIO
from pathlib import Path
from typing import Any

GIT_SECONDS = 10
# tarfile's own guard where this Python has it (3.11.4 on); the members are checked anyway.
_SAFE: dict[str, Any] = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}


def _git(folder: Path, *args: str) -> bytes | None:
    try:
        done = subprocess.run(
            ["git", *args], cwd=folder, capture_output=True, timeout=GIT_SECONDS, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout if done.returncode == 0 else None


def last_tag(contract: str | Path) -> str | None:
    """The newest tag of the repository holding `contract`, if any."""
    tag = _git(Path(contract).resolve().parent, "describe", "--tags", "--abbrev=0")
    return tag.decode().strip() if tag else None


def changed_since(contract: str | Path, revision: str) -> bool:
    """Whether the contract's folder differs from what `revision` holds (untracked: no)."""
    folder = Path(contract).resolve().parent
    if _git(folder, "cat-file", "-e", f"{revision}:./{Path(contract).name}") is None:
        return False  # not in that revision: nothing to compare with
    return _git(folder, "diff", "--quiet", revision, "--", ".") is None


@contextmanager
def contract_at(contract: str | Path, revision: str) -> Iterator[Path | None]:
    """The contract as it was at `revision`, in a folder of its own for the block's length;
    None when the repository did not hold it then."""
    folder = Path(contract).resolve().parent
    with tempfile.TemporaryDirectory(prefix="backsmith-released-") as into:
        yield _export(folder, revision, Path(into), Path(contract).name)


def _export(folder: Path, revision: str, into: Path, name: str) -> Path | None:
    """`folder` as `revision` held it, written into `into`; run from the folder, git names
    the archive's paths relative to it. Links and paths leaving the folder are skipped."""
    archive = _git(folder, "archive", "--format=tar", revision, "--", ".")
    if archive is None:
        return None
    try:
        with tarfile.open(fileobj=BytesIO(archive)) as tar:
            members = [member for member in tar.getmembers() if _plain(member)]
            tar.extractall(into, members=members, **_SAFE)
    except (tarfile.TarError, OSError):
        return None
    exported = into / name
    return exported if exported.is_file() else None


def _plain(member: tarfile.TarInfo) -> bool:
    """A file or folder that stays inside the export: no link, no absolute or `..` path."""
    path = Path(member.name)
    inside = not path.is_absolute() and ".." not in path.parts
    return inside and (member.isfile() or member.isdir())
