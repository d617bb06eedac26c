"""Lint rules on the contract's text: secrets written into it, and a version or server
URL left as a placeholder."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from backsmith.contract.source import escape
from backsmith.verify.lint.rules import ERROR, WARNING, Hit, Review, rule

# Credentials with a shape of their own: a match is a real key far more often than not.
_SECRETS = (
    ("a private key", re.compile(r"-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----")),
    ("an AWS access key id", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")),
    ("a Stripe live key", re.compile(r"\b(?:sk|rk)_live_[0-9A-Za-z]{16,}")),
    ("a GitHub token", re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36,}")),
    ("a Slack token", re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}")),
    ("a Google API key", re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b")),
    ("a webhook signing secret", re.compile(r"\bwhsec_[A-Za-z0-9+/=]{24,}")),
    ("a password in a URL", re.compile(r"\b[a-z][a-z0-9+.-]*://[^/\s:@]*:[^/\s@]{3,}@")),
)
# URLs' passwords that are obviously not one: a placeholder, a variable, a local default.
_FAKE_PASSWORD = re.compile(
    r"://[^/\s:@]*:(?:password|pass|secret|\*+|x+|<[^>]*>|\{[^}]*\}|\$\{?\w+\}?"
    r"|guest|postgres|root|admin|user|test|example|changeme)@",
    re.IGNORECASE,
)


@rule(
    "secret-in-contract",
    ERROR,
    "a credential written into the contract (a key, a token, a password in a URL)",
    "remove it, revoke it, and pass it in a setting (BACKSMITH_...) from the environment",
)
def secret_in_contract(review: Review) -> Iterator[Hit]:
    for pointer, text in _strings(review.document, ""):
        for what, pattern in _SECRETS:
            found = pattern.search(text)
            if found is None or _FAKE_PASSWORD.search(found.group(0) + "@"):
                continue
            shown = found.group(0)[:12]
            yield Hit(
                pointer, f"{what} is written here ({shown}…): anyone with the contract has it"
            )
            break


def _strings(value: Any, pointer: str) -> Iterator[tuple[str, str]]:
    """Every string in the document, keys' values and list items, with its pointer."""
    if isinstance(value, str):
        yield pointer, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, f"{pointer}/{escape(str(key))}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, f"{pointer}/{index}")


_PLACEHOLDER_VERSIONS = frozenset({"", "0.0.0", "x.y.z", "string", "version", "todo", "tbd"})
_PLACEHOLDER_HOST = re.compile(
    r"(?:^|[/.@])(?:example\.(?:com|org|net)|your[-_.]|my[-_]?api\.)|\btodo\b|changeme|<[^>]+>"
    r"|\{\{",
    re.IGNORECASE,
)


@rule(
    "placeholder-info",
    WARNING,
    "a contract version or server URL that looks like a placeholder",
    "set info.version to the API's real version and servers to where it is served",
)
def placeholder_info(review: Review) -> Iterator[Hit]:
    info = review.document.get("info") or {}
    version = str(info.get("version", "")).strip()
    if version.lower() in _PLACEHOLDER_VERSIONS:
        yield Hit("/info/version", f"info.version is {version!r}: clients and `diff` read it")
    servers = review.document.get("servers")
    for index, server in enumerate(servers if isinstance(servers, list) else []):
        url = str(server.get("url", "")) if isinstance(server, dict) else ""
        if _PLACEHOLDER_HOST.search(url):
            yield Hit(f"/servers/{index}/url", f"server URL {url!r} looks like a placeholder")
