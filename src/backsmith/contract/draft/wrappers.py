"""Recognise the wrapper a spec puts around every answer: `{"success": true, "data": ...}`.

Many specs say it once ("All responses follow ...") and then show it in every example.
The wrapper is the members beside a `data`-like key that recur in most success answers;
it is found once for the whole spec and named in the report, and the drafted answers keep
it, so the served answers have the shape the spec shows.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING

from backsmith.contract.draft.rows import WRAPPERS

if TYPE_CHECKING:
    from backsmith.contract.draft.document import Drafted


@dataclass(frozen=True, slots=True)
class Wrapper:
    """The recurring wrapper: its data key, the members beside it, and where it is shown."""

    key: str
    members: tuple[str, ...]
    lines: tuple[int, ...]

    def describe(self) -> str:
        beside = ", ".join(f'"{m}"' for m in self.members)
        return f'{{{beside}, "{self.key}": ...}}'


def recurring_wrapper(drafted: list[Drafted]) -> Wrapper | None:
    """The wrapper shown in at least two success answers, or None."""
    seen: Counter[tuple[str, tuple[str, ...]]] = Counter()
    lines: dict[tuple[str, tuple[str, ...]], list[int]] = {}
    for one in drafted:
        for status, answer in one.details.answers.items():
            if status[:1] in "45" or answer.body is None or answer.body.sketch is None:
                continue
            value = answer.body.sketch.value
            if not isinstance(value, dict):
                continue
            keys = [k for k in value if k.lower() in WRAPPERS]
            if len(keys) != 1:
                continue
            shape = (keys[0], tuple(k for k in value if k != keys[0]))
            seen[shape] += 1
            lines.setdefault(shape, []).append(answer.body.line)
    if not seen:
        return None
    shape, count = seen.most_common(1)[0]
    if count < 2:
        return None
    return Wrapper(shape[0], shape[1], tuple(lines[shape]))
