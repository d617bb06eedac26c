"""Reading a list page by page, to find whether a row is on it.

The next page is found as a client would find it: a `Link: <...>; rel="next"` header, the
envelope's next URL or cursor, or else the next page number or offset. The largest page the
list allows is asked for, and at most MAX_PAGES are read.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from backsmith.bench.pool import list_items
from backsmith.model.types import Operation, ParamRole
from backsmith.verify.suite.client import Answer, Request

MAX_PAGES = 50
_NEXT = re.compile(r'<([^>]+)>\s*;[^,]*rel="?next"?', re.IGNORECASE)


def pages(
    op: Operation, first: Request, send: Callable[[Request], Answer]
) -> Iterator[tuple[Answer, list[Mapping[str, Any]]]]:
    """Each page's answer and items, from `first` on, until the last page (or a refusal)."""
    request = first.with_target(_with_query(first.target, _largest_page(op)))
    for _ in range(MAX_PAGES):
        answer = send(request)
        items = list_items(op, answer.json()) if answer.ok else []
        yield answer, items
        if not answer.ok or not items:
            return
        target = _next_target(op, request.target, answer, len(items))
        if target is None or target == request.target:
            return
        request = request.with_target(target)


def _next_target(op: Operation, target: str, answer: Answer, count: int) -> str | None:
    link = _NEXT.search(answer.headers.get("link", ""))
    if link is not None:
        return _relative(target, link.group(1))
    envelope = op.response.envelope if op.response is not None else None
    body = answer.json()
    if envelope is not None and isinstance(body, dict):
        if envelope.next and isinstance(body.get(envelope.next), str):
            return _relative(target, body[envelope.next])
        cursor = body.get(envelope.cursor) if envelope.cursor else None
        named = _param(op, ParamRole.CURSOR)
        if envelope.cursor:
            return _with_query(target, {named: cursor}) if cursor and named else None
    page, offset = _param(op, ParamRole.PAGE), _param(op, ParamRole.OFFSET)
    if page is not None:
        current = dict(parse_qsl(urlsplit(target).query)).get(page, "1")
        return _with_query(target, {page: str(int(current) + 1 if current.isdigit() else 2)})
    if offset is not None:
        current = dict(parse_qsl(urlsplit(target).query)).get(offset, "0")
        start = int(current) if current.isdigit() else 0
        return _with_query(target, {offset: str(start + count)})
    return None


def _largest_page(op: Operation) -> dict[str, str]:
    for param in op.params:
        if param.role == ParamRole.LIMIT:
            largest = (param.validation or {}).get("maximum")
            return {param.name: str(int(largest))} if isinstance(largest, int | float) else {}
    return {}


def _param(op: Operation, role: ParamRole) -> str | None:
    return next((p.name for p in op.params if p.role == role), None)


def _with_query(target: str, changes: Mapping[str, str]) -> str:
    if not changes:
        return target
    parts = urlsplit(target)
    query = {**dict(parse_qsl(parts.query, keep_blank_values=True)), **changes}
    return f"{parts.path}?{urlencode(query)}"


def _relative(target: str, url: str) -> str:
    """A next link as a target: its path and query (an absolute URL names this service)."""
    parts = urlsplit(url)
    if not parts.path:
        return target
    return parts.path + (f"?{parts.query}" if parts.query else "")
