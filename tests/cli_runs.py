"""Running the command line in-process, and the small books contract with its DBML that
tests of `check` and `model` in several folders share."""

from __future__ import annotations

from pathlib import Path

import pytest

from backsmith.cli import main

BOOKS_API = """\
openapi: 3.1.0
info: {title: Shop, version: "1"}
paths:
  /books:
    get:
      operationId: listBooks
      parameters:
        - {name: genre, in: query, schema: {type: string}}
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema:
                type: array
                items: {$ref: "#/components/schemas/Book"}
    post:
      operationId: createBook
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: "#/components/schemas/Book"}
      responses:
        "201":
          description: created
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Book"}
  /books/{id}:
    get:
      operationId: getBook
      parameters:
        - {name: id, in: path, required: true, schema: {type: integer}}
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Book"}
components:
  schemas:
    Book:
      type: object
      required: [title]
      properties:
        id: {type: integer, readOnly: true}
        title: {type: string}
        subtitle: {type: [string, "null"]}
        genre: {type: string, enum: [fantasy, poetry]}
"""

BOOKS_DBML = """\
Enum genre {
  fantasy
  poetry
}

Table books {
  id integer [pk, increment]
  title varchar(200) [not null]
  subtitle text
  genre genre [not null, default: 'fantasy']
  shelf varchar(16)
}
"""


def run(capsys: pytest.CaptureFixture[str], *argv: str | Path) -> tuple[int, str, str]:
    """Run the CLI in-process: (exit code, stdout, stderr)."""
    code = main([str(arg) for arg in argv])
    out, err = capsys.readouterr()
    return code, out, err
