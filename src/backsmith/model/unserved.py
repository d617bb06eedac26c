"""What a contract declares that this version cannot serve as declared, each at its pointer.

OpenAPI 3.2 adds the QUERY method, operations under other methods (`additionalOperations`),
a `querystring` parameter (the whole query string as one value) and media types whose body
is a stream of items (`itemSchema`: server-sent events, JSON Lines, JSON text sequences).
backsmith routes the eight methods OpenAPI 3.0 and 3.1 name, reads query parameters one by
one, and sends and reads whole bodies. An operation it cannot route and a stream it cannot
send are warnings: the rest of the contract is served. A `querystring` parameter is an
error: the requests of its operation could not be checked against it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote

from backsmith.contract.load import Contract
from backsmith.contract.refs import resolve_pointer
from backsmith.contract.source import escape
from backsmith.errors import Issue
from backsmith.model.findings import WARNING
from backsmith.model.vocabulary import METHODS

# Media types whose body is a sequence of items sent as they come (OpenAPI 3.2's list).
STREAMING = frozenset(
    {
        "text/event-stream",
        "application/jsonl",
        "application/x-ndjson",
        "application/ndjson",
        "application/json-seq",
    }
)
_ROUTED = ", ".join(method.upper() for method in METHODS)


def unserved_findings(contract: Contract) -> list[Issue]:
    """Warnings: operations under methods backsmith does not route, streamed bodies, and
    array parameters in a separator OpenAPI 3 has no style for."""
    return [*_unrouted(contract), *_streams(contract), *_unstyled(contract)]


def querystring_parameters(contract: Contract) -> list[Issue]:
    """Errors: every `in: querystring` parameter, where it is declared."""
    found: dict[str, Issue] = {}
    for pointer, param in _parameters(contract.document):
        if param.get("in") == "querystring" and pointer not in found:
            message = (
                f"parameter '{param.get('name')}' is in: querystring (OpenAPI 3.2), the whole "
                "query string as one value, which backsmith cannot check requests against"
            )
            fix = "declare each query parameter on its own, with in: query"
            found[pointer] = contract.issue(message, pointer, fix=fix)
    return list(found.values())


def _unrouted(contract: Contract) -> list[Issue]:
    found = []
    for path, item in _path_items(contract.document):
        base = f"/paths/{escape(path)}"
        extra = item.get("additionalOperations")
        unrouted = [("QUERY", f"{base}/query", item.get("query"))]
        if isinstance(extra, dict):
            unrouted += [
                (str(method), f"{base}/additionalOperations/{escape(method)}", op)
                for method, op in extra.items()
            ]
        for method, pointer, op in unrouted:
            if not isinstance(op, dict):
                continue
            named = f" ({op['operationId']})" if isinstance(op.get("operationId"), str) else ""
            message = (
                f"{method} {path}{named} is not served: backsmith routes {_ROUTED}, so a "
                f"{method} request is refused (405, or 404 where the path has no other operation)"
            )
            fix = "serve it as a POST (a handler can take the same body), or drop it"
            found.append(contract.issue(message, pointer, WARNING, fix))
    return found


def _streams(contract: Contract) -> list[Issue]:
    document = contract.document
    found: dict[str, Issue] = {}
    for path, item in _path_items(document):
        for method in METHODS:
            op = item.get(method)
            if not isinstance(op, dict):
                continue
            at = f"/paths/{escape(path)}/{method}"
            where = f"{method.upper()} {path}"
            bodies = [(f"{at}/requestBody", op.get("requestBody"), "takes")]
            for status, response in (op.get("responses") or {}).items():
                bodies.append((f"{at}/responses/{escape(str(status))}", response, "answers"))
            for pointer, body, verb in bodies:
                body, pointer = _followed(document, body, pointer)
                content = body.get("content") if isinstance(body, dict) else None
                for media, entry in (content if isinstance(content, dict) else {}).items():
                    if not _streamed(media, entry):
                        continue
                    place = f"{pointer}/content/{escape(media)}"
                    message = (
                        f"{where} {verb} {media} as a stream of items: backsmith sends and "
                        "reads whole bodies, never a stream"
                    )
                    fix = (
                        "serve the stream from another service, or declare application/json "
                        "beside it for clients that take the items at once"
                    )
                    found.setdefault(place, contract.issue(message, place, WARNING, fix))
    return list(found.values())


def _streamed(media: str, entry: Any) -> bool:
    kind = media.split(";", 1)[0].strip().lower()
    return kind in STREAMING or (isinstance(entry, dict) and "itemSchema" in entry)


def _unstyled(contract: Contract) -> list[Issue]:
    """Array parameters a Swagger 2.0 contract separates by tabs (or by spaces or pipes
    outside the query): the conversion keeps the format as `x-collectionFormat`."""
    found: dict[str, Issue] = {}
    for pointer, param in _parameters(contract.document):
        declared = param.get("x-collectionFormat")
        if not isinstance(declared, str) or pointer in found:
            continue
        message = (
            f"{param.get('in')} parameter '{param.get('name')}' separates its items as "
            f"collectionFormat {declared}, which OpenAPI 3 has no style for there: backsmith "
            "reads them comma-separated"
        )
        fix = "send the items comma-separated (collectionFormat csv)"
        found[pointer] = contract.issue(message, pointer, WARNING, fix)
    return list(found.values())


def _path_items(document: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for path, item in (document.get("paths") or {}).items():
        if isinstance(item, dict):
            yield str(path), item


def _parameters(document: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every parameter with the pointer where it is declared (a `$ref` followed)."""
    holders: list[tuple[str, Any]] = []
    for path, item in _path_items(document):
        base = f"/paths/{escape(path)}"
        holders.append((f"{base}/parameters", item.get("parameters")))
        for method in (*METHODS, "query"):
            op = item.get(method)
            if isinstance(op, dict):
                holders.append((f"{base}/{method}/parameters", op.get("parameters")))
    for at, params in holders:
        for index, raw in enumerate(params if isinstance(params, list) else ()):
            param, pointer = _followed(document, raw, f"{at}/{index}")
            if isinstance(param, dict):
                yield pointer, param
    components = (document.get("components") or {}).get("parameters")
    for name, param in (components if isinstance(components, dict) else {}).items():
        if isinstance(param, dict):
            yield f"/components/parameters/{escape(name)}", param


def _followed(document: dict[str, Any], node: Any, pointer: str) -> tuple[Any, str]:
    """`node` with its `$ref`s followed inside the document, and where it ends up."""
    for _ in range(20):  # a cycle of references ends somewhere
        ref = node.get("$ref") if isinstance(node, dict) else None
        if not isinstance(ref, str) or not ref.startswith("#"):
            break
        try:
            node, pointer = resolve_pointer(document, ref[1:]), unquote(ref[1:])
        except KeyError:
            break
    return node, pointer
