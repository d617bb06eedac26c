"""How relations are understood, without HTTP: the hop graph, item shapes, link operations,
the indexes `check` asks for, and the errors bad declarations give.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import BOOKSHOP, FIXTURES
from conftest import write_file as write

from backsmith.api import load_model
from backsmith.errors import ContractError
from backsmith.model.relations import RelationGraph, is_join_table
from backsmith.model.types import Kind
from backsmith.verify.describe import describe

RELATIONS = FIXTURES / "relations" / "api.yaml"

DBML = """\
Table authors {
  id integer [pk, increment]
  handle varchar(64) [not null, unique]
  full_name varchar(200) [not null]
}
Table books {
  id integer [pk, increment]
  title varchar(300) [not null]
  author_id integer [not null]
}
Table tags {
  id integer [pk, increment]
  label varchar(64) [not null, unique]
}
Table book_tags {
  book_id integer [not null]
  tag_id integer [not null]
  indexes {
    (book_id, tag_id) [pk]
  }
}
Ref: books.author_id > authors.id
Ref: book_tags.book_id > books.id
Ref: book_tags.tag_id > tags.id
"""


def contract(tmp_path: Path, schemas: str, paths: str = "") -> Path:
    """A contract over DBML whose paths and component schemas are the given YAML text."""
    write(tmp_path, "schema.dbml", DBML)
    text = (
        "openapi: 3.1.0\n"
        "info: {title: T, version: '1'}\n"
        "x-backsmith: {dbml: schema.dbml}\n"
        f"paths:\n{paths or '  {}'}\n"
        "components:\n  schemas:\n" + schemas
    )
    return write(tmp_path, "api.yaml", text)


def contract_error(path: Path) -> str:
    with pytest.raises(ContractError) as caught:
        load_model(path)
    return str(caught.value)


def test_the_graph_names_hops_by_foreign_key_table_and_join_table() -> None:
    model = load_model(RELATIONS)
    graph = RelationGraph(model.resources)
    author = graph.find("books", "author")
    assert author is not None and (author.kind, author.target) == ("one", "authors")
    assert author.source_columns == ("author_id",)
    lines = graph.find("orders", "lines")
    assert lines is not None and (lines.kind, lines.target) == ("many", "order_lines")
    genres = graph.find("books", "genres")
    assert genres is not None and (genres.kind, genres.join) == ("through", "book_genres")
    wishlists = graph.find("books", "wishlists")
    assert wishlists is not None and (wishlists.kind, wishlists.target) == ("many", "wishlists")
    assert graph.find("books", "nothing") is None
    assert is_join_table(model.resources["book_genres"])
    assert not is_join_table(model.resources["order_lines"])  # it has columns of its own
    hops, column = graph.path("books", "wishlists.user.username") or ([], None)
    assert [h.target for h in hops] == ["wishlists", "users"] and column == "username"


def test_model_json_shows_where_each_property_comes_from() -> None:
    data = describe(load_model(RELATIONS))
    operations = {op["operation_id"]: op for op in data["operations"]}
    order = operations["getOrder"]["response"]
    assert order["total"] == "sum(quantity * unit_price) over order_lines"
    book = order["lines"]["shape"]["book"]
    assert book["from"] == "embed books by book_id"
    assert book["shape"]["author"]["shape"] == {"handle": "column handle"}
    assert order["lines"]["shape"]["unitPrice"] == "column unit_price"
    book_shape = operations["getBook"]["response"]
    assert book_shape["genreList"] == "genres.name (genres through book_genres)"
    assert book_shape["wishlisted"] == "exists(wishlists where user_id = caller)"
    assert book_shape["createdAt"] == "column created_at"
    assert "genreList" in operations["createBook"]["body"]
    notes = operations["listBooks"]["notes"]
    assert "author(authors.handle)" in notes and "wishlistedBy(users.username)" in notes
    assert "link wishlists for the caller (user_id)" in operations["wishlistBook"]["notes"]
    fields = {f["name"]: f["column"] for f in data["resources"]["books"]["fields"]}
    assert fields["authorId"] == "author_id" and fields["createdAt"] == "created_at"


def test_check_asks_for_the_index_a_relation_lookup_needs() -> None:
    model = load_model(RELATIONS)
    missing = [w for w in model.warnings if "has no index" in w]
    assert len(missing) == 1
    assert "searches books.author_id" in missing[0] and "'booksCount' of listAuthors" in missing[0]
    assert "#/paths/~1authors/get" in missing[0]
    assert not load_model(BOOKSHOP).warnings  # relation members need no column, lookups indexed


def test_check_cli_prints_the_index_warning() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "backsmith.cli", "check", str(RELATIONS)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1, result.stderr  # lint: its writes ask for no credentials
    assert "warning at #/paths/~1authors/get" in result.stdout + result.stderr


def test_column_override_and_join_table_conventions(tmp_path: Path) -> None:
    schemas = """\
    Author:
      type: object
      properties:
        handle: {type: string}
        displayName: {type: string, x-backsmith: {column: full_name}}
    Book:
      type: object
      properties:
        id: {type: integer, readOnly: true}
        title: {type: string}
        author: {$ref: '#/components/schemas/Author'}
        tagIds: {type: array, items: {type: integer}}
        labels: {type: array, items: {type: string}, x-backsmith: {embed: tags.label}}
"""
    paths = """\
  /books/{bookId}:
    get:
      parameters: [{name: bookId, in: path, required: true, schema: {type: integer}}]
      responses:
        '200':
          description: ok
          content: {application/json: {schema: {$ref: '#/components/schemas/Book'}}}
  /books/{bookId}/tags/{tagId}:
    parameters:
      - {name: bookId, in: path, required: true, schema: {type: integer}}
      - {name: tagId, in: path, required: true, schema: {type: integer}}
    post: {responses: {'204': {description: linked}}}
    delete: {responses: {'204': {description: unlinked}}}
"""
    model = load_model(contract(tmp_path, schemas, paths))
    assert model.resources["authors"].field("displayName").column == "full_name"  # type: ignore[union-attr]
    ops = {(op.method, op.path): op for op in model.operations}
    read = ops[("GET", "/books/{bookId}")]
    shape = read.response.shape  # type: ignore[union-attr]
    author = shape.member("author")  # type: ignore[union-attr]
    assert author is not None and author.shape is not None
    assert author.shape.member("displayName").column == "full_name"  # type: ignore[union-attr]
    assert shape.member("tagIds").column == "id"  # type: ignore[union-attr]
    assert shape.member("labels").column == "label"  # type: ignore[union-attr]
    link = ops[("POST", "/books/{bookId}/tags/{tagId}")]
    assert link.kind == Kind.LINK and link.link is not None and link.link.join == "book_tags"
    assert {p.name: (p.role, p.column) for p in link.params} == {
        "bookId": ("key", "id"),
        "tagId": ("target", "id"),
    }
    assert ops[("DELETE", "/books/{bookId}/tags/{tagId}")].kind == Kind.UNLINK


def test_a_path_parameter_on_a_column_that_is_not_unique_stays_custom(tmp_path: Path) -> None:
    schemas = """\
    Book:
      type: object
      properties:
        title: {type: string}
"""
    paths = """\
  /books/{title}:
    get:
      parameters: [{name: title, in: path, required: true, schema: {type: string}}]
      responses:
        '200':
          description: ok
          content: {application/json: {schema: {$ref: '#/components/schemas/Book'}}}
"""
    op = load_model(contract(tmp_path, schemas, paths)).operations[0]
    assert op.kind == Kind.CUSTOM
    assert "path parameter 'title' names a column of books that is not unique" in op.reason


def test_declared_envelope_overrides_what_the_names_suggest(tmp_path: Path) -> None:
    schemas = """\
    Book:
      type: object
      properties:
        title: {type: string}
"""
    paths = """\
  /books:
    get:
      x-backsmith: {envelope: {items: results, total: found}}
      responses:
        '200':
          description: ok
          content:
            application/json:
              schema:
                type: object
                properties:
                  results: {type: array, items: {$ref: '#/components/schemas/Book'}}
                  found: {type: integer}
"""
    op = load_model(contract(tmp_path, schemas, paths)).operations[0]
    assert op.kind == Kind.LIST
    assert op.response is not None
    assert (op.response.envelope.items, op.response.envelope.total) == ("results", "found")


@pytest.mark.parametrize(
    ("snippet", "expected"),
    [
        (
            "wishlists: {type: integer, x-backsmith: {count: nothing}}",
            "'nothing' names no to-many relation of books",
        ),
        (
            "label: {type: string, x-backsmith: {embed: nowhere}}",
            "embed 'nowhere' names no relation of books",
        ),
        (
            "name: {type: string, x-backsmith: {column: no_such}}",
            "column 'no_such' is not a column of books",
        ),
        (
            "name: {type: string, x-backsmith: {colum: title}}",
            "unknown x-backsmith key 'colum'; did you mean 'column'?",
        ),
        (
            "total: {type: integer, x-backsmith: {sum: tags.id * author.id}}",
            "sum term 'author.id' must be <relation>.<column> over a to-many relation",
        ),
        (
            "tags: {type: array, items: {type: string}, x-backsmith: {children: merge}}",
            "'children' must be 'replace' or 'refuse'",
        ),
    ],
)
def test_bad_relation_declarations_name_file_line_and_pointer(
    tmp_path: Path, snippet: str, expected: str
) -> None:
    schemas = f"""\
    Book:
      type: object
      properties:
        title: {{type: string}}
        {snippet}
"""
    paths = """\
  /books:
    get:
      responses:
        '200':
          description: ok
          content:
            application/json:
              schema: {type: array, items: {$ref: '#/components/schemas/Book'}}
"""
    message = contract_error(contract(tmp_path, schemas, paths))
    assert expected in message
    assert "api.yaml:" in message and "#/components/schemas/Book/properties/" in message


def test_a_bad_envelope_part_gets_a_did_you_mean(tmp_path: Path) -> None:
    paths = """\
  /books:
    get:
      x-backsmith: {envelope: {itmes: data}}
      responses: {'200': {description: ok}}
"""
    message = contract_error(contract(tmp_path, "    Book: {type: object}\n", paths))
    assert "unknown envelope part 'itmes'; did you mean 'items'?" in message


def test_model_json_cli_includes_response_shapes() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "backsmith.cli", "model", str(BOOKSHOP), "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    operations = {op["operation_id"]: op for op in json.loads(result.stdout)["operations"]}
    book = operations["getBook"]["response"]
    assert book["author"]["from"] == "embed authors by author_id"
    assert book["genres"] == "genres.name (genres through book_genres)"
    assert book["wishlisted_count"] == "count(wishlists)"
    assert operations["getOrder"]["response"]["total_cents"].startswith("sum(quantity")


def test_a_join_tables_two_column_key_is_not_numbered_by_the_server() -> None:
    """Integer columns of a two-column primary key hold references: the server numbers
    neither (no autoincrement, not read-only), whatever the columns' type."""
    folder = FIXTURES / "visibility"
    model = load_model(folder / "api.yaml", folder / "schema.dbml")
    likes = model.resource_for_table("likes")
    assert likes is not None and likes.primary_key == ("post_id", "user_id")
    for column in likes.primary_key:
        field = likes.field(column)
        assert field is not None and field.generated is None and not field.read_only
