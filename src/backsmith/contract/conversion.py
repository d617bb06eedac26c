"""The document `backsmith convert` writes: a Swagger 2.0 contract as the OpenAPI 3.0 it is
read as, checked against the OpenAPI 3.0 schema."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from backsmith.contract.load import load_contract
from backsmith.contract.validate import validate_openapi
from backsmith.errors import ContractError, Issue


def converted_document(path: str | Path) -> dict[str, Any]:
    """The converted document, its other files' `$ref`s bundled in.

    Raises ContractError for a broken contract (each issue at the Swagger file's line), or
    for one that is OpenAPI 3 already: there is nothing to convert.
    """
    contract = load_contract(path)
    if contract.converted_from is None:
        file, line = contract.locate("/openapi")
        found = contract.document.get("openapi")
        message = f"nothing to convert: the document is OpenAPI {found}"
        raise ContractError([Issue(message, file, line, "/openapi")])
    validate_openapi(contract)
    return contract.document
