"""`backsmith init`: every template gives a project whose contract `check` passes and
`serve` serves; it refuses to overwrite, and the bookshop template is the example."""

from __future__ import annotations

import sys
import tomllib
from collections.abc import Iterator
from fnmatch import fnmatch
from pathlib import Path

import pytest
from conftest import BOOKSHOP, CORPUS, ROOT, bearer, needs_shared, served, write_file
from page_commands import run_first_sh_block

from backsmith import api
from backsmith.cli import main
from backsmith.scaffold.templates import TEMPLATES
from backsmith.settings import SETTINGS

SECRET = "tasks-template-secret-of-32-bytes!"
DOCS_PAGE = (ROOT / "docs" / "init.md").read_text(encoding="utf-8")
# A team's contract: its schema in a file of its own, its DBML named, one operation that
# no CRUD serves.
PARCELS = """\
    openapi: 3.1.0
    info: {title: Parcels API, version: 1.0.0}
    x-backsmith: {rate-limit: 60/minute, dbml: parcels.dbml}
    paths:
      /parcels:
        get:
          operationId: listParcels
          parameters:
            - {name: limit, in: query, schema: {type: integer, minimum: 1, maximum: 50}}
            - {name: cursor, in: query, schema: {type: string}}
          responses:
            '200':
              description: Parcels.
              content:
                application/json:
                  schema: {type: array, items: {$ref: 'schemas/parcel.yaml'}}
            '422': {description: A bad parameter.}
      /parcels/{id}/track:
        post:
          operationId: trackParcel
          summary: Ask the carrier where the parcel is
          x-backsmith: {public: true}
          parameters:
            - {name: id, in: path, required: true, schema: {type: integer}}
          responses:
            '200':
              description: Where it is.
              content:
                application/json:
                  schema: {type: object, properties: {where: {type: string}}}
            '404': {description: No such parcel.}
    """


@pytest.fixture(autouse=True)
def fresh_hooks() -> Iterator[None]:
    """Each project has its own `hooks` module: none is kept from another test's."""
    path = list(sys.path)
    sys.modules.pop("hooks", None)
    yield
    sys.modules.pop("hooks", None)
    sys.path[:] = path


def _team_spec(folder: Path) -> Path:
    write_file(
        folder,
        "schemas/parcel.yaml",
        "type: object\nrequired: [id, label]\n"
        "properties:\n  id: {type: integer, readOnly: true}\n"
        "  label: {type: string, maxLength: 100}\n",
    )
    write_file(
        folder,
        "parcels.dbml",
        "Table parcels {\n  id integer [pk, increment]\n  label varchar(100) [not null]\n}\n",
    )
    return write_file(folder, "parcels.yaml", PARCELS)


def _prose_spec(folder: Path) -> Path:
    text = (ROOT / "docs" / "drafting.md").read_text(encoding="utf-8")
    return write_file(folder, "api-spec.md", text.split("````markdown\n", 1)[1].split("````")[0])


def _template(name: str, folder: Path) -> str:
    if name == "team":
        return str(_team_spec(folder / "team"))
    if name == "prose":
        return str(_prose_spec(folder / "prose"))
    return name


# (template, a request, the status it answers, what its body holds)
SERVED = {
    "blank": ("POST", "/tasks/7/complete", 404, "No such task."),  # hooks.py's complete_task
    "bookshop": ("GET", "/authors", 200, "[]"),
    "team": ("POST", "/parcels/3/track", 501, "trackParcel is not written yet: track_parcel"),
    "prose": ("GET", "/v1/books?author=B", 200, '"data":[]'),
}


@pytest.mark.anyio
@pytest.mark.parametrize("template", list(SERVED))
async def test_each_template_makes_a_project_check_passes_and_serve_serves(
    template: str, tmp_path: Path, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    project = tmp_path / "project"
    assert main(["init", str(project), "--template", _template(template, tmp_path)]) == 0
    contract = project / "docs" / "api-spec.md"
    for name in (".env.example", ".gitignore", "README.md", "docs/api-spec.md"):
        assert (project / name).is_file(), name
    capsys.readouterr()
    assert main(["check", str(contract)]) == 0, capsys.readouterr().err
    checked = capsys.readouterr().out
    assert "needs a handler" not in checked and ", 0 need a handler)" in checked
    method, path, status, holds = SERVED[template]
    async with served(api.load_model(contract), database_url, jwt_secret=SECRET) as client:
        answer = await client.request(method, path, headers=bearer(SECRET))
        assert answer.status_code == status, answer.text
        assert holds in answer.text


def test_an_adopted_spec_brings_what_it_refers_to_and_a_stub_per_missing_handler(
    tmp_path: Path,
) -> None:
    spec = _team_spec(tmp_path / "team")
    before = api.check(spec)
    assert [op.operation_id for op in before.needs_handler] == ["trackParcel"]
    assert main(["init", str(tmp_path / "p"), "--template", str(spec)]) == 0
    docs = tmp_path / "p" / "docs"
    assert (docs / "schemas" / "parcel.yaml").read_text() == (
        spec.parent / "schemas" / "parcel.yaml"
    ).read_text()
    assert (docs / "parcels.dbml").is_file()
    hooks = (docs / "hooks.py").read_text()
    assert "def track_parcel(ctx: Context) -> Any:" in hooks
    assert '"""POST /parcels/{id}/track: Ask the carrier where the parcel is"""' in hooks
    page = (docs / "api-spec.md").read_text()
    assert spec.read_text().rstrip() in page  # the team's contract, as written
    after = api.check(docs / "api-spec.md")
    assert after.needs_handler == []
    assert [op.operation_id for op in after.handled] == ["trackParcel"]


def test_a_prose_spec_is_drafted_beside_its_prose(tmp_path: Path) -> None:
    spec = _prose_spec(tmp_path / "prose")
    assert main(["init", str(tmp_path / "p"), "--template", str(spec)]) == 0
    docs = tmp_path / "p" / "docs"
    page = (docs / "api-spec.md").read_text()
    assert page.startswith(spec.read_text().rstrip())  # the prose, line for line
    assert "## OpenAPI document" in page and "openapi: 3.1.0" in page
    assert "Table " in (docs / "schema.dbml").read_text()
    assert (docs / "api-spec.draft-report.md").is_file()
    model = api.load_model(docs / "api-spec.md")
    assert not [w for w in model.warnings if "drafted" in w]  # a contract now, not prose


@needs_shared
def test_adopting_the_petstore_serves_its_handlerless_operations_by_stubs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    petstore = CORPUS / "openapi" / "petstore3.yaml"
    waiting = [op.operation_id for op in api.check(petstore).needs_handler]
    assert {"uploadFile", "getInventory", "loginUser"} <= set(waiting)
    assert main(["init", str(tmp_path / "p"), "--template", str(petstore)]) == 0
    report = api.check(tmp_path / "p" / "docs" / "api-spec.md")
    assert report.needs_handler == []
    assert sorted(op.operation_id for op in report.handled) == sorted(waiting)


def test_init_refuses_to_overwrite_unless_forced(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = tmp_path / "tasks"
    assert main(["init", str(project)]) == 0
    (project / "docs" / "api-spec.md").write_text("mine")
    (project / "notes.txt").write_text("also mine")
    capsys.readouterr()
    assert main(["init", str(project), "--template", "bookshop"]) == 2
    said = capsys.readouterr().err.splitlines()
    assert said == [
        f"backsmith: {project}: init would overwrite .env.example, .gitignore, "
        "docs/api-spec.md, README.md (--force to overwrite them)"
    ]
    assert (project / "docs" / "api-spec.md").read_text() == "mine"
    assert not (project / "docs" / "shop.py").exists()
    assert main(["init", str(project), "--template", "bookshop", "--force"]) == 0
    assert (project / "docs" / "api-spec.md").read_bytes() == BOOKSHOP.read_bytes()
    assert (project / "notes.txt").read_text() == "also mine"


def test_a_template_that_is_no_name_nor_file_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["init", str(tmp_path), "--template", "nope"]) == 2
    said = capsys.readouterr().err.splitlines()
    assert said == ["backsmith: --template nope: not a template (blank, bookshop) nor a spec file"]
    assert list(tmp_path.iterdir()) == []


def test_the_bookshop_template_is_the_example_and_every_template_is_package_data() -> None:
    package = ROOT / "src" / "backsmith" / "scaffold"
    for name in TEMPLATES["bookshop"]:
        copied = (package / "bookshop" / name).read_bytes()
        assert copied == (BOOKSHOP.parent / name).read_bytes(), (
            f"cp examples/bookshop/{name} src/backsmith/scaffold/bookshop/"
        )
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    patterns = data["package-data"]["backsmith.scaffold"]
    shipped = [p.relative_to(package).as_posix() for p in package.glob("*/*") if p.is_file()]
    folders = {name.split("/")[0] for name in shipped} - {"__pycache__"}
    assert folders == {"blank", "bookshop", "project"}
    for name in shipped:
        if not name.startswith("__pycache__"):
            assert any(fnmatch(name, pattern) for pattern in patterns), name


def test_the_settings_file_and_readme_come_from_the_declaration(tmp_path: Path) -> None:
    assert main(["init", str(tmp_path / "p")]) == 0
    example = (tmp_path / "p" / ".env.example").read_text()
    for declared in SETTINGS:
        assert f"# {declared.env}=" in example, declared.env
    assert "# BACKSMITH_PORT=8000\n" in example
    ignored = (tmp_path / "p" / ".gitignore").read_text().splitlines()
    assert {"*.db", "bench-results/", ".venv/", ".env"} <= set(ignored)
    readme = (tmp_path / "p" / "README.md").read_text()
    assert "backsmith serve docs/api-spec.md" in readme
    assert "backsmith build docs/api-spec.md" in readme
    assert readme.startswith("# p\n\nTasks API, served by")


def test_the_docs_page_commands_and_messages_are_what_init_does(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    run_first_sh_block(DOCS_PAGE)
    said = capsys.readouterr().out
    assert "33 operations" in said
    assert main(["init", "tasks"]) == 2
    refusal = DOCS_PAGE.split("```text\n", 2)[1].split("\n```", 1)[0]
    assert capsys.readouterr().err.strip() == refusal
    assert main(["init", "other", "--template", "nope"]) == 2
    unknown = DOCS_PAGE.split("```text\n", 2)[2].split("\n```", 1)[0]
    assert capsys.readouterr().err.strip() == unknown
