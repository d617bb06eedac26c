"""The migrations folder of a project: its revision files, read with Alembic's ScriptDirectory.

Files are named `0001_initial.py`, `0002_add_isbn_to_books.py`, ...; revision ids are the
numbers, so the chain reads in file order. The folder is `migrations/` beside the
contract unless the settings say otherwise.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from backsmith.errors import InputError
from backsmith.storage.migrations.state import EMPTY, Snapshot

if TYPE_CHECKING:
    from backsmith.model.types import Model
    from backsmith.settings import Settings

_SLUG = re.compile(r"[^a-z0-9]+")
# `revision = "0002"` and `down_revision = "0001"` (or None), as revision files spell them.
_ASSIGNED = {
    "revision": re.compile(r"""^revision\s*=\s*(['"])([\w-]+)\1\s*$""", re.MULTILINE),
    "down": re.compile(r"""^down_revision\s*=\s*(?:(['"])([\w-]+)\1|None)\s*$""", re.MULTILINE),
}
_SLUG_LENGTH = 48


class MigrationsError(InputError):
    """The migrations folder cannot be read, or its chain is broken."""


@dataclass(frozen=True, slots=True)
class Revision:
    id: str
    down: str | None
    message: str
    path: Path


class MigrationsFolder:
    """The revision files of one folder, base first."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._script: Any = None

    def forget(self) -> None:
        """Read the files again on next use (after a new one is written)."""
        self._script = None

    @property
    def exists(self) -> bool:
        return self.path.is_dir() and any(self.path.glob("*.py"))

    @property
    def script(self) -> Any:
        """Alembic's ScriptDirectory over the folder (the files are loaded once)."""
        if self._script is None:
            from alembic.script import ScriptDirectory
            from alembic.util import CommandError

            try:
                self._script = ScriptDirectory(str(self.path), version_locations=[str(self.path)])
                self._script.get_heads()  # loads every file now, for errors naming one
            except CommandError as error:
                raise MigrationsError(f"{self.path}: {error}") from error
            except Exception as error:  # a file that does not import
                raise MigrationsError(f"{self.path}: cannot read a migration: {error}") from error
        return self._script

    def revisions(self) -> list[Revision]:
        """Every revision, from the first to the head."""
        if not self.exists:
            return []
        script = self.script
        heads = script.get_heads()
        if len(heads) > 1:
            raise MigrationsError(
                f"{self.path}: the migrations branch into {', '.join(sorted(heads))}; "
                "merge them into one chain (each file's down_revision names the one before)"
            )
        found = [
            Revision(s.revision, s.down_revision, (s.doc or "").strip(), Path(s.path))
            for s in script.walk_revisions()
        ]
        return list(reversed(found))

    @property
    def head(self) -> str | None:
        revisions = self.revisions()
        return revisions[-1].id if revisions else None

    def quick_head(self) -> str | None:
        """The head revision read off the files' text, without importing Alembic or them.

        What a start at the head needs (Alembic's import is a fifth of a start); any file
        this cannot read plainly defers to `head`.
        """
        if not self.exists:
            return None
        revisions, downs = set(), set()
        for path in self.path.glob("*.py"):
            text = path.read_text(encoding="utf-8")
            revision, down = _ASSIGNED["revision"].search(text), _ASSIGNED["down"].search(text)
            if revision is None or down is None:
                return self.head
            revisions.add(revision.group(2))
            if down.group(2) is not None:
                downs.add(down.group(2))
        heads = revisions - downs
        return heads.pop() if len(heads) == 1 else self.head

    def schema(self) -> Snapshot:
        """The schema the head revision leaves (its SCHEMA), or none before the first."""
        head = self.head
        if head is None:
            return EMPTY
        module = self.script.get_revision(head).module
        schema = getattr(module, "SCHEMA", None)
        if not isinstance(schema, dict) or not isinstance(schema.get("tables"), dict):
            raise MigrationsError(
                f"{self.script.get_revision(head).path}: no SCHEMA describing the tables after "
                "it; backsmith plans from it (restore it from the planned file)"
            )
        return schema

    def next_file(self, message: str) -> tuple[str, Path]:
        """The id and path of a new revision named after `message`."""
        numbers = [int(r.id) for r in self.revisions() if r.id.isdigit()]
        revision = f"{max(numbers, default=0) + 1:04d}"
        slug = _SLUG.sub("_", message.lower()).strip("_")[:_SLUG_LENGTH].strip("_") or "change"
        return revision, self.path / f"{revision}_{slug}.py"


def migrations_folder(model: Model, settings: Settings) -> MigrationsFolder:
    """`migrations/` beside the contract, or the folder the settings name.

    A folder named in the contract's own `x-backsmith` is relative to the contract; one
    from the environment or the command line, to the working directory.
    """
    contract_dir = Path(model.path).parent if model.path else Path.cwd()
    if not settings.migrations:
        return MigrationsFolder(contract_dir / "migrations")
    path = Path(settings.migrations)
    if not path.is_absolute() and settings.migrations == model.options.get("migrations"):
        path = contract_dir / path
    return MigrationsFolder(path)
