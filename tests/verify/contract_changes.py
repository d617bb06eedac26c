"""A small contract to edit, and the helpers the diff tests make their changes with.

Its request schema (BookInput) and response schema (Book) are apart, so that a change
to one is one change, in one direction; Book is answered by three operations.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from backsmith.api import load_model
from backsmith.contract.source import unescape
from backsmith.verify.diff import DiffReport, Level, diff_contracts

DELETE = object()  # an edit's value: remove what the pointer names
Edit = tuple[str, Any] | Callable[[dict[str, Any]], None]


def ok(schema: str) -> dict[str, Any]:
    ref = {"$ref": f"#/components/schemas/{schema}"}
    return {"description": "ok", "content": {"application/json": {"schema": ref}}}


ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}
BASE: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "Shop", "version": "1.0.0"},
    "servers": [{"url": "https://api.example.com/v1"}],
    "paths": {
        "/books": {
            "get": {
                "operationId": "listBooks",
                "parameters": [
                    {"name": "limit", "in": "query", "schema": {"type": "integer", "maximum": 100}}
                ],
                "responses": {
                    "200": {
                        "description": "ok",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "array",
                                    "items": {"$ref": "#/components/schemas/Book"},
                                }
                            }
                        },
                    }
                },
            },
            "post": {
                "operationId": "createBook",
                "security": [{"bearer": []}],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/BookInput"}}
                    },
                },
                "responses": {"201": ok("Book"), "422": {"description": "invalid"}},
            },
        },
        "/books/{id}": {
            "get": {
                "operationId": "getBook",
                "parameters": [ID],
                "responses": {"200": ok("Book"), "404": {"description": "missing"}},
            },
            "delete": {
                "operationId": "deleteBook",
                "security": [{"oauth": ["books:write"]}],
                "parameters": [ID],
                "responses": {"204": {"description": "deleted"}},
            },
        },
        "/authors": {
            "get": {
                "operationId": "listAuthors",
                "responses": {"200": {"description": "ok"}},
            }
        },
    },
    "components": {
        "securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer"},
            "oauth": {
                "type": "oauth2",
                "flows": {
                    "clientCredentials": {
                        "tokenUrl": "https://auth.example.com/token",
                        "scopes": {"books:write": "write", "books:admin": "admin"},
                    }
                },
            },
        },
        "schemas": {
            "BookInput": {
                "type": "object",
                "required": ["title"],
                "properties": {
                    "title": {"type": "string", "maxLength": 200},
                    "genre": {"type": "string", "enum": ["novel", "poetry"]},
                    "pages": {"type": "integer", "minimum": 1},
                    "isbn": {"type": "string", "pattern": "^[0-9-]+$"},
                    "note": {"type": "string", "nullable": True},
                    "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 10},
                },
            },
            "Book": {
                "type": "object",
                "required": ["id", "title"],
                "properties": {
                    "id": {"type": "integer"},
                    "title": {"type": "string", "maxLength": 200},
                    "subtitle": {"type": "string"},
                    "genre": {"type": "string", "enum": ["novel", "poetry"]},
                },
            },
        },
    },
}

INPUT = "/components/schemas/BookInput"
BOOK = "/components/schemas/Book"
LIMIT = "/paths/~1books/get/parameters/0"
CREATE = "/paths/~1books/post"


def move(old: str, new: str, parameter: dict[str, Any] | None = None) -> Edit:
    def edit(document: dict[str, Any]) -> None:
        item = document["paths"].pop(old)
        if parameter is not None:
            item["parameters"] = [parameter]
        document["paths"][new] = item

    return edit


def rename_id(document: dict[str, Any]) -> None:
    item = document["paths"].pop("/books/{id}")
    for operation in item.values():
        operation["parameters"] = [{**ID, "name": "bookId"}]
    document["paths"]["/books/{bookId}"] = item


def inline_input(document: dict[str, Any]) -> None:
    schema = document["components"]["schemas"].pop("BookInput")
    document["paths"]["/books"]["post"]["requestBody"]["content"]["application/json"] = {
        "schema": schema
    }


SHOP = {"name": "shopId", "in": "path", "required": True, "schema": {"type": "string"}}
NEW_OPERATION = {"operationId": "addAuthor", "responses": {"201": {"description": "made"}}}
RATING = {"type": "integer"}


def apply(document: dict[str, Any], edits: list[Edit]) -> dict[str, Any]:
    """A copy of `document` with `edits` made: a function, or (pointer, value) setting a
    key, inserting into a list at the index, or removing with DELETE."""
    document = copy.deepcopy(document)
    for edit in edits:
        if callable(edit):
            edit(document)
            continue
        pointer, value = edit
        *parents, last = [unescape(token) for token in pointer.split("/")[1:]]
        node: Any = document
        for token in parents:
            node = node[int(token)] if isinstance(node, list) else node[token]
        if value is DELETE:
            del node[int(last) if isinstance(node, list) else last]
        elif isinstance(node, list):
            node.insert(int(last), value)
        else:
            node[last] = value
    return document


def diff(tmp_path: Path, new_edits: list[Edit], old_edits: list[Edit] | None = None) -> DiffReport:
    """Write the base contract (with `old_edits`) and its edited copy, and compare them as
    the command line does."""
    old, new = tmp_path / "old.yaml", tmp_path / "new.yaml"
    old.write_text(yaml.safe_dump(apply(BASE, old_edits or []), sort_keys=False))
    new.write_text(yaml.safe_dump(apply(BASE, new_edits), sort_keys=False))
    return diff_contracts(load_model(old), load_model(new))


def case(name: str, expected: dict[str, Level], *edits: Edit, old: tuple[Edit, ...] = ()) -> Any:
    """One row of a table: edits to the new contract (and the old), and every change
    expected, by rule id and level."""
    return pytest.param(list(edits), expected, list(old), id=name)


def assert_classified(
    tmp_path: Path, new_edits: list[Edit], expected: dict[str, Level], old_edits: list[Edit]
) -> None:
    """The changes found are exactly `expected` (rule id: level), and exit code 1 follows
    from a breaking one."""
    report = diff(tmp_path, new_edits, old_edits)
    assert {change.rule: change.level for change in report.changes} == expected
    assert report.refused == (Level.BREAKING in expected.values())
