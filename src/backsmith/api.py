"""The public entry points the CLI and tests share."""

from __future__ import annotations

from pathlib import Path

from backsmith.contract.load import load_contract
from backsmith.contract.validate import validate_openapi
from backsmith.model.build import build_model
from backsmith.model.types import Model


def load_model(path: str | Path, dbml: str | Path | None = None) -> Model:
    """Read, validate and map a contract; raises ContractError with every issue found."""
    contract = load_contract(path, dbml)
    validate_openapi(contract)
    return build_model(contract)
