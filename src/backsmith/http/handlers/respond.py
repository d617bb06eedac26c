"""Answers handlers send: JSON encoding, wrappers, list envelopes, `Location`."""

from __future__ import annotations

from typing import Any

from backsmith.errors import NotFound
from backsmith.http.response import Response, json_response
from backsmith.http.shaping import dumps
from backsmith.model.places import place_keys
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
        if key is not None and (value is not None or key not in shape.optional):
            place(body, key, value)
    return body


def place(body: dict[str, Any], path: str, value: Any) -> None:
    """Set `meta.pagination.total`-style dotted keys, making the objects on the way."""
    *parents, last = place_keys(path)
    for part in parents:
        body = body.setdefault(part, {})
    body[last] = value
