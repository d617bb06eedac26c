"""The part of a spec that describes one endpoint, as a list of elements.

An endpoint's section starts at its primary mention and runs to the next heading of the
same or a higher level, or to the next endpoint's own mention, whichever comes first. A
code block that holds a whole request (`POST /x`, headers, a body, `Response: 201` and
another body) is split into lines and bodies, so that one reading serves both styles.
"""

from __future__ import annotations

from backsmith.contract.draft.endpoints import Endpoint
from backsmith.contract.draft.scan import FENCE, HEADING, ITEM, LINE, Element

_STRONG = ("heading", "block", "facts", "line", "bullet")


def section(
    endpoint: Endpoint, elements: list[Element], starts: set[tuple[int, int]]
) -> list[Element]:
    """The elements that describe `endpoint`; `starts` holds (element index, line in a code
    block or 0) of every endpoint's primary mention, where sections end."""
    primary = endpoint.primary
    index = primary.element
    anchor = elements[index]
    found: list[Element] = []
    if primary.how in ("table", "index"):
        return found  # a table of endpoints is an index: what follows it is no one's section
    if primary.how == "facts":
        found.append(anchor)  # its rows say more than method and path (auth)
    if anchor.kind == FENCE:
        ends = sorted(line for i, line in starts if i == index and line > primary.line)
        found.extend(
            part
            for part in explode(anchor)
            if part.line > primary.line and (not ends or part.line < ends[0])
        )
        if ends:  # the next request of the same block ends this one
            return found
    level = anchor.level if anchor.kind == HEADING else _enclosing_level(elements, index)
    ends_at = {i for i, _ in starts}
    for probe in range(index + 1, len(elements)):
        element = elements[probe]
        if (element.kind == HEADING and level and element.level <= level) or probe in ends_at:
            break
        found.extend(explode(element) if element.kind == FENCE else [element])
    return found


def starts_of(endpoints: list[Endpoint]) -> set[tuple[int, int]]:
    """(element index, line) of each endpoint's primary mention, where sections end."""
    return {
        (e.primary.element, e.primary.line if e.primary.how == "block" else 0)
        for e in endpoints
        if e.primary.how in _STRONG
    }


def _enclosing_level(elements: list[Element], index: int) -> int:
    for probe in range(index, -1, -1):
        if elements[probe].kind == HEADING:
            return elements[probe].level
    return 0


def heading_before(elements: list[Element], index: int, starts: set[tuple[int, int]]) -> str:
    """The nearest heading above an element, when its section holds no other endpoint: the
    name it gives its one endpoint (`### Register User` over `POST /auth/register`)."""
    for probe in range(index - 1, -1, -1):
        heading = elements[probe]
        if heading.kind != HEADING:
            continue
        end = next(
            (
                i
                for i in range(probe + 1, len(elements))
                if elements[i].kind == HEADING and elements[i].level <= heading.level
            ),
            len(elements),
        )
        inside = [start for start in starts if probe < start[0] < end]
        return heading.text if len(inside) <= 1 else ""
    return ""


def explode(block: Element) -> list[Element]:
    """A code block as its lines and the JSON-like bodies among them."""
    text = block.text
    if text.lstrip()[:1] in ("{", "["):
        return [block]
    parts: list[Element] = []
    lines = text.split("\n")
    at = 0
    while at < len(lines):
        stripped = lines[at].strip()
        if stripped[:1] in ("{", "["):
            end = _body_end(lines, at)
            body = "\n".join(lines[at : end + 1])
            parts.append(Element(FENCE, block.line + at, body + "\n", lang="json"))
            at = end + 1
            continue
        if stripped:
            kind = ITEM if stripped[:2] in ("- ", "* ") else LINE
            parts.append(
                Element(
                    kind, block.line + at, stripped.lstrip("-* ") if kind == ITEM else stripped, 1
                )
            )
        at += 1
    return parts


def _body_end(lines: list[str], start: int) -> int:
    """The last line of the body opening at `start`: where its brackets balance."""
    depth = 0
    quote = ""
    for index in range(start, len(lines)):
        line = lines[index]
        skip = False
        for position, char in enumerate(line):
            if skip:
                skip = False
                continue
            if quote:
                if char == "\\":
                    skip = True
                elif char == quote:
                    quote = ""
                continue
            if char == '"':
                quote = char
            elif char == "/" and line[position + 1 : position + 2] == "/":
                break  # a comment to the end of the line
            elif char in "{[":
                depth += 1
            elif char in "}]":
                depth -= 1
        if depth <= 0:
            return index
    return len(lines) - 1
