"""Paths as a prose spec writes them, read into templates: hosts, parameters, queries.

`http://localhost:3000/api/users/:user-id?page=1`, `{{baseUrl}}/users/<userId>/` and
`/users/{ userId }` are the same template, `/users/{userId}`: the host and the variable
standing for it are set aside, `:name`, `<name>` and `[name]` become `{name}` (a hyphenated
name in camelCase, as OpenAPI tools expect), the query string's names are kept apart.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl

# A host, or a variable standing for one, before a path.
HOST = re.compile(r"^(?:(?P<host>https?://[^/\s?#]*)|\{\{\s*\w+\s*\}\}|\$\{?\w+\}?)")
# A path parameter of a template.
PARAM = re.compile(r"\{([\w-]+)\}")


def host_of(text: str) -> str:
    """The `scheme://host[:port]` a written path starts with, lower-cased, or ''."""
    match = HOST.match(text.strip())
    return (match["host"] or "").lower() if match else ""


def camel(name: str) -> str:
    """`order-id` and `order_id` stay readable as one parameter name: `orderId`."""
    head, *rest = re.split(r"-+", name)
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def template(written: str) -> tuple[str, list[str]]:
    """The path template of a written path, and the query parameter names it carries."""
    path = HOST.sub("", written.strip(), count=1)
    path, _, query = path.partition("?")
    path = path.split("#", 1)[0].rstrip(".:,;")
    path = re.sub(r"/:([\w-]+)", lambda m: "/{" + camel(m[1]) + "}", path)
    path = re.sub(r"/<(?:\w+:)?([\w-]+)>", lambda m: "/{" + camel(m[1]) + "}", path)
    path = re.sub(r"/\[([\w-]+)\]", lambda m: "/{" + camel(m[1]) + "}", path)
    path = re.sub(r"\$?\{\s*([\w-]+)\s*\}", lambda m: "{" + camel(m[1]) + "}", path)
    path = re.sub(r"/{2,}", "/", path)
    if len(path) > 1:
        path = path.rstrip("/")
    names = [name for name, _ in parse_qsl(query, keep_blank_values=True) if name]
    return path or "/", names


def params(path: str) -> list[str]:
    """The parameter names of a template, in order."""
    return PARAM.findall(path)
