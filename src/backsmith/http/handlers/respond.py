"""Answers handlers send: JSON encoding, wrappers, list envelopes, next links, `Location`."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote_plus, unquote_plus

from backsmith.errors import NotFound
from backsmith.http.request import Request
from backsmith.http.response import Response, json_response
from backsmith.http.shaping import dumps
from backsmith.model.types import Envelope, SuccessAnswer


def wrap(answer: SuccessAnswer, item: dict[str, Any]) -> Any:
    """The item under the response's wrapper key (`{"book": {...}}`), if it has one, beside
    the envelope's fixed members (`{"success": true, "data": {...}}`)."""
    shape = answer.envelope
    if not shape.wrapper:
        return item
    body: dict[str, Any] = dict(shape.constants)
    place(body, shape.wrapper, item)
    return body


def item_response(
    answer: SuccessAnswer,
    item: dict[str, Any] | None,
    headers: list[tuple[bytes, bytes]] | None = None,
) -> Response:
    """The response for one shaped item, or 404 when there is none."""
    if item is None:
        raise NotFound("No such item.")
    return json_response(answer.status, dumps(wrap(answer, item)), headers)


def location(path: str | None) -> list[tuple[bytes, bytes]]:
    """The `Location` header of a created row, when the contract reads it somewhere."""
    return [(b"location", path.encode())] if path else []


def envelope(
    shape: Envelope,
    items: list[dict[str, Any]],
    next_cursor: str | None,
    total: int | None,
    limit: int,
    page: int,
    offset: int,
    more: bool,
) -> dict[str, Any]:
    """A list's body: the items and the paging facts, where the contract puts them, and its
    fixed members."""
    body: dict[str, Any] = dict(shape.constants)
    for key, value in (
        (shape.items or "items", items),
        (shape.cursor, next_cursor),
        (shape.total, total),
        (shape.limit, limit),
        (shape.page, page),
        (shape.offset, offset),
        (shape.has_more, more),
    ):
        if key is not None:
            place(body, key, value)
    return body


def place(body: dict[str, Any], path: str, value: Any) -> None:
    """Set `meta.pagination.total`-style dotted keys, making the objects on the way."""
    *parents, last = path.split(".")
    for part in parents:
        body = body.setdefault(part, {})
    body[last] = value


def next_url(
    request: Request,
    roles: dict[str, str],
    cursor: str | None,
    page: int | None,
    offset: int | None,
) -> str | None:
    """The next page's URL (path and query), if there is a next page.

    The request's own query string is kept as sent, repeated parameters and all; only the
    parameter that moves to the next page is replaced.
    """
    if cursor is not None:
        name, value = roles["cursor"], cursor
    elif page is not None:
        name, value = roles["page"], str(page)
    elif offset is not None:
        name, value = roles["offset"], str(offset)
    else:
        return None
    raw = request.scope.get("query_string", b"").decode("latin-1")
    kept = [pair for pair in raw.split("&") if pair and _query_name(pair) != name]
    kept.append(f"{quote_plus(name)}={quote_plus(value)}")
    return f"{request.raw_path}?{'&'.join(kept)}"


def _query_name(pair: str) -> str:
    name = pair.partition("=")[0]
    return unquote_plus(name) if "%" in name or "+" in name else name
