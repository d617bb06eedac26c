"""Conditional requests (RFC 9110 §13): ETags on reads, If-None-Match, If-Match.

A read's ETag is a digest of the bytes it answers, so it changes whenever what a client
would read changes, whoever wrote it: a PATCH, a nested write, a link, a handler, or a
statement run outside the service. An item's tag is strong; a list's is weak (its order
and paging are the same, but not necessarily byte for byte under every encoder).

- `If-None-Match` on a read: 304 with the tag and no body when one of its tags matches.
- `If-Match` on PUT, PATCH or DELETE of an item: the row is locked, its representation as
  GET answers it is digested, and 412 follows unless one of the tags matches. The check
  and the write share one transaction, so of two clients holding one tag exactly one
  wins. The answer to a conditional write carries the row's new tag.
- `x-backsmith: {require-if-match: true}`: such a write without If-Match is answered 428.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Protocol

from backsmith.errors import BadRequest, PreconditionFailed, PreconditionRequired
from backsmith.http.request import Request
from backsmith.http.response import Response
from backsmith.model.kinds import Kind

if TYPE_CHECKING:  # the pipeline lists this step: its types are only named here
    from backsmith.http.pipeline import Endpoint

IF_MATCH = b"if-match"
IF_NONE_MATCH = b"if-none-match"
ANY = "*"  # If-Match: * -- the row exists, whatever its version
_TAG = re.compile(r'\s*(W/)?"([\x21\x23-\x7e\x80-\xff]*)"\s*(?:,|$)')
# The writes whose target is one row, so If-Match has a representation to compare with.
GUARDED_WRITES = frozenset({Kind.REPLACE, Kind.UPDATE, Kind.DELETE})

# The current representation of the row a write's path names, on its connection; None
# when there is no such row for this caller.
Reader = Callable[[Any, Request], Awaitable[bytes | None]]


def entity_tag(body: bytes, weak: bool = False) -> bytes:
    """A quoted tag for `body`: 120 bits of SHA-256, URL-safe base64.

    SHA-256 because OpenSSL computes it with the CPU's SHA instructions where there are
    some (most x86 and ARM servers): a page of 20 rows digests in about half BLAKE2b's time.
    """
    digest = base64.urlsafe_b64encode(hashlib.sha256(body).digest()[:15])
    return (b'W/"' if weak else b'"') + digest + b'"'


def parse_tags(value: str, header: str) -> tuple[str, ...] | str:
    """The opaque tags of an If-Match / If-None-Match value (`W/` kept), or `*`; 400 if bad."""
    value = value.strip()
    if value == ANY:
        return ANY
    tags = []
    at = 0
    while at < len(value):
        found = _TAG.match(value, at)
        if found is None or found.end() == at:
            raise BadRequest(f'{header} must be "*" or a list of entity tags such as "abc".')
        tags.append(f'{found.group(1) or ""}"{found.group(2)}"')
        at = found.end()
    if not tags:
        raise BadRequest(f'{header} must be "*" or a list of entity tags such as "abc".')
    return tuple(tags)


def weak_match(tags: tuple[str, ...] | str, tag: bytes) -> bool:
    """If-None-Match's comparison: the opaque parts equal, weak or not."""
    if tags == ANY:
        return True
    opaque = tag.removeprefix(b"W/").decode()
    return any(t.removeprefix("W/") == opaque for t in tags)


def strong_match(tags: tuple[str, ...] | str, tag: bytes) -> bool:
    """If-Match's comparison: a weak tag never matches."""
    return tags == ANY or tag.decode() in tags


class Conditional(Protocol):
    """The facts the conditions step reads."""

    operation: Any
    preconditions: Preconditions | None


class Preconditions:
    """An item write's If-Match, checked against the row's representation under its lock."""

    __slots__ = ("_read", "required")

    def __init__(self, read: Reader, required: bool) -> None:
        self._read = read
        self.required = required

    async def check(self, conn: Any, request: Request) -> None:
        """412 unless the row as it stands now matches the request's If-Match."""
        tags = request.conditions
        body = await self._read(conn, request)
        if body is None or not strong_match(tags, entity_tag(body)):
            raise PreconditionFailed(
                "The item has changed since the ETag you sent was read: "
                "read it again, then send the change with its new ETag."
            )

    async def tag(self, conn: Any, request: Request) -> bytes | None:
        """The ETag of the row's representation as it stands now (after the write)."""
        body = await self._read(conn, request)
        return None if body is None else entity_tag(body)


def conditions(plan: Conditional, next_step: Endpoint) -> Endpoint | None:
    """Tag what a read answers and honour If-None-Match; read an item write's If-Match."""
    operation = plan.operation
    if operation.method == "GET":
        return _tagged(next_step, weak=operation.kind == Kind.LIST)
    preconditions = plan.preconditions
    if preconditions is None:
        return None
    required = preconditions.required

    async def guarded(request: Request) -> Response:
        sent = request.header(IF_MATCH)
        if sent is None:
            if required:
                raise PreconditionRequired(
                    "This operation changes an item only with If-Match: send the ETag "
                    "you read with GET, so another client's change is never overwritten."
                )
        else:
            request.conditions = parse_tags(sent, "If-Match")
        return await next_step(request)

    return guarded


def _tagged(next_step: Endpoint, weak: bool) -> Endpoint:
    async def tagged(request: Request) -> Response:
        response = await next_step(request)
        if response.status != 200 or not response.body:
            return response
        tag = entity_tag(response.body, weak)
        response.headers.append((b"etag", tag))
        sent = request.header(IF_NONE_MATCH)
        if sent is not None and weak_match(parse_tags(sent, "If-None-Match"), tag):
            return Response(304, b"", None, response.headers)
        return response

    return tagged
