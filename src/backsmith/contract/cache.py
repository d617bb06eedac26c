"""What loading a contract worked out before, remembered by content digest.

Start-up spends most of its time importing and running two libraries on input that
rarely changes between starts: the OpenAPI validator and the DBML parser. A document
that passed validation is remembered by a marker, parsed DBML as plain JSON, each under
the digest of exactly what produced it, the code that checks it (backsmith's own modules
and the libraries' versions). Only successes are kept, so a broken contract is always
checked, and reported, in full. The store is private to its user: a folder someone else
owns or can write to is not read, since a planted marker would skip validation.
`BACKSMITH_CACHE_DIR` moves the store (default `~/.cache/backsmith`); empty turns it off.

`serve` fills a cold store in a forked child (`fill_apart`): the server then reads what
the child remembered and never imports the validator or the parser, nor keeps the memory
they took (about 35 MB of a worker's peak, on every first start of a new version).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from functools import cache
from importlib.util import find_spec
from pathlib import Path

from backsmith.settings import setting

CACHE_ENV = setting("cache_dir").env  # BACKSMITH_CACHE_DIR


def _root() -> Path | None:
    configured = os.environ.get(CACHE_ENV)
    if configured is not None:
        return Path(configured) if configured else None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "backsmith"


# Everything that decides whether a document passes or how DBML parses.
_LIBRARIES = (
    "openapi_spec_validator",
    "openapi_schema_validator",
    "jsonschema",
    "jsonschema_path",
    "referencing",
    "pydbml",
    "pyparsing",
)
_OWN_MODULES = ("validate.py", "dbml.py")


@cache
def _versions() -> bytes:
    """backsmith's checking code and the installed libraries' versions, without imports."""
    from backsmith import __version__

    here = Path(__file__).parent
    found = [__version__.encode()]
    found += [hashlib.sha256((here / name).read_bytes()).digest() for name in _OWN_MODULES]
    for package in _LIBRARIES:
        spec = find_spec(package)
        if spec is not None and spec.origin:
            site = Path(spec.origin).parent.parent
            found += [p.name.encode() for p in sorted(site.glob(f"{package}-*.dist-info"))]
    return b"/".join(found)


def _private(path: Path) -> bool:
    """Owned by this user and writable by no one else."""
    try:
        status = path.stat()
    except OSError:
        return False
    return status.st_uid == os.getuid() and not status.st_mode & 0o022


def digest(*parts: bytes) -> str:
    """The name of what these inputs produce, under this backsmith and these libraries."""
    hasher = hashlib.sha256(_versions())
    for part in parts:
        hasher.update(b"\0%d\0" % len(part))
        hasher.update(part)
    return hasher.hexdigest()


def recall(kind: str, name: str) -> bytes | None:
    """What was remembered under `kind`/`name`, or None."""
    root = _root()
    if root is None:
        return None
    entry = root / kind / name
    if not all(_private(path) for path in (root, root / kind, entry)):
        return None
    try:
        return entry.read_bytes()
    except OSError:
        return None


def remember(kind: str, name: str, value: bytes = b"") -> None:
    """Keep `value`; a store that cannot be written is skipped, never an error."""
    root = _root()
    if root is None:
        return
    folder = root / kind
    try:
        root.mkdir(mode=0o700, parents=True, exist_ok=True)
        folder.mkdir(mode=0o700, exist_ok=True)
        if not (_private(root) and _private(folder)):
            return
        partial = folder / f".{name}.{os.getpid()}"
        partial.write_bytes(value)
        partial.chmod(0o600)
        partial.replace(folder / name)  # whole or not at all, with several starting at once
    except OSError:
        pass


_apart = False  # set by `serve`, whose process lives on after the contract is read


def fill_apart(enabled: bool = True) -> None:
    """Whether a cold store is filled in a forked child from now on (see the module)."""
    global _apart
    _apart = enabled


def filled_apart(fill: Callable[[], object]) -> bool:
    """Run `fill` (which does the work and remembers it) in a forked child; True when it
    succeeded. False, with nothing done, where filling apart is off or impossible, or when
    the child failed: the caller then does the work itself, and reports what went wrong."""
    if not _apart or _root() is None or not hasattr(os, "fork"):
        return False
    child = os.fork()
    if child == 0:  # pragma: no cover - the child's lines run in the child
        code = 1
        try:
            fill()
            code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(child, 0)
    return os.waitstatus_to_exitcode(status) == 0
