"""Every error class has a stable code of its own, drawn in the tree and listed in the docs."""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

import httpx
import orjson
import pytest
from conftest import ROOT, served

import backsmith
from backsmith import errors
from backsmith.errors import CODES_ELSEWHERE, BacksmithError, Problem
from backsmith.http.problems import problem_response
from backsmith.model.types import Model

DOCS = ROOT / "docs" / "errors.md"
CODE = re.compile(r"^BSM[0-5]\d\d$")


def _every_error_class() -> list[type[BacksmithError]]:
    """Each subclass of the root, after importing every module of the package."""
    for module in pkgutil.walk_packages(backsmith.__path__, "backsmith."):
        if not module.name.endswith(".__main__"):  # that one runs the command line
            importlib.import_module(module.name)
    found: list[type[BacksmithError]] = []
    waiting: list[type[BacksmithError]] = [BacksmithError]
    while waiting:
        cls = waiting.pop()
        found.append(cls)
        waiting.extend(cls.__subclasses__())
    return found


def test_every_error_class_has_a_code_of_its_own() -> None:
    classes = _every_error_class()
    assert len(classes) > 25  # the walk found the classes of other modules too
    names = [cls.__name__ for cls in classes]
    assert len(set(names)) == len(names), "codes outside errors.py are looked up by class name"
    codes: dict[str, str] = {}
    for cls in classes:
        assert CODE.match(cls.code), f"{cls.__name__}: {cls.code!r} is not BSM and 3 digits"
        parents = [base.code for base in cls.__bases__ if issubclass(base, BacksmithError)]
        assert cls.code not in parents, f"{cls.__name__} has no code of its own (add one)"
        assert cls.code not in codes, f"{cls.__name__} and {codes[cls.code]} share {cls.code}"
        codes[cls.code] = cls.__name__
    defined_elsewhere = {c.__name__ for c in classes if c.__module__ != errors.__name__}
    assert set(CODES_ELSEWHERE) == defined_elsewhere  # none missing, none left over


def test_codes_follow_their_area() -> None:
    for cls in _every_error_class():
        if issubclass(cls, Problem) and cls is not Problem:
            assert cls.code[3] in "345", f"{cls.__name__}: a problem of auth, request or storage"
        elif issubclass(cls, errors.InputError):
            assert cls.code.startswith("BSM2"), cls.__name__
        elif issubclass(cls, errors.ContractError):
            assert cls.code.startswith("BSM1"), cls.__name__


def test_the_tree_and_the_docs_list_every_class_with_its_code() -> None:
    tree = errors.__doc__ or ""
    rows = {
        row.split("|")[1].strip(): row.split("|")[2].strip().strip("`")
        for row in DOCS.read_text(encoding="utf-8").splitlines()
        if re.match(r"\| BSM\d{3} ", row)
    }
    for cls in _every_error_class():
        assert re.search(rf"\b{cls.__name__}\s+{cls.code}\b", tree), f"{cls.__name__} not in tree"
        assert rows.get(cls.code) == cls.__name__, f"{cls.code} {cls.__name__} not in {DOCS.name}"
    assert len(rows) == len(_every_error_class()), "docs/errors.md lists a class that is gone"


def test_every_problem_is_answered_with_its_code() -> None:
    for cls in _every_error_class():
        if issubclass(cls, Problem):
            if cls is errors.ValidationFailed:
                problem = cls([])
            elif cls is errors.Refused:  # a handler's, with the status and title it chose
                problem = cls(409, "Out of stock", "detail")
            else:
                problem = cls("detail")
            body = orjson.loads(problem_response(problem).body)
            assert body["code"] == cls.code and body["status"] == problem.status
            assert body["type"] == f"urn:backsmith:problem:{problem.slug}"


@pytest.mark.anyio
async def test_answers_carry_the_code_of_their_problem(
    bookshop_model: Model, tmp_path: Path
) -> None:
    async with served(bookshop_model, f"sqlite:///{tmp_path / 'codes.db'}") as client:
        missing: httpx.Response = await client.get("/no/such/path")
        invalid = await client.post("/authors", json={"name": 7})
    assert missing.status_code == 404 and missing.json()["code"] == "BSM402"
    assert invalid.status_code == 422 and invalid.json()["code"] == "BSM401"
