"""Read a contract: OpenAPI YAML/JSON or a Markdown spec, with its DBML, `$ref`s bundled."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from backsmith.contract.draft.loading import DraftedLocated, adopt_draft, drafted_located
from backsmith.contract.markdown import DBML_LANGS, OPENAPI_LANGS, Block, fenced_blocks
from backsmith.contract.media_types import inline_media_types
from backsmith.contract.refs import bundle
from backsmith.contract.source import Located, nearest_position, parse_text
from backsmith.contract.swagger2 import convert_swagger
from backsmith.errors import ContractError, Issue

MARKDOWN_SUFFIXES = frozenset({".md", ".markdown", ".mdown"})
# OpenAPI versions read as they are (major.minor); Swagger 2.0 is converted to 3.0.
OPENAPI_VERSIONS = frozenset({"3.0", "3.1", "3.2"})
# Top-level OpenAPI keys a Markdown fragment block may carry without its own `openapi` key.
_FRAGMENT_KEYS = frozenset(
    {"paths", "components", "tags", "webhooks", "security", "servers", "x-backsmith"}
)


_CONTRACT_START = re.compile(r'\s*(?:\{\s*)?["\']?(openapi|swagger)["\']?\s*:')


@dataclass(frozen=True, slots=True)
class DbmlSource:
    """DBML text and where it came from, so parse errors point into the right file."""

    text: str
    file: str
    first_line: int = 1


@dataclass(slots=True)
class Contract:
    """An OpenAPI 3.x document with every external `$ref` bundled in, plus its DBML."""

    path: str
    document: dict[str, Any]
    version: str
    positions: dict[str, tuple[str, int | None]] = field(default_factory=dict)
    dbml: DbmlSource | None = None
    converted_from: str | None = None  # "2.0": read as Swagger 2.0, converted to `version`
    notes: list[Issue] = field(default_factory=list)  # said once on reading (a drafted spec)

    def locate(self, pointer: str) -> tuple[str, int | None]:
        """File and line of `pointer`, or of its nearest located ancestor."""
        return nearest_position(self.positions, pointer, self.path)

    def issue(self, message: str, pointer: str, severity: str = "error", fix: str = "") -> Issue:
        """An Issue at `pointer`, with its file and line filled in."""
        file, line = self.locate(pointer)
        return Issue(message, file, line, pointer, severity, fix)


def read_text(path: Path, what: str = "contract") -> str:
    """Read a UTF-8 text file or raise a ContractError naming it."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ContractError([Issue(f"{what} file not found", str(path))]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ContractError([Issue(f"cannot read {what}: {exc}", str(path))]) from None


def load_document(path: Path) -> Located:
    """Parse a YAML/JSON file, or the OpenAPI block(s) of a Markdown file."""
    text = read_text(path)
    if path.suffix.lower() in MARKDOWN_SUFFIXES:
        return _openapi_from_markdown(text, str(path))
    return parse_text(text, str(path))


def is_prose_spec(path: str | Path) -> bool:
    """Whether `path` is a Markdown spec with no OpenAPI in it: one read as its draft."""
    main_path = Path(path)
    if main_path.suffix.lower() not in MARKDOWN_SUFFIXES:
        return False
    return isinstance(load_document(main_path), DraftedLocated)


def load_contract(path: str | Path, dbml: str | Path | None = None) -> Contract:
    """Read the contract at `path` (and DBML at `dbml`, if given) or raise ContractError."""
    main_path = Path(path)
    located = load_document(main_path)
    document = located.data
    file = str(main_path)
    if not isinstance(document, dict):
        raise ContractError([Issue("an OpenAPI document must be a mapping at the top", file, 1)])
    swagger = str(document["swagger"]) if "swagger" in document else None
    raw_version = document.get("openapi")
    version = str(raw_version)[:3] if raw_version is not None else ""
    if swagger is not None and swagger != "2.0":
        line = located.lines.get("/swagger")
        raise ContractError(
            [Issue(f"expected Swagger 2.0, found swagger: {swagger}", file, line, "/swagger")]
        )
    if swagger is None and version not in OPENAPI_VERSIONS:
        found = "no `openapi` key" if raw_version is None else f"openapi: {raw_version}"
        raise ContractError(
            [Issue(f"expected OpenAPI 3.0.x, 3.1.x or 3.2.x, found {found}", file, 1, "/openapi")]
        )
    bundled, positions = bundle(located, main_path)
    if swagger is not None:
        # Converted once bundled: the bundler reads each referenced file as written (a
        # Swagger file's `#/definitions/...` resolves in that file), and the converter then
        # sees one document whose every pointer already has its file and line to keep.
        bundled, positions = convert_swagger(bundled, positions)
        version = "3.0"
    elif version == "3.2":
        inline_media_types(bundled, positions)
    contract = Contract(file, bundled, version, positions, converted_from=swagger)
    contract.dbml = _find_dbml(contract, main_path, dbml)
    if isinstance(located, DraftedLocated):
        adopt_draft(contract, located)
    return contract


def _openapi_from_markdown(text: str, file: str) -> Located:
    main: Located | None = None
    fragments: list[Located] = []
    for block in fenced_blocks(text):
        if block.lang not in OPENAPI_LANGS:
            continue
        try:
            located = parse_text(block.text, file, block.first_line)
        except ContractError:
            if block.lang == "openapi" or _CONTRACT_START.match(block.text):
                raise  # the contract itself is broken: say where
            continue  # an example block that is not data; prose specs have many
        data = located.data
        if not isinstance(data, dict):
            continue
        if main is None and ("openapi" in data or "swagger" in data):
            main = located
        elif data and set(data) <= _FRAGMENT_KEYS and ({"paths", "components"} & set(data)):
            fragments.append(located)
    if main is None:  # a prose spec: its draft stands in for the contract
        return drafted_located(text, file)
    for fragment in fragments:
        _merge(main, fragment)
    return main


def _merge(main: Located, fragment: Located) -> None:
    """Deep-merge a fragment block into the main document, keeping each key's line."""

    def merge(target: dict[str, Any], source: dict[str, Any], pointer: str) -> None:
        for key, value in source.items():
            child = f"{pointer}/{key.replace('~', '~0').replace('/', '~1')}"
            if isinstance(value, dict) and isinstance(target.get(key), dict):
                merge(target[key], value, child)
                continue
            target[key] = value
            for sub, line in fragment.lines.items():
                if sub == child or sub.startswith(child + "/"):
                    main.lines[sub] = line

    merge(main.data, fragment.data, "")


def _find_dbml(
    contract: Contract, main_path: Path, explicit: str | Path | None
) -> DbmlSource | None:
    if explicit is not None:
        dbml_path = Path(explicit)
        return DbmlSource(read_text(dbml_path, "DBML"), str(dbml_path))
    options = contract.document.get("x-backsmith")
    if isinstance(options, dict) and isinstance(options.get("dbml"), str):
        dbml_path = main_path.parent / options["dbml"]
        return DbmlSource(read_text(dbml_path, "DBML"), str(dbml_path))
    if main_path.suffix.lower() not in MARKDOWN_SUFFIXES:
        return None
    blocks = [b for b in fenced_blocks(read_text(main_path)) if b.lang in DBML_LANGS]
    if not blocks:
        return None
    if len(blocks) == 1:
        return DbmlSource(blocks[0].text, str(main_path), blocks[0].first_line)
    # Several blocks form one model; blank lines in between keep every line where it is.
    text = "".join(
        "\n" * (b.first_line - 1 - _lines(prior)) + b.text for prior, b in _with_prior(blocks)
    )
    return DbmlSource(text, str(main_path), 1)


def _lines(blocks: list[Block]) -> int:
    """Lines taken by the padded text of `blocks` so far."""
    if not blocks:
        return 0
    last = blocks[-1]
    return last.first_line - 1 + last.text.count("\n")


def _with_prior(blocks: list[Block]) -> list[tuple[list[Block], Block]]:
    return [(blocks[:index], block) for index, block in enumerate(blocks)]
