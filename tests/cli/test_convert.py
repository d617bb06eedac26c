"""`backsmith convert`: a Swagger 2.0 contract written out as the OpenAPI 3.0 it is read as.

YAML on standard output, or a file (JSON when its name ends in .json); an OpenAPI 3
contract, or a broken one, is one line naming the file and line, with exit code 2.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import BOOKSHOP, CORPUS, needs_shared
from conftest import write_file as write

from backsmith.cli import main

SWAGGER = """\
swagger: "2.0"
info: {title: Notes, version: "1"}
basePath: /api
paths:
  /notes:
    post:
      operationId: createNote
      parameters:
        - {name: note, in: body, required: true, schema: {$ref: "#/definitions/Note"}}
      responses:
        "201": {description: made, schema: {$ref: "#/definitions/Note"}}
definitions:
  Note:
    type: object
    properties:
      id: {type: integer, readOnly: true}
      text: {type: string}
"""


def run(capsys: pytest.CaptureFixture[str], *argv: str | Path) -> tuple[int, str, str]:
    code = main([str(arg) for arg in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_convert_writes_yaml_to_standard_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "notes.yaml", SWAGGER)
    code, out, err = run(capsys, "convert", path)
    assert (code, err) == (0, "")
    document = yaml.safe_load(out)
    assert out.startswith("openapi: 3.0.3\ninfo:\n")
    assert document["servers"] == [{"url": "/api"}]
    body = document["paths"]["/notes"]["post"]["requestBody"]
    assert body["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Note"}


@pytest.mark.parametrize(
    ("name", "reader"), [("out.json", json.loads), ("out.yaml", yaml.safe_load)]
)
def test_convert_writes_json_or_yaml_by_the_output_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, reader: object
) -> None:
    path = write(tmp_path, "notes.yaml", SWAGGER)
    output = tmp_path / name
    code, out, err = run(capsys, "convert", path, "-o", output)
    assert (code, out) == (0, "")
    assert err == f"{path}: Swagger 2.0 converted to OpenAPI 3.0 in {output}\n"
    text = output.read_text(encoding="utf-8")
    assert callable(reader)
    assert reader(text)["components"]["schemas"]["Note"]["properties"]["id"]["readOnly"] is True
    assert text.lstrip().startswith("{") == name.endswith(".json")


def test_the_written_document_is_read_as_the_swagger_one_is(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    swagger = write(tmp_path, "notes.yaml", SWAGGER)
    written = tmp_path / "notes.openapi.yaml"
    assert run(capsys, "convert", swagger, "-o", written)[0] == 0
    code, out, _ = run(capsys, "model", written)
    assert code == 0
    assert "served under /api" in out.splitlines()[0]
    assert run(capsys, "model", swagger) == (0, out, "")


def test_an_openapi_3_contract_has_nothing_to_convert(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "convert", BOOKSHOP)
    assert (code, out) == (2, "")
    [line] = err.splitlines()
    assert line.startswith(f"{BOOKSHOP}:")
    assert line.endswith("error at #/openapi: nothing to convert: the document is OpenAPI 3.1.0")


def test_a_broken_swagger_contract_is_one_line_naming_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "notes.yaml", SWAGGER.replace("description: made, ", ""))
    code, out, err = run(capsys, "convert", path)
    assert (code, out) == (2, "")
    assert err.startswith(f"{path}:11: error at #/paths/~1notes/post/responses/201: ")
    assert "Traceback" not in err


def test_an_unwritable_output_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "notes.yaml", SWAGGER)
    code, out, err = run(capsys, "convert", path, "-o", tmp_path / "missing" / "out.yaml")
    assert (code, out) == (2, "")
    assert err.startswith(f"backsmith: cannot write {tmp_path / 'missing' / 'out.yaml'}: ")


@needs_shared
def test_convert_through_the_installed_entry_point(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BACKSMITH_")}
    swagger = CORPUS / "paired" / "blog-go" / "blog_go.swagger.json"
    done = subprocess.run(
        [sys.executable, "-m", "backsmith", "convert", str(swagger), "-o", "blog.json"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    document = json.loads((tmp_path / "blog.json").read_text(encoding="utf-8"))
    assert document["openapi"] == "3.0.3"
    assert "definitions" not in document and document["components"]["schemas"]
