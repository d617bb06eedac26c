"""The settings of one contract test run, checked before anything starts (exit 2 names one)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from backsmith.bench.options import check_database_url
from backsmith.errors import InputError

MAX_EXAMPLES = 1000  # per operation and mode: more would run for hours against a slow service


@dataclass(frozen=True, slots=True)
class SuiteOptions:
    """Everything a run is told.

    Example:
        SuiteOptions("api.yaml", url="http://127.0.0.1:8000", jwt_secret="s3cret", examples=5)
    """

    contract: str
    dbml: str | None = None
    url: str | None = None  # a running service; None: start one on a scratch database
    database_url: str | None = None  # postgresql://... server for the scratch database
    jwt_secret: str | None = None  # with --url: mint tokens with it
    headers: tuple[tuple[str, str], ...] = ()  # sent with every request (an API key)
    junit: Path | None = None  # JUnit XML written here
    out: Path = Path("test-results")  # test-results.json goes here
    ops: tuple[str, ...] = ()  # operationIds to test; () for all
    examples: int = 10  # schemathesis examples per operation and mode; 0: no fuzzing
    rows: int = 5  # generated rows per resource on a scratch database
    seed: int = 20  # fixes every generated value, so two runs send the same requests


def parse_header(text: str) -> tuple[str, str]:
    """`Name: value` -> ("Name", "value"); InputError on anything else."""
    name, colon, value = text.partition(":")
    if not colon or not name.strip() or any(c.isspace() for c in name.strip()):
        raise InputError(f"--header {text!r}: must be 'Name: value' (e.g. 'X-Api-Key: abc')")
    return name.strip(), value.strip()


def check(options: SuiteOptions) -> None:
    """Refuse settings that cannot make a run, naming the option."""
    if not 0 <= options.examples <= MAX_EXAMPLES:
        raise InputError(f"--examples {options.examples}: must be a whole number from 0 to 1000")
    if options.url is not None and not options.url.startswith(("http://", "https://")):
        raise InputError(f"--url {options.url}: must be an http:// or https:// URL of a service")
    check_database_url(options.url, options.database_url)
    if options.out.exists() and not options.out.is_dir():
        raise InputError(f"--out {options.out}: is a file, not a folder")
