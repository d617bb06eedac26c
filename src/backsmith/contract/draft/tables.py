"""Fields from tables and bullets: name, type, required, description, in any column order.

A table is a field table when one column holds names (`userId`, `page_size`) and another
types (`string`, `UUID`, `"a" | "b"`) or yes/no marks; which column is which is told by
the cells, not by the header's words, so a table headed in Korean reads like one in
English. A bullet `page: number (default: 1)` is one field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from backsmith.contract.draft.mentions import METHODS
from backsmith.contract.draft.scan import Element
from backsmith.contract.draft.schemas import Schema, SchemaMaker, type_word
from backsmith.contract.draft.sketch import TypeName, Union, read_value

_NAME = re.compile(r"^[A-Za-z_$][\w$-]*(?:\[\])?(?:\.[A-Za-z_$][\w$-]*(?:\[\])?)*\??$")
# Marks of "yes" and "no" in required and nullable columns, in several languages.
_YES = frozenset(
    {
        "yes",
        "y",
        "true",
        "\u2713",
        "\u2714",
        "\u2705",
        "o",
        "\u25cb",
        "required",
        "mandatory",
        "\uc608",
        "\ub124",
        "\ud544\uc218",
        "\u662f",
        "\u5fc5\u987b",
        "\u5fc5\u9808",
        "\u5fc5\u9700",
        "ja",
        "sim",
        "s\u00ed",
        "si",
        "c\u00f3",
        "oui",
    }
)
_NO = frozenset(
    {
        "no",
        "n",
        "false",
        "\u2717",
        "\u2718",
        "\u00d7",
        "-",
        "optional",
        "\uc544\ub2c8\uc624",
        "\uc544\ub2c8\uc694",
        "\uc120\ud0dd",
        "\u5426",
        "\u53ef\u9009",
        "\u4efb\u610f",
        "nein",
        "n\u00e3o",
        "nao",
        "kh\u00f4ng",
        "non",
    }
)
_NULL_HEADER = re.compile(r"null", re.I)
_AUTH_KEY = re.compile(r"auth|인증|认证|認證|認証|authentifizierung|autentica|xác thực", re.I)
_NEGATIVE = re.compile(
    r"\bnot\b|\bno\b|\bnone\b|public|불필요|없음|不需要|无需|不要|nicht|keine|não|nao|"
    r"no requerida|không",
    re.I,
)


@dataclass(slots=True)
class Field:
    """One named field: where it was written, and what the text says of it."""

    name: str
    line: int
    schema: Schema | None = None
    required: bool | None = None
    nullable: bool = False
    description: str = ""
    example: Any = None
    guesses: list[str] = field(default_factory=list)
    location: str = ""  # path, query, header, body: what a parameters table's "in" says


def clean(cell: str) -> str:
    """A cell's text without Markdown emphasis and code marks."""
    return re.sub(r"[`*]|^_+|_+$", "", cell).strip()


def _is_type(cell: str) -> bool:
    text = clean(cell)
    if not text:
        return False
    value = read_value(text)
    if isinstance(value, TypeName):
        return type_word(value.name) is not None or value.name.lower() in ("any", "enum")
    return isinstance(value, Union | list | dict)


def _is_location(cell: str) -> bool:
    return clean(cell).lower() in ("path", "query", "header", "body", "cookie", "formdata")


def _mark(cell: str) -> bool | None:
    text = clean(cell).lower().rstrip(".")
    if text in _YES:
        return True
    if text in _NO or not text:
        return False
    return None


def _share(rows: list[tuple[str, ...]], column: int, test: Any) -> float:
    cells = [row[column] for row in rows if column < len(row)]
    return sum(1 for cell in cells if test(cell)) / len(cells) if cells else 0.0


def fields_of(table: Element) -> list[Field]:
    """The fields a field table lists, or [] when the table is not one."""
    if len(table.rows) < 2:
        return []
    header, rows = table.rows[0], list(table.rows[1:])
    width = len(header)
    names = next(
        (
            c
            for c in range(width)
            if _share(rows, c, lambda s: bool(_NAME.match(clean(s)))) >= 0.6
            and _share(rows, c, lambda s: clean(s).upper() in METHODS) < 0.5
        ),
        None,
    )
    if names is None:
        return []
    types = next((c for c in range(width) if c != names and _share(rows, c, _is_type) >= 0.5), None)
    located = next(
        (c for c in range(width) if c != names and _share(rows, c, _is_location) >= 0.8), None
    )
    marks = [
        c
        for c in range(width)
        if c != names and _share(rows, c, lambda s: _mark(s) is not None) >= 0.8
    ]
    if types is None and not marks:
        return []
    nullable = next((c for c in marks if _NULL_HEADER.search(header[c])), None)
    required = next((c for c in marks if c != nullable), None)
    taken = {names, types, required, nullable, located}
    described = [c for c in range(width) if c not in taken]
    description = max(
        described, key=lambda c: sum(len(r[c]) for r in rows if c < len(r)), default=None
    )
    found = []
    for row, line in zip(rows, table.row_lines[1:], strict=False):

        def cell(column: int | None, row: tuple[str, ...] = row) -> str:
            return row[column] if column is not None and column < len(row) else ""

        name = clean(cell(names))
        optional = name.endswith("?")
        name = name.rstrip("?").replace("[]", "")
        text = cell(description).strip()
        one = Field(name, line, description=clean(text))
        if types is not None:
            one.schema = _schema(cell(types), name, text, one)
        if required is not None:
            one.required = _mark(cell(required))
        elif optional:
            one.required = False
        if nullable is not None:
            one.nullable = bool(_mark(cell(nullable)))
        if located is not None:
            one.location = clean(cell(located)).lower()
        found.append(one)
    return found


def _schema(type_cell: str, name: str, description: str, into: Field) -> Schema:
    text = clean(type_cell)
    maker = SchemaMaker()
    value = read_value(text)
    schema = maker.schema(value, name)
    into.guesses.extend(maker.guesses)
    if isinstance(value, TypeName) and value.name.lower() == "enum":
        options = [clean(o) for o in re.findall(r"`([^`]+)`", description)]
        if options:
            schema = {"type": "string", "enum": options}
    format_word = re.search(r"\(([\w-]+)\)", text)  # string(date-time)
    if format_word and schema.get("type") == "string":
        named = type_word(format_word[1])
        if named and named.get("format"):
            schema["format"] = named["format"]
    return schema


_ITEM = re.compile(
    r"^`?(?P<name>[A-Za-z_$][\w$.-]*)`?(?P<optional>\?)?\s*(?:\((?P<paren>[^)]*)\))?\s*[:\uff1a=\u2014\u2013-]\s*(?P<rest>.+)$"
)


def item_field(text: str, line: int) -> Field | None:
    """The field a bullet states (`page: number (default: 1)`, `` `id` (string, required):
    the user's id``), or None."""
    match = _ITEM.match(clean_bullet(text))
    if match is None:
        return None
    rest = match["rest"].strip()
    marks = [w.strip().lower() for w in (match["paren"] or "").split(",")]
    typed = marks[0] if marks[0] and type_word(marks[0]) else None
    if not typed and not _is_type(rest.split(" (")[0].split(" - ")[0].split(",")[0]):
        return None
    maker = SchemaMaker()
    value = read_value(typed or rest)
    one = Field(match["name"], line, schema=maker.schema(value, match["name"]))
    one.guesses.extend(maker.guesses)
    said = " ".join(marks[1:]) if typed else rest
    if match["optional"] or re.search(r"\boptional\b|\uc120\ud0dd|\u53ef\u9009", said, re.I):
        one.required = False
    elif re.search(r"\brequired\b|\ud544\uc218|\u5fc5\u586b|\u5fc5\u987b", said, re.I):
        one.required = True
    if typed:
        one.description = rest
    else:
        note = re.search(r"\((.*)\)", rest)
        one.description = note[1] if note else ""
    return one


def clean_bullet(text: str) -> str:
    return text.strip().lstrip("-*+ ").strip()


def read_facts(table: Element) -> dict[str, str] | None:
    """A two-column table of an endpoint's facts (method, path, auth): its auth, or None
    when the table is not one."""
    rows = [row for row in table.rows if len(row) >= 2]
    if not any(clean(row[1]).upper() in METHODS for row in rows):
        return None
    facts: dict[str, str] = {}
    for row in rows:
        if _AUTH_KEY.search(clean(row[0])):
            facts["auth"] = "none" if _NEGATIVE.search(clean(row[1])) else "bearer"
    return facts
