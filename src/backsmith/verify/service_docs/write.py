"""`backsmith docs`: the service's README, put together from its sections and written out."""

from __future__ import annotations

import os
from pathlib import Path

from backsmith.errors import InputError
from backsmith.logic.loading import with_handlers
from backsmith.model.types import Model
from backsmith.settings import load_settings, resolve
from backsmith.storage.migrations.folder import migrations_folder
from backsmith.verify.service_docs import sections
from backsmith.verify.service_docs.results import find_results, results_lines

DEFAULT_NAME = "SERVICE.md"  # beside the contract


def default_output(contract: str | Path) -> Path:
    """SERVICE.md beside the contract."""
    return Path(contract).parent / DEFAULT_NAME


def shown(path: str | Path) -> str:
    """A path as the reader types it: relative to the working folder when it is inside it."""
    relative = os.path.relpath(Path(path).resolve(), Path.cwd())
    return Path(relative).as_posix() if not relative.startswith("..") else Path(path).as_posix()


def render_service_docs(model: Model, results: Path, dbml: str | Path | None = None) -> str:
    """The README of the service `model` describes, with the results found in `results`.

    The settings are the defaults and the contract's root `x-backsmith`, never this
    machine's environment, so the same contract and results give the same bytes.
    """
    settings = load_settings(model.options, environ={})
    model = with_handlers(model, settings)  # those a hooks module serves are named too
    contract = shown(model.path) + (f" --dbml {shown(dbml)}" if dbml else "")
    folder = migrations_folder(model, settings)
    page = sections.Page(
        model=model,
        settings=settings,
        contract=contract,
        contract_settings={
            name: item.setting.shown(item.value)
            for name, item in resolve(model.options, environ={}).items()
            if item.source == "contract"
        },
        migrations=folder,
        migrations_shown=shown(folder.path) + "/",
    )
    lines = [
        *sections.heading(page),
        *sections.serves(page),
        *sections.setup(page),
        *sections.operations(page),
        *sections.settings_section(page),
        *sections.migrations(page),
        *sections.seed(page),
        *sections.observability(page),
        *sections.deployment(page),
        *results_lines(find_results(results), shown(results), contract),
    ]
    return "\n".join(lines).rstrip("\n") + "\n"


def write_service_docs(text: str, output: Path) -> None:
    """Write the page, or say in one line why it cannot be written."""
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")
    except OSError as error:
        raise InputError(f"cannot write {output}: {error.strerror or error}") from None
