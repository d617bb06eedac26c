"""Find the fenced code blocks of a Markdown spec that carry OpenAPI and DBML."""

from __future__ import annotations

import re
from dataclasses import dataclass

_FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})\s*(?P<info>[^`]*)$")

OPENAPI_LANGS = frozenset({"yaml", "yml", "json", "openapi"})
DBML_LANGS = frozenset({"dbml"})


@dataclass(frozen=True, slots=True)
class Block:
    """One fenced block: its language, its text and the file line its text starts on."""

    lang: str
    text: str
    first_line: int


def fenced_blocks(text: str) -> list[Block]:
    """Every fenced block (``` or ~~~) in a CommonMark document, in order."""
    blocks: list[Block] = []
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        opening = _FENCE.match(lines[index])
        if not opening:
            index += 1
            continue
        fence = opening["fence"]
        lang = opening["info"].strip().split(maxsplit=1)[0].lower() if opening["info"] else ""
        body: list[str] = []
        index += 1
        start = index + 1  # 1-based line of the first body line
        while index < len(lines):
            stripped = lines[index].strip()
            if stripped.startswith(fence[0] * len(fence)) and not stripped.strip(fence[0]):
                break
            body.append(lines[index])
            index += 1
        index += 1
        blocks.append(Block(lang, "\n".join(body) + "\n", start))
    return blocks
