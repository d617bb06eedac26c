"""Reading contracts: Markdown extraction, YAML quirks, `$ref` bundling and validation errors.

Every contract here is a small file written under pytest's tmp_path, so each test shows the
exact text it reads and the exact file and line an error must point at.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import CORPUS, needs_shared
from conftest import write_file as write

from backsmith.api import load_model
from backsmith.contract.load import load_contract
from backsmith.contract.refs import resolve_pointer
from backsmith.contract.source import parse_text
from backsmith.contract.validate import validate_openapi
from backsmith.errors import ContractError, Issue
from backsmith.model.types import Kind

MINIMAL = """\
openapi: 3.1.0
info: {title: T, version: "1"}
paths: {}
"""


def contract_error(path: Path) -> ContractError:
    """The ContractError that loading and validating `path` raises."""
    with pytest.raises(ContractError) as caught:
        validate_openapi(load_contract(path))
    return caught.value


def exists(document: Any, pointer: str) -> bool:
    try:
        resolve_pointer(document, pointer)
    except KeyError:
        return False
    return True


# ----------------------------------------------------------------------------- Issue


def test_issue_render_has_file_line_severity_pointer_message() -> None:
    issue = Issue("paths must be an object", "api.yaml", 3, "/paths")
    assert issue.render() == "api.yaml:3: error at #/paths: paths must be an object"


def test_issue_render_without_line_or_pointer() -> None:
    assert Issue("broken", "api.yaml").render() == "api.yaml: error: broken"
    assert Issue("odd", severity="warning").render() == "<contract>: warning: odd"


def test_contract_error_message_lists_every_rendered_issue() -> None:
    error = ContractError([Issue("one", "a.yaml", 1, "/x"), Issue("two", "b.yaml", 2)])
    assert str(error) == "a.yaml:1: error at #/x: one\nb.yaml:2: error: two"


# -------------------------------------------------------------------------- Markdown

SPEC_MD = """\
# Bookshop

Install it:

```bash
pip install bookshop
```

A response looks like this:

```json
{"id": 1, "title": "Dune"}
```

An example that is not data:

```yaml
not: [valid
```

```yaml
openapi: 3.1.0
info:
  title: Bookshop
  version: "1"
paths:
  /books:
    get:
      operationId: listBooks
      responses:
        "200":
          description: ok
```

More prose, then a fragment:

~~~yaml
paths:
  /authors:
    get:
      operationId: listAuthors
      responses:
        "200":
          description: ok
components:
  schemas:
    Author:
      type: object
      properties:
        name: {type: string}
~~~

A block with paths and something else is an example, not a fragment:

```yaml
paths:
  /ignored:
    get:
      responses:
        "200": {description: ok}
note: not an OpenAPI key
```

```yaml
something: else
```
"""


def test_markdown_openapi_block_found_among_other_fences(tmp_path: Path) -> None:
    path = write(tmp_path, "spec.md", SPEC_MD)
    contract = load_contract(path)
    assert contract.version == "3.1"
    assert contract.document["info"]["title"] == "Bookshop"
    assert "id" not in contract.document and "something" not in contract.document
    # lines count from the top of the Markdown file, not of the block
    assert contract.locate("/paths/~1books/get/operationId") == (str(path), 29)


def test_markdown_fragment_blocks_are_merged_with_their_lines(tmp_path: Path) -> None:
    path = write(tmp_path, "spec.md", SPEC_MD)
    contract = load_contract(path)
    paths = contract.document["paths"]
    assert set(paths) == {"/books", "/authors"}
    assert paths["/authors"]["get"]["operationId"] == "listAuthors"
    assert contract.document["components"]["schemas"]["Author"]["type"] == "object"
    assert contract.locate("/paths/~1authors/get/operationId") == (str(path), 41)
    assert contract.locate("/components/schemas/Author") == (str(path), 48)


def test_markdown_block_with_foreign_keys_is_not_a_fragment(tmp_path: Path) -> None:
    contract = load_contract(write(tmp_path, "spec.md", SPEC_MD))
    assert "/ignored" not in contract.document["paths"]
    assert "note" not in contract.document


def test_markdown_fragment_before_main_block_is_merged(tmp_path: Path) -> None:
    text = """\
    ```yaml
    components:
      schemas:
        Tag: {type: object, properties: {name: {type: string}}}
    ```

    ```yaml
    openapi: 3.0.3
    info: {title: T, version: "1"}
    paths: {}
    ```
    """
    contract = load_contract(write(tmp_path, "spec.md", text))
    assert contract.version == "3.0"
    assert "Tag" in contract.document["components"]["schemas"]


def test_markdown_without_openapi_block_names_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "notes.md", "# Notes\n\n```yaml\nkey: value\n```\n")
    with pytest.raises(ContractError) as caught:
        load_contract(path)
    [issue] = caught.value.issues
    assert issue.file == str(path)
    assert "no OpenAPI document and no endpoint found" in issue.message
    assert issue.render().startswith(f"{path}: error: no OpenAPI document and no endpoint")


def test_markdown_openapi_fence_with_bad_yaml_reports_the_markdown_line(tmp_path: Path) -> None:
    text = "# API\n\n```openapi\nopenapi: 3.1.0\ninfo:\n  title: T\n   version: '1'\n```\n"
    path = write(tmp_path, "spec.md", text)
    with pytest.raises(ContractError) as caught:
        load_contract(path)
    [issue] = caught.value.issues
    assert (issue.file, issue.line) == (str(path), 7)
    assert "not valid YAML/JSON" in issue.message


def test_markdown_broken_yaml_contract_block_reports_the_syntax_error(tmp_path: Path) -> None:
    """A ```yaml block that starts with `openapi:` is the contract, not a prose example."""
    text = '# API\n\n```yaml\nopenapi: 3.1.0\ninfo:\n  title: T\n  version: "1"\npaths: [\n```\n'
    path = write(tmp_path, "spec.md", text)
    with pytest.raises(ContractError) as caught:
        load_contract(path)
    [issue] = caught.value.issues
    assert issue.file == str(path)
    assert issue.line is not None and 4 <= issue.line <= 9
    assert "not valid YAML/JSON" in issue.message


# ---------------------------------------------------------------------------- YAML


def test_yaml_timestamps_stay_strings(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "api.yaml",
        """\
        openapi: 3.1.0
        info: {title: T, version: 2024-05-01}
        paths: {}
        components:
          schemas:
            Event:
              type: object
              properties:
                day: {type: string, format: date, example: 2020-01-31}
                at: {type: string, format: date-time, default: 2020-01-31T10:00:00Z}
        """,
    )
    document = load_contract(path).document
    assert document["info"]["version"] == "2024-05-01"
    props = document["components"]["schemas"]["Event"]["properties"]
    assert props["day"]["example"] == "2020-01-31"
    assert props["at"]["default"] == "2020-01-31T10:00:00Z"


def test_yaml_booleans_are_yaml_1_2_ones(tmp_path: Path) -> None:
    """OpenAPI names YAML 1.2: `on`, `off`, `yes` and `no` are words, not booleans."""
    path = write(
        tmp_path,
        "api.yaml",
        """\
        openapi: 3.0.3
        info: {title: T, version: "1"}
        paths: {}
        components:
          schemas:
            Switch:
              type: object
              required: [on]
              properties:
                on: {type: boolean, default: false}
                answer: {type: string, enum: [yes, no], default: yes, nullable: true}
        """,
    )
    switch = load_contract(path).document["components"]["schemas"]["Switch"]
    assert switch["required"] == ["on"]
    assert switch["properties"]["on"] == {"type": "boolean", "default": False}
    answer = switch["properties"]["answer"]
    assert (answer["enum"], answer["default"], answer["nullable"]) == (["yes", "no"], "yes", True)


def test_integer_response_keys_become_strings(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "api.yaml",
        """\
        openapi: 3.0.3
        info: {title: T, version: "1"}
        paths:
          /things:
            get:
              responses:
                200:
                  description: ok
                404:
                  description: missing
        """,
    )
    contract = load_contract(path)
    responses = contract.document["paths"]["/things"]["get"]["responses"]
    assert list(responses) == ["200", "404"]
    assert contract.locate("/paths/~1things/get/responses/404") == (str(path), 10)
    validate_openapi(contract)  # string keys are what the OpenAPI schema wants


def test_invalid_yaml_reports_the_line(tmp_path: Path) -> None:
    path = write(
        tmp_path, "api.yaml", 'openapi: 3.0.3\ninfo:\n  title: T\n   version: "1"\npaths: {}\n'
    )
    with pytest.raises(ContractError) as caught:
        load_contract(path)
    [issue] = caught.value.issues
    assert (issue.file, issue.line) == (str(path), 4)
    assert issue.render().startswith(f"{path}:4: error: not valid YAML/JSON")


def test_parse_text_offsets_lines_by_first_line() -> None:
    located = parse_text("a:\n  b: 1\n", "spec.md", first_line=20)
    assert located.lines["/a/b"] == 21
    with pytest.raises(ContractError) as caught:
        parse_text("a: 1\nb: [1, 2\nc: 3\n", "spec.md", first_line=10)
    assert caught.value.issues[0].line == 12


def test_json_contract_is_read(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "api.json",
        '{\n  "openapi": "3.0.3",\n  "info": {"title": "T", "version": "1"},\n  "paths": {}\n}\n',
    )
    contract = load_contract(path)
    assert contract.version == "3.0"
    assert contract.locate("/paths") == (str(path), 4)


def test_document_that_is_not_a_mapping_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "api.yaml", "- openapi\n- 3.1.0\n")
    with pytest.raises(ContractError) as caught:
        load_contract(path)
    assert "must be a mapping" in caught.value.issues[0].message


def test_missing_contract_file_is_a_contract_error(tmp_path: Path) -> None:
    with pytest.raises(ContractError) as caught:
        load_contract(tmp_path / "nope.yaml")
    [issue] = caught.value.issues
    assert issue.file == str(tmp_path / "nope.yaml")
    assert "not found" in issue.message


# --------------------------------------------------------------------------- versions


def test_swagger_versions_other_than_2_0_are_refused(tmp_path: Path) -> None:
    """Swagger 2.0 is converted (tests/contract/test_swagger2.py); 1.2 is another format."""
    path = write(
        tmp_path, "api.yaml", 'info: {title: T, version: "1"}\nswagger: "1.2"\npaths: {}\n'
    )
    with pytest.raises(ContractError) as caught:
        load_contract(path)
    [issue] = caught.value.issues
    assert (issue.file, issue.line, issue.pointer) == (str(path), 2, "/swagger")
    assert issue.message == "expected Swagger 2.0, found swagger: 1.2"


@needs_shared
def test_swagger_2_corpus_file_is_read_as_openapi_3_0() -> None:
    path = CORPUS / "openapi" / "apis-guru" / "adafruit.com__default.yaml"
    contract = load_contract(path)
    assert (contract.version, contract.converted_from) == ("3.0", "2.0")
    assert contract.document["openapi"] == "3.0.3"


@pytest.mark.parametrize(
    ("header", "found"),
    [
        ("openapi: 4.0.0\n", "openapi: 4.0.0"),
        ("openapi: 3.3.0\n", "openapi: 3.3.0"),
        ("openapi: 2.0\n", "openapi: 2.0"),
        ("", "no"),
    ],
)
def test_other_openapi_versions_are_refused(tmp_path: Path, header: str, found: str) -> None:
    path = write(tmp_path, "api.yaml", header + 'info: {title: T, version: "1"}\npaths: {}\n')
    with pytest.raises(ContractError) as caught:
        load_contract(path)
    [issue] = caught.value.issues
    assert issue.pointer == "/openapi"
    assert "expected OpenAPI 3.0.x, 3.1.x or 3.2.x" in issue.message
    assert found in issue.message


# ------------------------------------------------------------------------------ $ref

MAIN_WITH_REFS = """\
openapi: 3.0.3
info: {title: T, version: "1"}
paths:
  /books:
    get:
      parameters:
        - $ref: "common/params.yaml#/components/parameters/Limit"
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema:
                type: array
                items:
                  $ref: "schemas/book.yaml#/Book"
"""
BOOK = """\
Book:
  type: object
  properties:
    id: {type: integer}
    title: {type: string}
    author:
      $ref: "./author.yaml#/Author"
"""
AUTHOR = """\
Author:
  type: object
  properties:
    name: {type: string}
"""
PARAMS = """\
components:
  parameters:
    Limit:
      name: limit
      in: query
      schema: {type: integer, maximum: 100}
"""


@pytest.fixture
def multi_file(tmp_path: Path) -> Path:
    write(tmp_path, "schemas/book.yaml", BOOK)
    write(tmp_path, "schemas/author.yaml", AUTHOR)
    write(tmp_path, "common/params.yaml", PARAMS)
    return write(tmp_path, "api.yaml", MAIN_WITH_REFS)


def test_schema_refs_across_files_resolve_relative_to_the_referring_file(
    multi_file: Path,
) -> None:
    contract = load_contract(multi_file)
    schemas = contract.document["components"]["schemas"]
    assert set(schemas) == {"Book", "Author"}
    assert schemas["Book"]["properties"]["author"] == {"$ref": "#/components/schemas/Author"}
    assert schemas["Author"]["properties"]["name"] == {"type": "string"}
    items = contract.document["paths"]["/books"]["get"]["responses"]["200"]["content"][
        "application/json"
    ]["schema"]["items"]
    assert items == {"$ref": "#/components/schemas/Book"}
    # positions point into the file each part came from
    author_file = str((multi_file.parent / "schemas" / "author.yaml").resolve())
    assert contract.locate("/components/schemas/Author/properties/name") == (author_file, 4)
    book_file = str((multi_file.parent / "schemas" / "book.yaml").resolve())
    assert contract.locate("/components/schemas/Book/properties/author") == (book_file, 7)


def test_bundled_multi_file_contract_maps_to_a_model(multi_file: Path) -> None:
    model = load_model(multi_file)
    [operation] = model.operations
    assert operation.kind == Kind.LIST
    assert operation.resource == "books"
    assert model.resources["books"].schema == "Book"


def test_parameter_ref_into_another_file_is_inlined(multi_file: Path) -> None:
    contract = load_contract(multi_file)
    [param] = contract.document["paths"]["/books"]["get"]["parameters"]
    assert param == {"name": "limit", "in": "query", "schema": {"type": "integer", "maximum": 100}}
    params_file = str((multi_file.parent / "common" / "params.yaml").resolve())
    assert contract.locate("/paths/~1books/get/parameters/0/in") == (params_file, 5)


def test_validation_error_inside_a_referenced_file_names_that_file(tmp_path: Path) -> None:
    write(tmp_path, "schemas/book.yaml", BOOK)
    write(tmp_path, "schemas/author.yaml", AUTHOR)
    write(tmp_path, "common/params.yaml", PARAMS.replace("in: query", "in: body"))
    main = write(tmp_path, "api.yaml", MAIN_WITH_REFS)
    error = contract_error(main)
    params_file = str((tmp_path / "common" / "params.yaml").resolve())
    assert any(
        issue.file == params_file
        and issue.line == 4
        and issue.pointer == "/paths/~1books/get/parameters/0"
        for issue in error.issues
    ), error


def test_missing_ref_target_file_reports_file_and_line(tmp_path: Path) -> None:
    main = write(
        tmp_path, "api.yaml", MAIN_WITH_REFS.replace("schemas/book.yaml", "schemas/nope.yaml")
    )
    write(tmp_path, "common/params.yaml", PARAMS)
    with pytest.raises(ContractError) as caught:
        load_contract(main)
    [issue] = caught.value.issues
    assert issue.file == str(main)
    assert issue.line == 16
    assert issue.pointer.endswith("/schema/items")
    assert "nope.yaml" in issue.message and "not found" in issue.message


def test_missing_ref_target_in_a_nested_file_names_the_nested_file(tmp_path: Path) -> None:
    write(tmp_path, "schemas/book.yaml", BOOK.replace("./author.yaml", "./nobody.yaml"))
    write(tmp_path, "common/params.yaml", PARAMS)
    main = write(tmp_path, "api.yaml", MAIN_WITH_REFS)
    with pytest.raises(ContractError) as caught:
        load_contract(main)
    [issue] = caught.value.issues
    assert issue.file == str((tmp_path / "schemas" / "book.yaml").resolve())
    assert issue.line == 7
    assert "nobody.yaml" in issue.message


def test_unresolvable_fragment_in_an_existing_file(tmp_path: Path) -> None:
    write(tmp_path, "schemas/book.yaml", BOOK)
    write(tmp_path, "schemas/author.yaml", AUTHOR)
    write(tmp_path, "common/params.yaml", PARAMS)
    main = write(tmp_path, "api.yaml", MAIN_WITH_REFS.replace("#/Book", "#/Novel"))
    with pytest.raises(ContractError) as caught:
        load_contract(main)
    [issue] = caught.value.issues
    assert (issue.file, issue.line) == (str(main), 16)
    assert "unresolvable $ref" in issue.message and "#/Novel" in issue.message


def test_remote_refs_are_not_fetched(tmp_path: Path) -> None:
    main = write(
        tmp_path,
        "api.yaml",
        """\
        openapi: 3.0.3
        info: {title: T, version: "1"}
        paths:
          /a:
            get:
              responses:
                "200":
                  $ref: "https://example.com/responses.yaml#/Ok"
        """,
    )
    with pytest.raises(ContractError) as caught:
        load_contract(main)
    [issue] = caught.value.issues
    assert issue.line == 8
    assert "remote $ref" in issue.message


def test_recursive_schema_in_another_file_stays_finite(tmp_path: Path) -> None:
    write(
        tmp_path,
        "node.yaml",
        """\
        Node:
          type: object
          properties:
            value: {type: string}
            children:
              type: array
              items: {$ref: "#/Node"}
        """,
    )
    main = write(
        tmp_path,
        "api.yaml",
        """\
        openapi: 3.1.0
        info: {title: T, version: "1"}
        paths: {}
        components:
          schemas:
            Tree: {$ref: "node.yaml#/Node"}
        """,
    )
    contract = load_contract(main)
    schemas = contract.document["components"]["schemas"]
    assert schemas["Tree"] == {"$ref": "#/components/schemas/Node"}
    assert schemas["Node"]["properties"]["children"]["items"] == {
        "$ref": "#/components/schemas/Node"
    }
    validate_openapi(contract)


def test_hoisted_schema_whose_name_is_taken_gets_a_new_name(tmp_path: Path) -> None:
    write(tmp_path, "schemas/book.yaml", BOOK)
    write(tmp_path, "schemas/author.yaml", AUTHOR)
    write(tmp_path, "common/params.yaml", PARAMS)
    main = write(
        tmp_path,
        "api.yaml",
        MAIN_WITH_REFS + "components:\n  schemas:\n    Book: {type: string}\n",
    )
    schemas = load_contract(main).document["components"]["schemas"]
    assert schemas["Book"] == {"type": "string"}
    assert schemas["Book2"]["properties"]["title"] == {"type": "string"}


PERCENT = """\
openapi: 3.0.3
info: {title: T, version: "1"}
paths:
  /a/{id}:
    get:
      parameters:
        - name: id
          in: path
          required: true
          schema: {type: integer}
      responses:
        "200":
          description: ok
    delete:
      parameters:
        - $ref: "#/paths/~1a~1%7Bid%7D/get/parameters/0"
      responses:
        "204":
          $ref: "#/paths/~1a~1%7Bid%7D/get/responses/200"
"""


def test_percent_encoded_local_refs_resolve(tmp_path: Path) -> None:
    path = write(tmp_path, "api.yaml", PERCENT)
    contract = load_contract(path)
    validate_openapi(contract)
    assert resolve_pointer(contract.document, "/paths/~1a~1%7Bid%7D/get/parameters/0") == {
        "name": "id",
        "in": "path",
        "required": True,
        "schema": {"type": "integer"},
    }
    model = load_model(path)
    delete = next(op for op in model.operations if op.method == "DELETE")
    assert [(p.name, p.location, p.schema) for p in delete.params] == [
        ("id", "path", {"type": "integer"})
    ]


def test_unresolvable_local_ref_is_reported_with_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, "api.yaml", PERCENT.replace("parameters/0", "parameters/3"))
    with pytest.raises(ContractError) as caught:
        load_contract(path)
    [issue] = caught.value.issues
    assert (issue.file, issue.line) == (str(path), 16)
    assert issue.pointer == "/paths/~1a~1{id}/delete/parameters/0"
    assert "unresolvable $ref" in issue.message


def test_refs_inside_extensions_are_left_alone(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "api.yaml",
        """\
        openapi: 3.1.0
        info: {title: T, version: "1"}
        x-notes:
          $ref: "elsewhere.yaml#/Nothing"
        paths:
          /a:
            get:
              x-codegen: {template: {$ref: "#/does/not/exist"}}
              responses:
                "200": {description: ok}
        """,
    )
    contract = load_contract(path)
    assert contract.document["x-notes"] == {"$ref": "elsewhere.yaml#/Nothing"}
    assert contract.document["paths"]["/a"]["get"]["x-codegen"] == {
        "template": {"$ref": "#/does/not/exist"}
    }


# ------------------------------------------------------------------------- validation


def test_response_without_description_in_3_0(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "api.yaml",
        """\
        openapi: 3.0.3
        info: {title: T, version: "1"}
        paths:
          /a:
            get:
              responses:
                "200":
                  content: {}
        """,
    )
    error = contract_error(path)
    [issue] = error.issues
    assert (issue.file, issue.line) == (str(path), 8)
    assert issue.pointer == "/paths/~1a/get/responses/200"
    assert issue.render().startswith(f"{path}:8: error at #/paths/~1a/get/responses/200: ")
    assert "invalid OpenAPI" in issue.message


def test_validation_error_in_markdown_points_into_the_markdown_file(tmp_path: Path) -> None:
    text = (
        "# API\n\n```yaml\nopenapi: 3.0.3\ninfo: {title: T, version: '1'}\n"
        "paths:\n  /a:\n    get:\n      responses:\n        '200':\n          content: {}\n```\n"
    )
    path = write(tmp_path, "spec.md", text)
    [issue] = contract_error(path).issues
    assert (issue.file, issue.line) == (str(path), 11)
    assert issue.pointer == "/paths/~1a/get/responses/200"


@pytest.mark.parametrize(
    "paths",
    ["[1, 2]", '"text"', "42"],
    ids=["list", "string", "number"],
)
@pytest.mark.parametrize("version", ["3.0.3", "3.1.0"])
def test_paths_not_an_object_is_a_contract_error(tmp_path: Path, version: str, paths: str) -> None:
    text = f'openapi: {version}\ninfo: {{title: T, version: "1"}}\npaths: {paths}\n'
    path = write(tmp_path, "api.yaml", text)
    error = contract_error(path)
    assert any(
        issue.file == str(path) and issue.line == 3 and issue.pointer == "/paths"
        for issue in error.issues
    ), error


@pytest.mark.parametrize(
    ("body", "pointer", "line"),
    [
        ("paths:\n  /a: [1]\n", "/paths/~1a", 4),
        ("paths:\n  /a:\n    get:\n      responses: [1]\n", "/paths/~1a/get/responses", 6),
        (
            "paths:\n  /a:\n    get:\n      parameters: {a: 1}\n"
            "      responses: {'200': {description: ok}}\n",
            "/paths/~1a/get/parameters",
            6,
        ),
    ],
    ids=["path-item-list", "responses-list", "parameters-mapping"],
)
def test_wrongly_shaped_parts_are_contract_errors(
    tmp_path: Path, body: str, pointer: str, line: int
) -> None:
    path = write(tmp_path, "api.yaml", 'openapi: 3.0.3\ninfo: {title: T, version: "1"}\n' + body)
    error = contract_error(path)
    assert any(
        issue.line == line and issue.pointer.startswith(pointer) for issue in error.issues
    ), error


@pytest.mark.parametrize("version", ["3.0.3", "3.1.0"])
def test_schema_errors_point_at_the_schema_in_the_document(tmp_path: Path, version: str) -> None:
    path = write(
        tmp_path,
        "api.yaml",
        f"""\
        openapi: {version}
        info: {{title: T, version: "1"}}
        paths: {{}}
        components:
          schemas:
            Book:
              type: object
              properties:
                price:
                  type: 5
        """,
    )
    error = contract_error(path)
    for issue in error.issues:  # every pointer names a place that exists, and its line
        assert exists(load_contract(path).document, issue.pointer), issue.render()
        assert issue.pointer.startswith("/components/schemas/Book"), issue.render()
        assert issue.line is not None and issue.line >= 7, issue.render()


def test_a_key_written_twice_is_an_error_naming_both_lines(tmp_path: Path) -> None:
    """docs/check.md: a second root x-backsmith would silently lose the first."""
    path = tmp_path / "api.yaml"
    path.write_text(
        'openapi: 3.1.0\ninfo: {title: a, version: "1"}\nx-backsmith: {a: 1}\npaths: {}\n'
        "x-backsmith: {b: 2}\n"
    )
    with pytest.raises(ContractError) as raised:
        load_contract(path)
    assert [issue.render() for issue in raised.value.issues] == [
        f"{path}:5: error: the key 'x-backsmith' is written twice in one mapping (first at "
        "line 3): YAML keeps one; merge the two"
    ]
    merged = tmp_path / "merged.yaml"  # a merge's keys may be overridden: no error
    merged.write_text(
        'openapi: 3.1.0\ninfo: &info {title: a, version: "1"}\nx-info:\n  <<: *info\n'
        '  version: "2"\npaths: {}\n'
    )
    assert load_contract(merged).document["x-info"] == {"title": "a", "version": "2"}


def test_a_merged_mapping_used_twice_is_no_duplicate_and_a_looping_anchor_is_refused() -> None:
    text = (
        "x-base: &base {description: base, content: {}}\n"
        "responses:\n  '200': &ok {<<: *base, description: x}\n  '404': *ok\n"
    )
    assert parse_text(text, "a.yaml").data["responses"]["404"]["description"] == "x"
    with pytest.raises(ContractError) as raised:
        parse_text("x: &a {k: *a}\n", "loop.yaml")
    assert raised.value.issues[0].render().startswith("loop.yaml: error: an anchor is used")
