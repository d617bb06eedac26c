"""Swagger 2.0 contracts, read as the OpenAPI 3.0 documents they convert to.

Each rule of the conversion is shown on a small contract written under tmp_path; the
positions tests show that errors found in the converted document name the Swagger file's
own lines, and docs/swagger.md's example is converted here as the page shows it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import CORPUS, ROOT, needs_shared
from conftest import write_file as write

from backsmith.api import load_model
from backsmith.contract.load import Contract, load_contract
from backsmith.contract.validate import validate_openapi
from backsmith.errors import ContractError

HEAD = """\
swagger: "2.0"
info: {title: Pets, version: "1"}
"""

PETS = (
    HEAD
    + """\
host: api.example.com
basePath: /v1/
schemes: [https, http]
consumes: [application/json]
produces: [application/json]
x-backsmith: {page-size: 20}
tags: [{name: pets}]
externalDocs: {url: "https://example.com/docs"}
paths:
  /pets:
    get:
      operationId: listPets
      tags: [pets]
      parameters:
        - $ref: "#/parameters/Limit"
        - {name: tags, in: query, type: array, items: {type: string}}
      responses:
        "200":
          description: the pets
          headers:
            X-Total: {type: integer, description: how many}
          schema:
            type: array
            items: {$ref: "#/definitions/Pet"}
          examples:
            application/json: [{id: 1, name: Rex}]
    post:
      operationId: createPet
      x-backsmith: {idempotency: optional}
      parameters:
        - $ref: "#/parameters/PetBody"
      responses:
        "201":
          description: made
          schema: {$ref: "#/definitions/Pet"}
        default: {$ref: "#/responses/Problem"}
  /pets/{petId}:
    parameters:
      - {name: petId, in: path, required: true, type: integer, format: int64}
    get:
      operationId: getPet
      produces: [application/json, application/xml]
      responses:
        "200":
          description: one pet
          schema: {$ref: "#/definitions/Pet"}
parameters:
  Limit: {name: limit, in: query, type: integer, minimum: 1, default: 20}
  PetBody:
    name: pet
    in: body
    required: true
    description: the pet to add
    schema: {$ref: "#/definitions/Pet"}
responses:
  Problem:
    description: what went wrong
    schema: {$ref: "#/definitions/Problem"}
definitions:
  Pet:
    type: object
    required: [name]
    x-backsmith: {table: pets}
    properties:
      id: {type: integer, format: int64, readOnly: true}
      name: {type: string, example: Rex}
      nickname: {type: string, x-nullable: true}
      photo: {type: file}
  Problem:
    type: object
    properties:
      message: {type: string}
"""
)


def converted(tmp_path: Path, text: str, name: str = "api.yaml") -> Contract:
    """The contract `text` reads as, loaded and validated."""
    contract = load_contract(write(tmp_path, name, text))
    validate_openapi(contract)
    return contract


def operation(contract: Contract, path: str, method: str) -> dict[str, Any]:
    found: dict[str, Any] = contract.document["paths"][path][method]
    return found


def refusal(path: Path) -> list[str]:
    """Each issue that reading and mapping `path` raises, rendered."""
    with pytest.raises(ContractError) as caught:
        load_model(path)
    return [issue.render() for issue in caught.value.issues]


def line_of(text: str, needle: str, after: str = "") -> int:
    """The 1-based line of the first `needle` after the line holding `after`."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if after in line) if after else 0
    return next(i for i in range(start, len(lines)) if needle in lines[i]) + 1


# ------------------------------------------------------------------------------- root


def test_the_document_is_openapi_3_0_with_info_tags_and_extensions_kept(tmp_path: Path) -> None:
    contract = converted(tmp_path, PETS)
    document = contract.document
    assert (contract.version, contract.converted_from) == ("3.0", "2.0")
    assert document["openapi"] == "3.0.3"
    assert document["info"] == {"title": "Pets", "version": "1"}
    assert document["tags"] == [{"name": "pets"}]
    assert document["externalDocs"] == {"url": "https://example.com/docs"}
    assert document["x-backsmith"] == {"page-size": 20}
    for gone in ("swagger", "host", "basePath", "schemes", "consumes", "produces"):
        assert gone not in document
    for gone in ("definitions", "parameters", "responses", "securityDefinitions"):
        assert gone not in document


@pytest.mark.parametrize(
    ("lines", "urls"),
    [
        ("host: api.example.com\nbasePath: /v1/\nschemes: [https, http]\n", None),
        ("host: api.example.com\n", ["https://api.example.com"]),
        ("host: api.example.com\nschemes: [http]\n", ["http://api.example.com"]),
        ("basePath: /api\n", ["/api"]),
        ("", []),
    ],
)
def test_host_base_path_and_schemes_become_servers(
    tmp_path: Path, lines: str, urls: list[str] | None
) -> None:
    document = converted(tmp_path, HEAD + lines + "paths: {}\n").document
    expected = ["https://api.example.com/v1", "http://api.example.com/v1"] if urls is None else urls
    assert [server["url"] for server in document.get("servers", [])] == expected


def test_definitions_become_component_schemas_with_their_refs(tmp_path: Path) -> None:
    schemas = converted(tmp_path, PETS).document["components"]["schemas"]
    pet = schemas["Pet"]
    assert pet["x-backsmith"] == {"table": "pets"}
    assert pet["properties"]["id"] == {"type": "integer", "format": "int64", "readOnly": True}
    assert pet["properties"]["name"] == {"type": "string", "example": "Rex"}
    assert pet["properties"]["nickname"] == {"type": "string", "nullable": True}
    assert pet["properties"]["photo"] == {"type": "string", "format": "binary"}
    assert set(schemas) == {"Pet", "Problem"}


def test_a_discriminator_name_becomes_an_object(tmp_path: Path) -> None:
    text = HEAD + "paths: {}\ndefinitions:\n  Pet: {type: object, discriminator: kind}\n"
    pet = converted(tmp_path, text).document["components"]["schemas"]["Pet"]
    assert pet["discriminator"] == {"propertyName": "kind"}


# ------------------------------------------------------------------------ parameters


def test_a_body_parameter_becomes_a_request_body_per_media_type(tmp_path: Path) -> None:
    text = (
        HEAD
        + """\
consumes: [application/json, application/xml]
paths:
  /pets:
    post:
      parameters:
        - {name: pet, in: body, required: true, description: a pet, schema: {type: object}}
      responses: {"201": {description: made}}
    put:
      consumes: [application/merge-patch+json]
      parameters:
        - {name: pet, in: body, x-nullable: true, schema: {type: object}}
      responses: {"200": {description: replaced}}
"""
    )
    contract = converted(tmp_path, text)
    post = operation(contract, "/pets", "post")
    assert "parameters" not in post
    assert post["requestBody"] == {
        "description": "a pet",
        "required": True,
        "content": {
            "application/json": {"schema": {"type": "object"}},
            "application/xml": {"schema": {"type": "object"}},
        },
    }
    put = operation(contract, "/pets", "put")["requestBody"]
    assert put == {
        "content": {
            "application/merge-patch+json": {"schema": {"type": "object", "nullable": True}}
        }
    }


def test_a_body_defaults_to_json(tmp_path: Path) -> None:
    text = HEAD + (
        "paths:\n  /pets:\n    post:\n      parameters: [{name: p, in: body, schema: {}}]\n"
        "      responses: {'201': {description: made}}\n"
    )
    body = operation(converted(tmp_path, text), "/pets", "post")["requestBody"]
    assert list(body["content"]) == ["application/json"]


def test_a_root_body_parameter_is_a_shared_request_body(tmp_path: Path) -> None:
    contract = converted(tmp_path, PETS)
    components = contract.document["components"]
    assert operation(contract, "/pets", "post")["requestBody"] == {
        "$ref": "#/components/requestBodies/PetBody"
    }
    assert components["requestBodies"]["PetBody"] == {
        "description": "the pet to add",
        "required": True,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Pet"}}},
    }
    assert set(components["parameters"]) == {"Limit"}  # the body is no parameter any more


FORM = (
    HEAD
    + """\
parameters:
  Tag: {name: tag, in: formData, type: string, enum: [a, b]}
paths:
  /notes:
    post:
      parameters:
        - {name: text, in: formData, type: string, required: true, description: the text}
        - {name: stars, in: formData, type: integer, default: 3}
        - $ref: "#/parameters/Tag"
      responses: {"201": {description: made}}
  /photos:
    post:
      parameters:
        - {name: photo, in: formData, type: file, required: true}
        - {name: caption, in: formData, type: string}
      responses: {"201": {description: made}}
  /forms:
    post:
      consumes: [multipart/form-data]
      parameters: [{name: field, in: formData, type: string}]
      responses: {"201": {description: made}}
"""
)


def test_form_fields_become_one_form_body(tmp_path: Path) -> None:
    contract = converted(tmp_path, FORM)
    body = operation(contract, "/notes", "post")["requestBody"]
    assert body == {
        "content": {
            "application/x-www-form-urlencoded": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "text": {"type": "string", "description": "the text"},
                        "stars": {"type": "integer", "default": 3},
                        "tag": {"type": "string", "enum": ["a", "b"]},
                    },
                    "required": ["text"],
                }
            }
        },
        "required": True,
    }
    assert "parameters" not in contract.document.get("components", {})


def test_a_file_field_makes_the_form_multipart(tmp_path: Path) -> None:
    contract = converted(tmp_path, FORM)
    photos = operation(contract, "/photos", "post")["requestBody"]["content"]
    assert list(photos) == ["multipart/form-data"]
    assert photos["multipart/form-data"]["schema"]["properties"]["photo"] == {
        "type": "string",
        "format": "binary",
    }
    forms = operation(contract, "/forms", "post")["requestBody"]["content"]
    assert list(forms) == ["multipart/form-data"]  # as the operation consumes


PARAMS = (
    HEAD
    + """\
paths:
  /things/{ids}:
    get:
      parameters:
        - {name: ids, in: path, required: true, type: array, items: {type: integer}}
        - {name: a, in: query, type: array, items: {type: string, enum: [x, y]}}
        - {name: b, in: query, type: array, items: {type: string}, collectionFormat: multi}
        - {name: c, in: query, type: array, items: {type: string}, collectionFormat: ssv}
        - {name: d, in: query, type: array, items: {type: string}, collectionFormat: pipes}
        - {name: e, in: query, type: array, items: {type: string}, collectionFormat: tsv}
        - {name: X-Ids, in: header, type: array, items: {type: string}}
        - name: since
          in: query
          type: string
          format: date
          x-example: "2024-01-01"
          allowEmptyValue: true
          x-nullable: true
      responses: {"200": {description: ok}}
"""
)


def test_parameter_types_move_into_a_schema(tmp_path: Path) -> None:
    params = operation(converted(tmp_path, PARAMS), "/things/{ids}", "get")["parameters"]
    since = params[-1]
    assert since == {
        "name": "since",
        "in": "query",
        "example": "2024-01-01",
        "allowEmptyValue": True,
        "schema": {"type": "string", "format": "date", "nullable": True},
    }
    assert params[1]["schema"] == {"type": "array", "items": {"type": "string", "enum": ["x", "y"]}}


def test_collection_formats_become_styles(tmp_path: Path) -> None:
    params = operation(converted(tmp_path, PARAMS), "/things/{ids}", "get")["parameters"]
    styles = {
        p["name"]: (p["style"], p["explode"], p.get("x-collectionFormat")) for p in params[:7]
    }
    assert styles == {
        "ids": ("simple", False, None),
        "a": ("form", False, None),
        "b": ("form", True, None),
        "c": ("spaceDelimited", False, None),
        "d": ("pipeDelimited", False, None),
        "e": ("form", False, "tsv"),  # no style in OpenAPI 3: read as csv, and said so
        "X-Ids": ("simple", False, None),
    }


def test_a_tab_separated_array_is_a_warning_check_prints(tmp_path: Path) -> None:
    text = (
        HEAD
        + """\
paths:
  /things:
    get:
      parameters:
        - {name: e, in: query, type: array, items: {type: string}, collectionFormat: tsv}
      responses: {"200": {description: ok}}
"""
    )
    path = write(tmp_path, "api.yaml", text)
    [warning] = [w for w in load_model(path).warnings if "collectionFormat" in w]
    line = line_of(text, "name: e")
    assert warning.startswith(f"{path}:{line}: warning at #/paths/~1things/get/parameters/0: ")
    assert "collectionFormat tsv" in warning and "comma-separated" in warning


def test_path_parameters_of_a_path_stay_on_it_and_refs_move(tmp_path: Path) -> None:
    contract = converted(tmp_path, PETS)
    item = contract.document["paths"]["/pets/{petId}"]
    assert item["parameters"] == [
        {
            "name": "petId",
            "in": "path",
            "required": True,
            "schema": {"type": "integer", "format": "int64"},
        }
    ]
    listing = operation(contract, "/pets", "get")["parameters"]
    assert listing[0] == {"$ref": "#/components/parameters/Limit"}
    assert contract.document["components"]["parameters"]["Limit"] == {
        "name": "limit",
        "in": "query",
        "schema": {"type": "integer", "minimum": 1, "default": 20},
    }


def test_a_body_declared_on_the_path_is_each_operations(tmp_path: Path) -> None:
    text = (
        HEAD
        + """\
paths:
  /pets/{id}:
    parameters:
      - {name: id, in: path, required: true, type: string}
      - {name: pet, in: body, schema: {type: object}}
    put:
      responses: {"200": {description: ok}}
    patch:
      parameters: [{name: pet, in: body, schema: {type: object, x-nullable: true}}]
      responses: {"200": {description: ok}}
"""
    )
    item = converted(tmp_path, text).document["paths"]["/pets/{id}"]
    assert [p["name"] for p in item["parameters"]] == ["id"]
    assert item["put"]["requestBody"]["content"]["application/json"]["schema"] == {"type": "object"}
    patched = item["patch"]["requestBody"]["content"]["application/json"]["schema"]
    assert patched == {"type": "object", "nullable": True}  # the operation's own wins


# ------------------------------------------------------------------ responses, security


def test_a_response_schema_is_served_as_each_produced_type(tmp_path: Path) -> None:
    contract = converted(tmp_path, PETS)
    listing = operation(contract, "/pets", "get")["responses"]["200"]
    assert listing["headers"] == {
        "X-Total": {"description": "how many", "schema": {"type": "integer"}}
    }
    assert listing["content"] == {
        "application/json": {
            "schema": {"type": "array", "items": {"$ref": "#/components/schemas/Pet"}},
            "example": [{"id": 1, "name": "Rex"}],
        }
    }
    one = operation(contract, "/pets/{petId}", "get")["responses"]["200"]["content"]
    assert list(one) == ["application/json", "application/xml"]  # the operation's own
    created = operation(contract, "/pets", "post")["responses"]
    assert created["default"] == {"$ref": "#/components/responses/Problem"}
    assert contract.document["components"]["responses"]["Problem"] == {
        "description": "what went wrong",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }


def test_security_definitions_become_security_schemes(tmp_path: Path) -> None:
    text = (
        HEAD
        + """\
paths: {}
security: [{key: []}]
securityDefinitions:
  basic: {type: basic, description: accounts}
  key: {type: apiKey, in: header, name: X-Key}
  implicit:
    {type: oauth2, flow: implicit, authorizationUrl: "https://a.example/auth", scopes: {r: read}}
  password: {type: oauth2, flow: password, tokenUrl: "https://a.example/token", scopes: {}}
  application: {type: oauth2, flow: application, tokenUrl: "https://a.example/token"}
  code:
    type: oauth2
    flow: accessCode
    authorizationUrl: "https://a.example/auth"
    tokenUrl: "https://a.example/token"
    scopes: {w: write}
    x-note: kept
"""
    )
    document = converted(tmp_path, text).document
    schemes = document["components"]["securitySchemes"]
    assert document["security"] == [{"key": []}]
    assert schemes["basic"] == {"type": "http", "scheme": "basic", "description": "accounts"}
    assert schemes["key"] == {"type": "apiKey", "in": "header", "name": "X-Key"}
    assert schemes["implicit"]["flows"] == {
        "implicit": {"authorizationUrl": "https://a.example/auth", "scopes": {"r": "read"}}
    }
    assert schemes["password"]["flows"] == {
        "password": {"tokenUrl": "https://a.example/token", "scopes": {}}
    }
    assert schemes["application"]["flows"] == {
        "clientCredentials": {"tokenUrl": "https://a.example/token", "scopes": {}}
    }
    assert schemes["code"] == {
        "type": "oauth2",
        "flows": {
            "authorizationCode": {
                "authorizationUrl": "https://a.example/auth",
                "tokenUrl": "https://a.example/token",
                "scopes": {"w": "write"},
            }
        },
        "x-note": "kept",
    }


# ------------------------------------------------------------------------- positions


def test_every_converted_pointer_keeps_its_swagger_line(tmp_path: Path) -> None:
    contract = converted(tmp_path, PETS)
    file = str(tmp_path / "api.yaml")

    def at(needle: str, after: str = "") -> tuple[str, int]:
        return file, line_of(PETS, needle, after)

    assert contract.locate("/openapi") == at('swagger: "2.0"')
    assert contract.locate("/servers/0/url") == at("host:")
    assert contract.locate("/components/schemas/Pet/properties/name") == at("name: {type", "Pet:")
    assert contract.locate("/components/schemas/Pet/properties/nickname/nullable") == at(
        "nickname:"
    )
    assert contract.locate("/components/parameters/Limit/schema/minimum") == at("Limit:")
    pet_body = "/components/requestBodies/PetBody/content/application~1json/schema"
    assert contract.locate(pet_body) == at("schema: {$ref", "PetBody:")
    get = "/paths/~1pets~1{petId}"
    assert contract.locate(f"{get}/parameters/0/schema/format") == at("name: petId")
    listing = "/paths/~1pets/get/responses/200"
    assert contract.locate(f"{listing}/content/application~1json/schema/items") == at("items: {$")
    assert contract.locate(f"{listing}/content/application~1json/example") == at("[{id: 1")
    assert contract.locate(f"{listing}/headers/X-Total/schema/type") == at("X-Total:")


def test_a_model_error_names_the_swagger_line(tmp_path: Path) -> None:
    text = PETS.replace("required: [name]", "required: [name, age]")
    path = write(tmp_path, "api.yaml", text)
    [issue] = refusal(path)
    line = line_of(text, "required: [name, age]")
    assert issue.startswith(f"{path}:{line}: error at #/components/schemas/Pet/required: ")
    assert "'age' is required but not declared under properties" in issue


def test_a_validation_error_names_the_swagger_line(tmp_path: Path) -> None:
    text = PETS.replace("          description: one pet\n", "")
    path = write(tmp_path, "api.yaml", text)
    [issue] = refusal(path)
    line = line_of(text, "schema: {$ref", "operationId: getPet")  # the response's first
    assert issue.startswith(
        f"{path}:{line}: error at #/paths/~1pets~1{{petId}}/get/responses/200: invalid OpenAPI: "
    )


def test_what_openapi_3_cannot_say_is_an_error_at_its_line(tmp_path: Path) -> None:
    text = (
        HEAD
        + """\
paths:
  /a:
    post:
      parameters:
        - {name: one, in: body, schema: {}}
        - {name: two, in: body, schema: {}}
      responses: {"200": {description: ok}}
  /b:
    post:
      parameters:
        - {name: one, in: body, schema: {}}
        - {name: field, in: formData, type: string}
      responses: {"200": {description: ok}}
"""
    )
    path = write(tmp_path, "api.yaml", text)
    assert refusal(path) == [
        f"{path}:{line_of(text, 'name: two')}: error at #/paths/~1a/post/parameters/1: an "
        "operation takes one body parameter; this is a second",
        f"{path}:{line_of(text, 'name: field')}: error at #/paths/~1b/post/parameters/1: an "
        "operation takes a body parameter or formData parameters, not both",
    ]


def test_a_ref_to_a_place_the_conversion_moves_is_an_error(tmp_path: Path) -> None:
    text = (
        HEAD
        + """\
paths:
  /a:
    post:
      parameters: [{name: one, in: body, schema: {type: object}}]
      responses: {"200": {description: ok}}
    get:
      responses:
        "200": {description: ok, schema: {$ref: "#/paths/~1a/post/parameters/0/schema"}}
"""
    )
    path = write(tmp_path, "api.yaml", text)
    [issue] = refusal(path)
    pointer = "#/paths/~1a/get/responses/200/content/application~1json/schema"
    assert issue == (
        f"{path}:{line_of(text, '$ref')}: error at {pointer}: $ref "
        "'#/paths/~1a/post/parameters/0/schema' names a place the conversion from Swagger 2.0 "
        "moves; refer to a definition, a parameter or a response instead"
    )


# ---------------------------------------------------------------------- other files

MAIN = (
    HEAD
    + """\
paths:
  /pets:
    get:
      parameters: [{$ref: "common.yaml#/parameters/Limit"}]
      responses:
        "200":
          description: the pets
          schema: {type: array, items: {$ref: "models.yaml#/definitions/Pet"}}
    post:
      parameters: [{$ref: "common.yaml#/parameters/PetBody"}]
      responses: {"201": {description: made, schema: {$ref: "models.yaml#/definitions/Pet"}}}
"""
)
COMMON = """\
parameters:
  Limit: {name: limit, in: query, type: integer}
  PetBody: {name: pet, in: body, required: true, schema: {$ref: "models.yaml#/definitions/Pet"}}
"""
MODELS = """\
definitions:
  Pet:
    type: object
    required: [name]
    properties:
      name: {type: string}
      tag: {$ref: "#/definitions/Tag"}
  Tag:
    type: object
    properties:
      label: {type: string, x-nullable: true}
"""


def test_refs_into_other_swagger_files_are_bundled_then_converted(tmp_path: Path) -> None:
    write(tmp_path, "common.yaml", COMMON)
    write(tmp_path, "models.yaml", MODELS)
    contract = converted(tmp_path, MAIN)
    document = contract.document
    schemas = document["components"]["schemas"]
    assert schemas["Pet"]["properties"]["tag"] == {"$ref": "#/components/schemas/Tag"}
    assert schemas["Tag"]["properties"]["label"] == {"type": "string", "nullable": True}
    listing = operation(contract, "/pets", "get")
    assert listing["parameters"] == [
        {"name": "limit", "in": "query", "schema": {"type": "integer"}}
    ]
    body = operation(contract, "/pets", "post")["requestBody"]
    assert body == {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Pet"}}},
    }
    models = str(tmp_path / "models.yaml")
    assert contract.locate("/components/schemas/Tag/properties/label/nullable") == (models, 11)


def test_an_error_in_another_swagger_file_names_that_file(tmp_path: Path) -> None:
    write(tmp_path, "common.yaml", COMMON)
    models = write(tmp_path, "models.yaml", MODELS.replace("required: [name]", "required: [age]"))
    issues = refusal(write(tmp_path, "api.yaml", MAIN))
    assert issues[0].startswith(f"{models}:4: error at #/components/schemas/Pet/required: ")


def test_a_swagger_block_of_a_markdown_spec_is_converted(tmp_path: Path) -> None:
    spec = "# Pets\n\nThe contract:\n\n```yaml\n" + PETS + "```\n"
    path = write(tmp_path, "spec.md", spec)
    contract = converted(tmp_path, spec, "spec.md")
    assert contract.document["openapi"] == "3.0.3"
    line = line_of(spec, "name: {type: string, example: Rex}")
    assert contract.locate("/components/schemas/Pet/properties/name") == (str(path), line)


# ---------------------------------------------------------------------------- served


def test_a_converted_contract_maps_its_crud(tmp_path: Path) -> None:
    model = load_model(write(tmp_path, "api.yaml", PETS))
    kinds = {op.operation_id: (op.kind, op.resource) for op in model.operations}
    assert kinds == {
        "listPets": ("list", "pets"),
        "createPet": ("create", "pets"),
        "getPet": ("read", "pets"),
    }
    assert model.base_path.path == "/v1"
    assert (model.openapi_version, model.converted_from) == ("3.0", "2.0")


@needs_shared
def test_yaml_words_that_yaml_1_1_took_for_booleans_stay_words() -> None:
    """launchdarkly.com names a property `on`: YAML 1.2, which Swagger names, reads a word."""
    path = CORPUS / "openapi" / "apis-guru" / "launchdarkly.com__default.yaml"
    schemas = load_contract(path).document["components"]
    webhook = schemas["requestBodies"]["WebhookPostRequest"]["content"]["application/json"]
    assert "on" in webhook["schema"]["properties"] and "on" in webhook["schema"]["required"]


@needs_shared
def test_the_paired_blog_go_swagger_loads_with_its_dbml() -> None:
    folder = CORPUS / "paired" / "blog-go"
    model = load_model(folder / "blog_go.swagger.json", folder / "database.dbml")
    assert model.converted_from == "2.0"
    assert {"users", "posts", "comments"} <= {r.table for r in model.resources.values()}


# ---------------------------------------------------------------------- docs/swagger.md

PAGE = (ROOT / "docs" / "swagger.md").read_text(encoding="utf-8")


def block(after: str) -> str:
    """The first ```yaml block after the line holding `after`."""
    return PAGE.split(after, 1)[1].split("```yaml\n", 1)[1].split("```", 1)[0]


def test_the_documented_conversion_is_the_one_made(tmp_path: Path) -> None:
    contract = converted(tmp_path, block("## An example"))
    assert contract.document == yaml.safe_load(block("converts to"))
