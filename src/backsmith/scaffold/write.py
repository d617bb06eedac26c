"""`backsmith init`: gather a project's files, refuse to overwrite any, write them, check
that the contract written loads, and say what each file is in the project's README."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from string import Template

from backsmith.errors import InputError
from backsmith.model.types import Model
from backsmith.scaffold.adopt import HOOKS_FILE, adopt_spec
from backsmith.scaffold.templates import CONTRACT, TEMPLATES, project_text, template_files
from backsmith.settings.markdown import environment_example

README = "README.md"
# What each file the project may get is for, in the README's list (others: referred to).
PURPOSES = {
    CONTRACT: "the contract: prose for people, and the OpenAPI block backsmith serves",
    "docs/schema.dbml": "the tables, in DBML, named by the contract's `x-backsmith: {dbml}`",
    HOOKS_FILE: "the Python that serves what CRUD cannot: a function per operationId",
    "docs/shop.py": "the bookshop's handler: `pay_order` takes the stock when an order is paid",
    "docs/api-spec.draft-report.md": "where each drafted part came from, and every guess",
    ".env.example": "every setting as a commented `BACKSMITH_*` line with its default",
    ".gitignore": "the SQLite database, bench and test results, build output, .venv",
    README: "this file",
}


@dataclass(frozen=True, slots=True)
class Project:
    """A project written: its folder, the files in it by path, and its contract's model."""

    folder: Path
    files: tuple[str, ...]
    model: Model

    @property
    def contract(self) -> Path:
        return self.folder / CONTRACT


def init_project(
    folder: Path, template: str, force: bool, load_model: Callable[[Path], Model]
) -> Project:
    """Write a new project into `folder` from a named template or the team's spec.

    Nothing is written when a file would be overwritten (unless `force`): the error names
    every one. The contract written is read back, so a project that `init` leaves always
    loads.
    """
    if folder.exists() and not folder.is_dir():
        raise InputError(f"{folder}: not a folder")
    files = _contract_files(template, load_model)
    files[".env.example"] = environment_example().encode()
    files[".gitignore"] = project_text("gitignore").encode()
    names = [*sorted(files), README]
    taken = [name for name in names if (folder / name).exists()]
    if taken and not force:
        raise InputError(
            f"{folder}: init would overwrite {', '.join(taken)} (--force to overwrite them)"
        )
    for name, content in files.items():
        _write(folder / name, content)
    model = load_model(folder / CONTRACT)
    _write(folder / README, _readme(folder, model.title, names).encode())
    return Project(folder, tuple(names), model)


def _contract_files(template: str, load_model: Callable[[Path], Model]) -> dict[str, bytes]:
    if template in TEMPLATES:
        return template_files(template)
    spec = Path(template)
    if spec.is_file():
        return adopt_spec(spec, load_model)
    named = ", ".join(TEMPLATES)
    raise InputError(f"--template {template}: not a template ({named}) nor a spec file")


def _write(path: Path, content: bytes) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    except OSError as error:
        raise InputError(f"cannot write {path}: {error.strerror or error}") from None


def _readme(folder: Path, title: str, names: list[str]) -> str:
    listed = [
        f"- `{name}`: {PURPOSES.get(name, 'referred to by the contract')}"
        for name in sorted(names, key=lambda name: (name != CONTRACT, "/" not in name, name))
    ]
    text = Template(project_text("README.md"))
    name = folder.resolve().name or "service"
    return text.substitute(name=name, title=title or "The service", files="\n".join(listed))
