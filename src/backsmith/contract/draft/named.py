"""Types a spec defines once by name and uses in answers: `### UserResponse` over a table.

Many specs keep a "Data types" section: a heading that is a type's name (`UserResponse`,
`Order`) over a field table or a JSON example, and answers that name it
(`ApiResponse<UserResponse>`, `data: Order`). Each such type becomes a component schema,
and the answers and members that name it refer to it.
"""

from __future__ import annotations

import re

from backsmith.contract.draft.details import Body
from backsmith.contract.draft.scan import FENCE, HEADING, TABLE, Element
from backsmith.contract.draft.sketch import read_sketch
from backsmith.contract.draft.tables import fields_of

_TYPE_NAME = re.compile(r"^[`*_]*([A-Z][A-Za-z0-9]+)[`*_]*(?:\s+(?:object|type|model|schema))?$")


def named_types(elements: list[Element], starts: set[tuple[int, int]]) -> dict[str, Body]:
    """Each type a heading names and the table or example under it describes."""
    taken = {index for index, _ in starts}
    found: dict[str, Body] = {}
    for index, heading in enumerate(elements):
        name = _TYPE_NAME.match(heading.text.strip()) if heading.kind == HEADING else None
        if name is None:
            continue
        body: Body | None = None
        for probe in range(index + 1, len(elements)):
            element = elements[probe]
            if element.kind == HEADING or probe in taken:
                break
            if element.kind == TABLE and (fields := fields_of(element)):
                body = body or Body(element.line)
                body.fields.extend(fields)
            elif element.kind == FENCE and element.text.lstrip()[:1] in ("{", "["):
                sketch = read_sketch(element.text)
                body = body or Body(element.line)
                body.sketch = body.sketch or sketch
        if body is not None:
            found.setdefault(name[1], body)
    return found
