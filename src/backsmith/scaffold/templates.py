"""The named templates: package data copied into a new project's `docs/` folder."""

from __future__ import annotations

from importlib.resources import files
from importlib.resources.abc import Traversable

CONTRACT = "docs/api-spec.md"  # where the contract goes, as DESIGN.md and the README name it
# Template -> its files; each goes into the project's docs/, beside the contract, where
# backsmith finds what the contract names (the DBML, handler modules, migrations).
TEMPLATES: dict[str, tuple[str, ...]] = {
    "blank": ("api-spec.md", "schema.dbml", "hooks.py"),
    "bookshop": ("api-spec.md", "shop.py"),
}


def packaged(folder: str, name: str) -> Traversable:
    """One file of the package data."""
    return files("backsmith.scaffold").joinpath(folder, name)


def template_files(template: str) -> dict[str, bytes]:
    """A named template's files, by their path in the new project."""
    return {f"docs/{name}": packaged(template, name).read_bytes() for name in TEMPLATES[template]}


def project_text(name: str) -> str:
    """A file every project gets (`README.md`, `gitignore`), as text to fill in."""
    return packaged("project", name).read_text(encoding="utf-8")
