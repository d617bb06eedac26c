"""The base path operations are served under, read from the contract's `servers`.

Clients generated from a contract call `servers[0].url` joined with each path, so a
server URL that carries a path (`https://api.example.com/api`, `/v1`) puts every
operation under it (`/api/books`). A path item's or an operation's own `servers`
replace the root's for it, as OpenAPI says. Where several servers of one level have
different paths the first is used and a warning names it; `BACKSMITH_BASE_PATH`
chooses another, or none.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote

from backsmith.contract.source import escape
from backsmith.errors import Issue

_VARIABLE = re.compile(r"\{([^{}]*)\}")


@dataclass(frozen=True, slots=True)
class BasePath:
    """Where the contract's operations are served: its path and the server URL it came from."""

    path: str = ""  # "/api"; "" for none
    url: str = ""  # the server URL, as written
    pointer: str = ""  # "/servers/0"
    warnings: tuple[str, ...] = ()  # several paths to choose from, rendered

    def describe(self) -> str:
        """`/api (servers[0]: https://api.example.com/api)`, or `none`."""
        if not self.path:
            return "none"
        if not self.pointer:
            return self.path
        list_pointer, _, index = self.pointer.rpartition("/")
        return f"{self.path} ({list_pointer.lstrip('/')}[{index}]: {self.url})"


def normalized(path: str) -> str:
    """`/api` for `api/`, `/api/`, `//api`; "" for `/`, `.` and an empty path."""
    path = path.strip()
    if not path:
        return ""
    cleaned = posixpath.normpath("/" + path)
    return "" if cleaned in ("/", "//") else cleaned.replace("//", "/")


def served_path(base: str, path: str) -> str:
    """The path a request names: the base path joined with the contract's path template."""
    return base + path if base else path


def link_path(base: str, path: str) -> str:
    """`served_path` percent-encoded for a header (`Location`), the template left as is."""
    return quote(base, safe="/:@!$&'()*+,;=~") + path if base else path


def base_path_for(contract_base: str, override: str | None) -> str:
    """The base path served: the setting's when one is set ("" is none), else the contract's."""
    return contract_base if override is None else normalized(override)


Locate = Callable[[str, str, str], Issue]  # (message, pointer, severity) -> Issue


def read_base_path(
    servers: Any, pointer: str, locate: Locate, inherited: BasePath | None = None
) -> BasePath:
    """The base path one `servers` list gives (its first server's), or `inherited` without one."""
    if not isinstance(servers, list) or not servers:
        return inherited or BasePath()
    found: list[tuple[str, str, str, str]] = []  # (path, url, pointer, unresolved variable)
    for index, server in enumerate(servers):
        if not isinstance(server, dict) or not isinstance(server.get("url"), str):
            continue
        path, unresolved = _server_path(server)
        found.append((path, server["url"], f"{pointer}/{index}", unresolved))
    if not found:
        return inherited or BasePath()
    path, url, at, unresolved = found[0]
    warnings: list[Issue] = []
    if unresolved:
        message = (
            f"server URL {url!r} has the variable {{{unresolved}}} in its path and no default "
            "for it: operations are served at no base path (set BACKSMITH_BASE_PATH)"
        )
        warnings.append(locate(message, f"{at}/url", "warning"))
    paths = list(dict.fromkeys(p for p, *_ in found))
    if len(paths) > 1:
        listed = ", ".join(f"{p or '/'} ({u})" for p, u, *_ in found)
        message = (
            f"the servers have different paths: {listed}; operations are served under "
            f"{path or '/'}, the first server's (BACKSMITH_BASE_PATH chooses another)"
        )
        warnings.append(locate(message, pointer, "warning"))
    return BasePath(path, url, at, tuple(w.render() for w in warnings))


def operation_base_path(
    document: dict[str, Any], path: str, method: str, root: BasePath, locate: Locate
) -> BasePath:
    """An operation's base path: its own `servers`, else its path item's, else the root's."""
    item = (document.get("paths") or {}).get(path)
    if not isinstance(item, dict):
        return root
    at = f"/paths/{escape(path)}"
    from_item = read_base_path(item.get("servers"), f"{at}/servers", locate, root)
    operation = item.get(method)
    if not isinstance(operation, dict):
        return from_item
    return read_base_path(operation.get("servers"), f"{at}/{method}/servers", locate, from_item)


def _server_path(server: dict[str, Any]) -> tuple[str, str]:
    """The normalized path of a server URL, its variables given their defaults; and the
    name of a variable in the path that has none ("" when all resolve)."""
    declared = server.get("variables")
    variables: dict[str, Any] = declared if isinstance(declared, dict) else {}

    def default(match: re.Match[str]) -> str:
        spec = variables.get(match.group(1))
        if isinstance(spec, dict) and spec.get("default") is not None:
            return str(spec["default"])
        return match.group(0)

    url = _VARIABLE.sub(default, str(server["url"]).strip())
    url = url.split("#", 1)[0].split("?", 1)[0]
    if "://" in url or url.startswith("//"):  # absolute: the path follows the host
        rest = url.split("//", 1)[1]
        url = rest[rest.index("/") :] if "/" in rest else ""
    # A URL without a host is relative to where the document is served: its path counts.
    left = _VARIABLE.search(url)
    if left:
        return "", left.group(1)
    return normalized(unquote(url)), ""
