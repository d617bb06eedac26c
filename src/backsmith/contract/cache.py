"""What loading a contract worked out before, remembered by content digest.

Start-up spends most of its time importing and running two libraries on input that
rarely changes between starts: the OpenAPI validator and the DBML parser. A document
that passed validation is remembered by a marker, parsed DBML as a pickle, each under
the digest of exactly what produced it plus the versions of backsmith and the library.
Only successes are kept, so a broken contract is always checked, and reported, in full.
`BACKSMITH_CACHE_DIR` moves the store (default `~/.cache/backsmith`); empty turns it off.
"""

from __future__ import annotations

import hashlib
import os
from functools import cache
from importlib.util import find_spec
from pathlib import Path

CACHE_ENV = "BACKSMITH_CACHE_DIR"


def _root() -> Path | None:
    configured = os.environ.get(CACHE_ENV)
    if configured is not None:
        return Path(configured) if configured else None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "backsmith"


@cache
def _versions() -> bytes:
    """backsmith's version and the installed libraries', read without importing them."""
    from backsmith import __version__

    found = [__version__]
    for package in ("openapi_spec_validator", "pydbml"):
        spec = find_spec(package)
        if spec is not None and spec.origin:
            site = Path(spec.origin).parent.parent
            found += sorted(p.name for p in site.glob(f"{package}-*.dist-info"))
    return "/".join(found).encode()


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
    try:
        return (root / kind / name).read_bytes()
    except OSError:
        return None


def remember(kind: str, name: str, value: bytes = b"") -> None:
    """Keep `value`; a store that cannot be written is skipped, never an error."""
    root = _root()
    if root is None:
        return
    folder = root / kind
    try:
        folder.mkdir(parents=True, exist_ok=True)
        partial = folder / f".{name}.{os.getpid()}"
        partial.write_bytes(value)
        partial.replace(folder / name)  # whole or not at all, with several starting at once
    except OSError:
        pass
