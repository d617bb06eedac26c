"""A team's own spec made into a project's contract, `docs/api-spec.md`, with what it needs.

- A Markdown spec with an OpenAPI block is copied as it is.
- A YAML or JSON contract is put, as written, in a fenced block of a Markdown page.
- A prose spec is drafted (`backsmith draft`): the page keeps the prose and gains the
  drafted OpenAPI block; the drafted DBML and the report of every guess go beside it.

Files the spec refers to (`$ref`s to other files, its DBML, its handler modules, its
migrations) are copied to the same place relative to the new contract. Unless the spec
names a hooks module of its own, `hooks.py` is written beside it with a stub for each
operation that needs a handler, and a block appended to the page names it.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from backsmith.contract.draft.loading import DraftedLocated
from backsmith.contract.draft.write import write_draft
from backsmith.contract.load import MARKDOWN_SUFFIXES, load_contract, load_document
from backsmith.errors import InputError
from backsmith.model.types import Model
from backsmith.scaffold.stubs import hooks_module
from backsmith.verify.describe import needs_handler

LoadModel = Callable[[Path], Model]
HOOKS_FILE = "docs/hooks.py"
WIRING = """
## backsmith

`backsmith init` added the block below. It names `hooks.py`, beside this page, whose
functions serve the operations CRUD cannot, each named after its `operationId`. (A block
that holds `paths` is read with the contract; `paths: {}` adds none.)

```yaml
x-backsmith:
  hooks: hooks
paths: {}
```
"""


def adopt_spec(spec: Path, load_model: LoadModel) -> dict[str, bytes]:
    """The project's files made from the team's spec, by their path in the project."""
    model = load_model(spec)  # a spec that does not load is the team's to mend first
    text = _read(spec)
    files: dict[str, bytes] = {}
    if spec.suffix.lower() not in MARKDOWN_SUFFIXES:
        page = _wrapped(spec, text, model.title)
    elif isinstance(load_document(spec), DraftedLocated):  # the model is of the same draft
        page, files = _drafted(spec, text, load_model)
    else:
        page = text
    for source, target in _referred(spec, model):
        files[target] = source.read_bytes()
    if "hooks" not in model.options and HOOKS_FILE not in files:  # not a module of theirs
        stubs = [op for op in model.operations if needs_handler(op)]
        files[HOOKS_FILE] = hooks_module(stubs, HOOKS_FILE).encode()
        page = page.rstrip("\n") + "\n" + WIRING
    files["docs/api-spec.md"] = page.encode()
    return files


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(f"--template {path}: cannot read it: {error}") from None


def _fence(text: str) -> str:
    """Backticks enough that no line of `text` closes the block."""
    runs = [len(m.group(1)) for m in re.finditer(r"^\s*(`{3,})\s*$", text, re.MULTILINE)]
    return "`" * max([3, *(run + 1 for run in runs)])


def _wrapped(spec: Path, text: str, title: str) -> str:
    fence = _fence(text)
    lang = "json" if text.lstrip().startswith("{") else "yaml"
    return (
        f"# {title or spec.stem}\n\n"
        f"The contract of this service, as the team wrote it in `{spec.name}`: backsmith reads "
        "the OpenAPI document in the block below (and the DBML its `x-backsmith` names). "
        "Write here, around the block, what a reader should know.\n\n"
        f"{fence}{lang}\n{text.rstrip()}\n{fence}\n"
    )


def _drafted(spec: Path, text: str, load_model: LoadModel) -> tuple[str, dict[str, bytes]]:
    """The prose with its drafted OpenAPI block after it, and the drafted DBML and report."""
    with tempfile.TemporaryDirectory(prefix="backsmith-init-") as folder:
        written = write_draft(spec, Path(folder) / "openapi.yaml", None, load_model)
        contract = written.contract.read_text(encoding="utf-8")
        files = {
            "docs/schema.dbml": written.dbml.read_bytes(),
            "docs/api-spec.draft-report.md": written.report_text.encode(),
        }
    fence = _fence(contract)
    page = (
        f"{text.rstrip()}\n\n## OpenAPI document\n\n"
        "`backsmith init` drafted the block below from the prose above (its guesses, each "
        "with the line it came from, are in `api-spec.draft-report.md`), and the tables in "
        "`schema.dbml`. They are the contract now: review them, and edit them rather than "
        "the prose.\n\n"
        f"{fence}yaml\n{contract.rstrip()}\n{fence}\n"
    )
    return page, files


def _referred(spec: Path, model: Model) -> Iterator[tuple[Path, str]]:
    """(file, its path in the project) for each file the spec refers to, beside it."""
    home = spec.resolve().parent
    found: set[Path] = set()
    positions = load_contract(spec).positions.values()
    found.update(Path(file).resolve() for file, _ in positions if file)
    dbml = model.options.get("dbml")
    if isinstance(dbml, str):
        found.add((home / dbml).resolve())
    for module in _modules(model):
        top = module.split(".")[0]
        package = home / top
        if package.is_dir():
            found.update(p.resolve() for p in package.rglob("*.py"))
        elif (home / f"{top}.py").is_file():
            found.add((home / f"{top}.py").resolve())
    migrations = home / str(model.options.get("migrations") or "migrations")
    found.update(p.resolve() for p in migrations.glob("*.py"))
    found.discard(spec.resolve())
    for path in sorted(found):
        if not path.is_relative_to(home):
            raise InputError(
                f"--template {spec}: it refers to {path}, outside its folder; copy the spec "
                "and what it refers to into one folder first"
            )
        if path.is_file():
            yield path, "docs/" + path.relative_to(home).as_posix()


def _modules(model: Model) -> set[str]:
    """The Python modules the spec names: handlers, hooks around writes, its hooks module."""
    named = {op.policies.handler.module for op in model.operations if op.policies.handler}
    named.update(handler.module for op in model.operations for _, handler, _ in op.hooks)
    named.update(h.module for hooks in model.table_hooks.values() for _, h, _ in hooks)
    if isinstance(model.options.get("hooks"), str):
        named.add(model.options["hooks"])
    return named
