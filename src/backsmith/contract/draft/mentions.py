"""Find where a prose spec names an endpoint: a method and a path, in any of the usual ways.

A heading or a line (`### POST /api/users`, `` `GET /users/{id}` ``), the first line of
a code block (with headers and a body after it, or a raw HTTP request, or a curl
command), a row of a table of endpoints (method and path in either order), a two-column
table with a method row and a path row, methods as bullets under a path, and a method
named in a sentence with the path beside it. The reading relies on the shape of the text
(a method word in capitals, a path starting with `/` or a URL), never on its language.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from backsmith.contract.draft.paths import HOST
from backsmith.contract.draft.scan import FENCE, HEADING, ITEM, LINE, TABLE, Element

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
_METHOD = r"(?P<method>GET|POST|PUT|PATCH|DELETE)"
# A path: /a/b, a URL with a host, or {{baseUrl}}/a; ends at a space, quote or backtick.
_PATH = r"(?P<path>(?:https?://[^\s/`'\"<>)]+|\{\{\s*\w+\s*\}\}|\$\{?\w+\}?)?/[^\s`'\"|,;)\]]*)"
# At the start of a line, or after a short label (`Endpoint: POST /users`, `请求: GET /x`).
_LABEL = r"(?P<label>[^:`\uff1a/]{1,24}[:\uff1a][\s*_]*)?"
_LEADING = re.compile(rf"^[\s>#*_`\[\d.)-]*{_LABEL}[\s*_`]*{_METHOD}[\s*_`:]+{_PATH}")
# `**Method**: POST` and `**URL**: /users` on lines of their own, one after the other.
_LABELLED_METHOD = re.compile(rf"^[^:`\uff1a]{{1,24}}[:\uff1a][\s*_`]*{_METHOD}[\s*_`]*$")
_LABELLED_PATH = re.compile(rf"^[^:`\uff1a]{{1,24}}[:\uff1a][\s*_`]*{_PATH}[\s*_`]*$")
# Letters of other scripts may touch a method (`使用GET请求`): only ASCII ones are a word.
ENDPOINT_IN_TEXT = re.compile(rf"(?<![A-Za-z0-9_/]){_METHOD}(?:[\s*_`:]+){_PATH}")
_LONE_METHOD = re.compile(rf"^[\s*_`\[]*{_METHOD}[\s*_`\]]*(?:$|[:\s(\u2014\u2013-])")
_LONE_PATH = re.compile(rf"^[\s#*_`]*{_PATH}[\s*_`]*$")
_SENTENCE_METHOD = re.compile(rf"(?<![A-Za-z0-9_/-]){_METHOD}(?![A-Za-z0-9_/-])")
# `- [POST /orders](#create-an-order)`: a table of contents, which points at the endpoint.
_LINKED = re.compile(r"\[[^\]]*\]\([^)]*\)")
# What may follow a labelled endpoint on its line and leave it the line's subject.
_AFTER = re.compile(r"^[\s`*_.,;:)]*(?:HTTP/\d(?:\.\d)?)?[\s`*_.,;:]*(?:\([^)]*\))?[\s`*_.]*$")
_CODE_PATH = re.compile(r"`(?P<path>(?:https?://[^\s/`]+)?/[^\s`]*)`")
_CURL = re.compile(r"\bcurl\b(?P<args>.*)", re.S)
_CURL_METHOD = re.compile(r"(?:-X|--request)\s*['\"]?(?P<method>[A-Za-z]+)")
_CURL_URL = re.compile(r"['\"]?(?P<url>(?:https?://|\{\{\s*\w+\s*\}\}|\$\{?\w+\}?)[^\s'\"]*)")
_HTTP_VERSION = re.compile(r"\s+HTTP/\d(?:\.\d)?\s*$")


@dataclass(frozen=True, slots=True)
class Mention:
    """A method and a path as written, the line they are on, and how they were written.

    `how` is one of heading, line, block, curl, table, bullet, sentence; `element` is the
    index of the element it was found in, `at` the line inside a code block."""

    method: str
    path: str
    line: int
    how: str
    element: int
    at: int = 0  # for a mention in a code block: its line within the block


def find_mentions(elements: list[Element]) -> list[Mention]:
    """Every endpoint mention of the spec, in reading order."""
    found: list[Mention] = []
    # A path standing alone (its text, its heading level or 0), for methods written under it.
    last_path: tuple[str, int] | None = None
    for index, element in enumerate(elements):
        if element.kind in (HEADING, LINE, ITEM):
            lone = _LONE_PATH.match(_plain(element.text))
            if lone and element.kind != ITEM:
                last_path = (lone["path"], element.level if element.kind == HEADING else 0)
                continue
            mention = _in_text(element, index)
            if mention is None and element.kind == ITEM and last_path is not None:
                method = _LONE_METHOD.match(element.text)
                if method:
                    mention = Mention(method["method"], last_path[0], element.line, "bullet", index)
            if mention is None:
                mention = _labelled(elements, index)
            lone_method = _LONE_METHOD.fullmatch(_plain(element.text).strip(" #*_`"))
            if mention is None and element.kind == HEADING and lone_method:
                # `#### GET` under `### /orders/{id}`; alone, a method with no path
                inside = last_path is not None and element.level > last_path[1]
                under = last_path[0] if last_path is not None and inside else ""
                mention = Mention(lone_method["method"], under, element.line, "heading", index)
            if mention is not None:
                found.append(mention)
            elif element.kind == HEADING:
                last_path = None
        elif element.kind == FENCE:
            found.extend(_in_block(element, index))
        elif element.kind == TABLE:
            found.extend(_in_table(element, index))
    return found


def _labelled(elements: list[Element], index: int) -> Mention | None:
    """`Method: POST` on this line and `URL: /users` on the next (or the other way round)."""
    if index + 1 >= len(elements) or elements[index + 1].kind not in (LINE, ITEM):
        return None
    this, after = _plain(elements[index].text), _plain(elements[index + 1].text)
    for first, second in ((this, after), (after, this)):
        method, path = _LABELLED_METHOD.match(first), _LABELLED_PATH.match(second)
        if method and path:
            return Mention(method["method"], path["path"], elements[index].line, "line", index)
    return None


def _plain(text: str) -> str:
    return text.replace("\\", "")


def _in_text(element: Element, index: int) -> Mention | None:
    text = _plain(element.text)
    linked = _LINKED.search(text)
    if linked and ENDPOINT_IN_TEXT.search(linked[0]):
        found = ENDPOINT_IN_TEXT.search(linked[0])
        assert found is not None
        return Mention(found["method"], found["path"], element.line, "index", index)
    leading = _LEADING.match(text)
    if leading:
        how = "heading" if element.kind == HEADING else "line"
        if leading["label"] and not _AFTER.match(text[leading.end() :]):
            how = "sentence"  # `See also: GET /orders/{id} to poll it`: a reference
        return Mention(leading["method"], leading["path"], element.line, how, index)
    anywhere = ENDPOINT_IN_TEXT.search(text)
    if anywhere:  # `Create a user — POST /users`: in a heading, still the heading's endpoint
        how = "heading" if element.kind == HEADING else "sentence"
        return Mention(anywhere["method"], anywhere["path"], element.line, how, index)
    curl = _curl(text)
    if curl is not None:
        return Mention(curl[0], curl[1], element.line, "curl", index)
    # "send a POST with this body to `/api/login`": one method word, one path in code.
    methods = {m["method"] for m in _SENTENCE_METHOD.finditer(text)}
    paths = [m["path"] for m in _CODE_PATH.finditer(text)]
    if len(methods) == 1 and len(paths) == 1:
        return Mention(methods.pop(), paths[0], element.line, "sentence", index)
    return None


def _in_block(element: Element, index: int) -> list[Mention]:
    found: list[Mention] = []
    lines = element.text.split("\n")
    for at, raw in enumerate(lines):
        line = _HTTP_VERSION.sub("", raw.strip())
        leading = re.match(rf"^{_METHOD}\s+{_PATH}$", line)
        if leading:
            found.append(
                Mention(leading["method"], leading["path"], element.line + at, "block", index, at)
            )
            continue
        if line.startswith("curl"):
            command = _joined_command(lines, at)
            curl = _curl(command)
            if curl is not None:
                found.append(Mention(curl[0], curl[1], element.line + at, "curl", index, at))
    return found


def _joined_command(lines: list[str], at: int) -> str:
    """A shell command continued over several lines with trailing backslashes."""
    parts = []
    for line in lines[at:]:
        parts.append(line.rstrip().rstrip("\\"))
        if not line.rstrip().endswith("\\"):
            break
    return " ".join(parts)


def _curl(text: str) -> tuple[str, str] | None:
    command = _CURL.search(text)
    if command is None:
        return None
    args = command["args"]
    url = _CURL_URL.search(args)
    if url is None:
        return None
    explicit = _CURL_METHOD.search(args)
    if explicit:
        method = explicit["method"].upper()
    elif re.search(r"\s(-d|--data\S*|-F|--form|--json)\b", args):
        method = "POST"
    else:
        method = "GET"
    if method not in METHODS:
        return None
    target = url["url"]
    path = target if "/" in HOST.sub("", target, count=1) else target + "/"
    return method, path


def _cell(text: str) -> str:
    return _plain(text).strip().strip("*_`").strip()


def _in_table(element: Element, index: int) -> list[Mention]:
    rows = element.rows
    found: list[Mention] = []
    # A table of endpoints: in some row, one cell is a method and another a path.
    for row, line in zip(rows, element.row_lines, strict=False):
        cells = [_cell(cell) for cell in row]
        method = next((c.upper() for c in cells if c.upper() in METHODS), None)
        path = next((c for c in cells if re.fullmatch(_PATH, c)), None)
        inline = next((m for c in cells if (m := _LEADING.match(c))), None)
        if method and path:
            found.append(Mention(method, path, line, "table", index))
        elif inline:
            found.append(Mention(inline["method"], inline["path"], line, "table", index))
    if found:
        return found
    # A table of an endpoint's facts: one row's value is a method, another row's a path.
    method_row = next((r for r in rows if len(r) >= 2 and _cell(r[1]).upper() in METHODS), None)
    path_row = next((r for r in rows if len(r) >= 2 and re.fullmatch(_PATH, _cell(r[1]))), None)
    if method_row and path_row:
        return [
            Mention(_cell(method_row[1]).upper(), _cell(path_row[1]), element.line, "facts", index)
        ]
    return []
