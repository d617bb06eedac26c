"""Split a Markdown spec into the parts drafting reads, each with its line in the file.

markdown-it (the CommonMark parser with GFM tables) finds headings, paragraphs, list
items, code blocks and tables; HTML tables are read with the standard library. Text keeps
its inline Markdown (backticks, emphasis), since `` `GET /users` `` is how many specs
mark an endpoint.
"""

from __future__ import annotations

from dataclasses import dataclass
from html.parser import HTMLParser

from markdown_it import MarkdownIt
from markdown_it.token import Token

HEADING, LINE, ITEM, FENCE, TABLE = "heading", "line", "item", "fence", "table"


@dataclass(frozen=True, slots=True)
class Element:
    """One part of the spec: a heading, a line of prose, a list item, a code block or a
    table. `line` is 1-based; a fence's is that of its first line of content."""

    kind: str
    line: int
    text: str = ""
    level: int = 0  # a heading's level, a list item's depth
    lang: str = ""
    rows: tuple[tuple[str, ...], ...] = ()
    row_lines: tuple[int, ...] = ()


_PARSER = MarkdownIt("commonmark").enable("table")


def scan(text: str) -> list[Element]:
    """The elements of a Markdown document, in reading order."""
    tokens = _PARSER.parse(text)
    elements: list[Element] = []
    depth = 0
    index = 0
    while index < len(tokens):
        token = tokens[index]
        start = (token.map[0] + 1) if token.map else 0
        if token.type in ("bullet_list_open", "ordered_list_open"):
            depth += 1
        elif token.type in ("bullet_list_close", "ordered_list_close"):
            depth -= 1
        elif token.type == "heading_open":
            inline = tokens[index + 1]
            elements.append(Element(HEADING, start, inline.content, int(token.tag[1:])))
        elif token.type == "paragraph_open":
            inline = tokens[index + 1]
            in_item = index > 0 and tokens[index - 1].type == "list_item_open"
            for offset, line in enumerate(inline.content.split("\n")):
                kind = ITEM if in_item and offset == 0 else LINE
                elements.append(Element(kind, start + offset, line, depth))
        elif token.type in ("fence", "code_block"):
            lang = token.info.strip().split(maxsplit=1)[0].lower() if token.info else ""
            first = start + 1 if token.type == "fence" else start
            elements.append(Element(FENCE, first, token.content, lang=lang))
        elif token.type == "table_open":
            index = _table(tokens, index, elements)
            continue
        elif token.type == "html_block":
            elements.extend(_html_tables(token.content, start))
        index += 1
    return elements


def _table(tokens: list[Token], index: int, elements: list[Element]) -> int:
    located = tokens[index].map
    start = (located[0] + 1) if located else 0
    rows: list[tuple[str, ...]] = []
    lines: list[int] = []
    cells: list[str] = []
    while index < len(tokens) and tokens[index].type != "table_close":
        token = tokens[index]
        if token.type == "tr_open":
            cells = []
            lines.append((token.map[0] + 1) if token.map else start)
        elif token.type == "inline":
            cells.append(token.content.strip())
        elif token.type == "tr_close":
            rows.append(tuple(cells))
        index += 1
    elements.append(Element(TABLE, start, rows=tuple(rows), row_lines=tuple(lines)))
    return index + 1


class _HtmlTables(HTMLParser):
    """The rows of each `<table>` in a block of HTML, cells as text."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[tuple[int, list[tuple[str, ...]], list[int]]] = []
        self.row: list[str] | None = None
        self.cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self.tables.append((self.getpos()[0], [], []))
        elif tag == "tr" and self.tables:
            self.row = []
            self.tables[-1][2].append(self.getpos()[0])
        elif tag in ("td", "th") and self.row is not None:
            self.cell = []
        elif tag == "code" and self.cell is not None:
            self.cell.append("`")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self.row is not None and self.cell is not None:
            self.row.append(" ".join("".join(self.cell).split()))
            self.cell = None
        elif tag == "tr" and self.row is not None and self.tables:
            self.tables[-1][1].append(tuple(self.row))
            self.row = None
        elif tag == "code" and self.cell is not None:
            self.cell.append("`")

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)


def _html_tables(html: str, start: int) -> list[Element]:
    reader = _HtmlTables()
    reader.feed(html)
    return [
        Element(
            TABLE,
            start + line - 1,
            rows=tuple(rows),
            row_lines=tuple(start + row - 1 for row in row_lines),
        )
        for line, rows, row_lines in reader.tables
        if rows
    ]
