"""The URLs answers carry: a list's next, previous and current page, an item's own address.

Compiled once per operation from the answer's URL slots (model/urls.py). A page's URL keeps
the query parameters the operation declares, as the client sent them (repeated ones too),
and no others: a parameter the contract does not know is not handed on to the next page.
An absolute URL takes the scheme the server saw (uvicorn applies `X-Forwarded-Proto` from
the proxies `trusted_proxies` names) and the request's `Host`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote, quote_plus, unquote_plus

from backsmith.http.request import Request
from backsmith.model.places import place_keys
from backsmith.model.types import ItemShape, Operation, ParamLocation
from backsmith.model.urls import UrlRole, UrlSlot

# (parameter, value) that moves a list to another page: ("cursor", "eyJ..."), ("page", "3")
Move = tuple[str, str] | None
# A host as RFC 9110 allows it in `Host`: a name or IPv4 address, or an IPv6 literal, and a
# port. Anything else is not echoed into an answer; the server's own address is used.
_HOST = re.compile(r"(?:[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?")
_DEFAULT_PORTS = {"http": 80, "https": 443}


class AnswerUrls:
    """The URL properties of one operation's answer and what it takes to fill them."""

    __slots__ = ("_columns", "_location", "absolute_next", "declared", "item", "page")

    def __init__(
        self,
        operation: Operation,
        location: Callable[[Mapping[str, Any]], str | None],
        location_params: list[tuple[str, str]],
    ) -> None:
        answer = operation.response
        slots = answer.urls if answer is not None else ()
        self.page = tuple(s for s in slots if s.role != UrlRole.ITEM)
        self.item = tuple(s for s in slots if s.role == UrlRole.ITEM)
        self.absolute_next = any(s.absolute for s in self.page if s.role == UrlRole.NEXT)
        self.declared = frozenset(
            p.name for p in operation.params if p.location == ParamLocation.QUERY
        )
        self._location = location
        # Where each column the item's path names is found in an item: (parameter, member).
        shape: ItemShape | None = answer.shape if answer is not None else None
        members = {m.column: m.name for m in shape.members if m.source == "column"} if shape else {}
        self._columns = [(name, column, members.get(column)) for name, column in location_params]

    # ------------------------------------------------------------------ pages
    def page_url(self, request: Request, move: Move, absolute: bool = False) -> str:
        """This page's URL with `move` applied: declared parameters only, as they were sent."""
        moved = move[0] if move is not None else None
        raw = request.scope.get("query_string", b"").decode("latin-1")
        kept = [
            pair
            for pair in raw.split("&")
            if pair and (name := _query_name(pair)) in self.declared and name != moved
        ]
        if move is not None:
            kept.append(f"{_quoted(move[0])}={_quoted(move[1])}")
        url = f"{request.raw_path}?{'&'.join(kept)}" if kept else request.raw_path
        return origin(request) + url if absolute else url

    def fill_page(self, body: dict[str, Any], request: Request, next: Move, prev: Move) -> None:
        """The page links of a list's body; a missing page is null or left out, as declared."""
        for slot in self.page:
            if slot.role == UrlRole.PAGE:
                place(body, slot, self.page_url(request, None, slot.absolute))
                continue
            move = next if slot.role == UrlRole.NEXT else prev
            if move is not None:
                place(body, slot, self.page_url(request, move, slot.absolute))
            elif slot.nullable:
                place(body, slot, None)

    # ------------------------------------------------------------------ items
    def fill_item(
        self, item: dict[str, Any], request: Request, row: Mapping[str, Any] | None = None
    ) -> None:
        """The item's own address where its schema wants one (`links.self`, `url`)."""
        path = self.item_path(item, request, row)
        if path is None:
            return
        for slot in self.item:
            place(item, slot, origin(request) + path if slot.absolute else path)

    def item_path(
        self, item: Mapping[str, Any], request: Request, row: Mapping[str, Any] | None
    ) -> str | None:
        """The read path of the item, from the row, else from the item and the request."""
        if row is not None:
            return self._location(row)
        values: dict[str, Any] = {}
        for name, column, member in self._columns:
            if member is not None and item.get(member) is not None:
                values[column] = item[member]
            elif name in request.path_params:  # the item's own path: /bookings/{bookingId}
                values[column] = request.path_params[name]
            else:
                return None
        return self._location(values)


def place(body: dict[str, Any], slot: UrlSlot, url: str | None) -> None:
    """Set a slot's dotted place, making the objects on the way (`{"href": ...}` for HAL)."""
    *parents, last = place_keys(slot.place)
    for part in parents:
        found = body.get(part)
        if not isinstance(found, dict):
            found = body[part] = {}
        body = found
    body[last] = {"href": url} if slot.href and url is not None else url


def origin(request: Request) -> str:
    """`scheme://host[:port]` of the request, as its client addressed the server."""
    scope = request.scope
    scheme = str(scope.get("scheme") or "http")
    scheme = {"ws": "http", "wss": "https"}.get(scheme, scheme)
    host = request.header(b"host")
    if host is None or not _HOST.fullmatch(host):
        server = scope.get("server")
        if not server:
            return f"{scheme}://localhost"
        name, port = server[0], server[1]
        name = f"[{name}]" if ":" in str(name) else str(name)
        host = name if port is None or _DEFAULT_PORTS.get(scheme) == port else f"{name}:{port}"
    return f"{scheme}://{host}"


def moves(
    pagination: str | None,
    roles: Mapping[str, str],
    more: bool,
    cursor: str | None,
    page: int,
    offset: int,
    limit: int,
) -> tuple[Move, Move]:
    """The parameter that reaches the next page and the one that reaches the previous page.

    A cursor only moves forward (keyset pages have no way back), so a cursor list has no
    previous page to link to.
    """
    if pagination == "cursor":
        return ((roles["cursor"], cursor) if more and cursor is not None else None), None
    if pagination == "page":
        name = roles["page"]
        forward = (name, str(page + 1)) if more else None
        return forward, ((name, str(page - 1)) if page > 1 else None)
    if pagination == "offset":
        name = roles["offset"]
        forward = (name, str(offset + limit)) if more else None
        return forward, ((name, str(max(offset - limit, 0))) if offset > 0 else None)
    return None, None


# RFC 3986's unreserved characters: text of only these (a cursor in base64url, a number,
# a UUID, most slugs) stands in a path or a query string as it is, with no quoting.
_UNRESERVED = re.compile(r"[A-Za-z0-9_.~-]*")
_PATH_SAFE = "!$&'()*+,;=:@"  # RFC 3986 path characters a key keeps as they are


def _quoted(value: str) -> str:
    return value if _UNRESERVED.fullmatch(value) else quote_plus(value)


def in_path(key: str) -> str:
    """A key as one segment of a path (`Location: /books/{slug}`)."""
    return key if _UNRESERVED.fullmatch(key) else quote(key, safe=_PATH_SAFE)


def _query_name(pair: str) -> str:
    name = pair.partition("=")[0]
    return unquote_plus(name) if "%" in name or "+" in name else name
