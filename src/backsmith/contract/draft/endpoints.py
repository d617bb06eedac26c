"""From mentions to endpoints: paths as templates, the base path, repeats counted once.

`/cart/:productId`, `/cart/<productId>` and `/cart/{productId}` are one template; a host,
`{{baseUrl}}`, a query string and a trailing slash are not part of it; `/orders/42` is an
example of `/orders/{id}`. A base path stated once (`Base URL: http://localhost/api`)
is the servers' URL, whether each path is written with it or without it. Placeholders
(`/api/endpoint`), APIs the service calls rather than serves, and mentions that are not
this service's are skipped, each with its reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit

from backsmith.contract.draft.mentions import Mention
from backsmith.contract.draft.scan import HEADING, ITEM, LINE, TABLE, Element

# How strongly a mention says where an endpoint's details are: the first wins.
_PRIMARY = ("heading", "block", "facts", "line", "curl", "bullet", "sentence", "table")
_HOSTED = re.compile(r"^(?:https?://|\{\{|\$\{?\w)")
_PLACEHOLDER = re.compile(
    r"^(endpoint|endpoints|path|route|resource|resources|your[-_]?\w*|my[-_]?\w*|example|"
    r"foo|bar|baz|xxx+|something|url|api[-_]?endpoint|\.\.\.|\u2026)$",
    re.I,
)
_CONCRETE = re.compile(
    r"^(\d+|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[a-z]+_\d+)$", re.I
)
_BASE_WORD = re.compile(r"\bbase\b|\bbasis|\bbaseurl|기본|基础|基本|cơ sở", re.I)
# Sections about an API the service calls, not one it serves (by their heading's words).
_OUTBOUND = re.compile(
    r"external|outbound|third[- ]party|upstream|callback|webhook|외부|外部|第三方|extern|"
    r"externo|externa|bên ngoài|внешн",
    re.I,
)
_URL_OR_PATH = re.compile(r"`?(?P<target>(?:https?://[^\s`/]+)?/[^\s`]*|https?://[^\s`]+)`?")


@dataclass(slots=True)
class Endpoint:
    """One operation the spec describes: its method and path template, and every line
    that mentions it (the primary one first)."""

    method: str
    path: str
    mentions: list[Mention]
    query: list[str] = field(default_factory=list)  # names from written query strings
    guesses: list[str] = field(default_factory=list)

    @property
    def primary(self) -> Mention:
        return self.mentions[0]

    @property
    def lines(self) -> list[int]:
        return sorted({mention.line for mention in self.mentions})


@dataclass(frozen=True, slots=True)
class Skipped:
    """A mention that is not an endpoint of this service, and why."""

    method: str
    path: str
    line: int
    reason: str


@dataclass(slots=True)
class Endpoints:
    """The endpoints found, the base path they share, and what was skipped."""

    found: list[Endpoint]
    base: str
    skipped: list[Skipped]


def template(path: str) -> tuple[str, list[str]]:
    """The path template of a written path, and the query parameter names it carries."""
    path = re.sub(r"^(?:\{\{\s*\w+\s*\}\}|\$\{?\w+\}?)", "", path.strip())
    parts = urlsplit(path) if "://" in path else None
    query = ""
    if parts is not None:
        path, query = parts.path, parts.query
    elif "?" in path:
        path, _, query = path.partition("?")
    path = path.split("#", 1)[0].rstrip(".:,;")
    path = re.sub(r"/:(\w+)", r"/{\1}", path)
    path = re.sub(r"/<(?:\w+:)?(\w+)>", r"/{\1}", path)
    path = re.sub(r"/\[(\w+)\]", r"/{\1}", path)
    path = re.sub(r"\{\s*(\w+)\s*\}", r"{\1}", path)
    path = re.sub(r"/{2,}", "/", path)
    if len(path) > 1:
        path = path.rstrip("/")
    names = [name for name, _ in parse_qsl(query, keep_blank_values=True)]
    return path or "/", names


def base_path(elements: list[Element]) -> str:
    """The base path a spec states once (`Base URL: http://localhost:3000/api`, or a
    heading "Base URL" over a list of URLs), or ''."""
    section = 0  # the level of a heading naming the base, while inside its section
    for element in elements:
        if element.kind == HEADING:
            section = element.level if _BASE_WORD.search(element.text) else 0
            continue
        texts: list[str] = []
        if element.kind in (LINE, ITEM):
            texts = [element.text]
        elif element.kind == TABLE:
            texts = [" ".join(row) for row in element.rows]
        for text in texts:
            if not (section or _BASE_WORD.search(text)):
                continue
            for match in _URL_OR_PATH.finditer(text):
                target = match["target"]
                path = template(urlsplit(target).path if "://" in target else target)[0]
                if path != "/":
                    return path
    return ""


def gather(mentions: list[Mention], elements: list[Element]) -> Endpoints:
    """Group the mentions into endpoints, keyed by method and template."""
    base = base_path(elements)
    outbound = _outbound_sections(elements)
    skipped: list[Skipped] = []
    written: list[tuple[Mention, str, list[str]]] = []
    for mention in mentions:
        path, query = template(mention.path)
        reason = _skip_reason(path, mention, outbound)
        if reason:
            skipped.append(Skipped(mention.method, path, mention.line, reason))
            continue
        written.append((mention, path, query))
    # A spec writes its paths in full (with the base) or short (without it); examples with
    # a host or a `{{baseUrl}}` say nothing of that, the others vote, a tie for in full.
    voters = [path for mention, path, _ in written if not _HOSTED.match(mention.path)]
    with_base = base and 2 * sum(_under(path, base) for path in voters) >= len(voters)
    by_key: dict[tuple[str, str], Endpoint] = {}
    keys_in_order: list[tuple[str, str]] = []
    for mention, path, query in sorted(written, key=lambda w: _PRIMARY.index(w[0].how)):
        full = _full(path, base, bool(with_base), {p for _, p, _ in written})
        key = (mention.method, full)
        if key not in by_key:
            by_key[key] = Endpoint(mention.method, full, [])
            keys_in_order.append(key)
        by_key[key].mentions.append(mention)
        by_key[key].query.extend(q for q in query if q not in by_key[key].query)
    endpoints = _examples_to_templates([by_key[key] for key in keys_in_order])
    endpoints.sort(key=lambda e: min(m.line for m in e.mentions))
    return Endpoints(endpoints, base, skipped)


def _under(path: str, base: str) -> bool:
    return path == base or path.startswith(base.rstrip("/") + "/")


def _full(path: str, base: str, with_base: bool, all_paths: set[str]) -> str:
    """The path with the base, as the service serves it."""
    if not base or _under(path, base):
        return path
    joined = base.rstrip("/") + path
    if not with_base or joined in all_paths:
        return joined  # the spec writes paths without the base, or this one elsewhere with it
    return path  # written in full elsewhere: this one is outside the base


def _skip_reason(path: str, mention: Mention, outbound: set[int]) -> str:
    segments = [s for s in path.split("/") if s]
    if not segments:
        return "a method with no path"
    if any(_PLACEHOLDER.match(s) for s in segments):
        return "a placeholder, not an endpoint"
    if mention.element in outbound:
        return "an API the service calls, not one it serves"
    return ""


def _outbound_sections(elements: list[Element]) -> set[int]:
    """Indexes of the elements under a heading about an API the service calls."""
    inside: set[int] = set()
    level = 0
    for index, element in enumerate(elements):
        if element.kind == HEADING:
            if level and element.level <= level:
                level = 0
            if not level and _OUTBOUND.search(element.text):
                level = element.level
        if level:
            inside.add(index)
    return inside


def _examples_to_templates(endpoints: list[Endpoint]) -> list[Endpoint]:
    """Fold examples into their templates: `/orders/42` anywhere, and `/oauth/google` in
    the section of `/oauth/{provider}`; a lone example with values becomes a template."""
    starts = sorted(e.primary.line for e in endpoints)
    templates = [e for e in endpoints if "{" in e.path]
    kept: list[Endpoint] = []
    for endpoint in endpoints:
        segments = endpoint.path.split("/")
        concrete = any(_CONCRETE.match(s) for s in segments)
        match = None
        if "{" not in endpoint.path:
            match = next(
                (t for t in templates if _fits(segments, t, endpoint, concrete, starts)), None
            )
        if match is not None:
            match.mentions.extend(endpoint.mentions)
            continue
        if "{" in endpoint.path or not concrete:
            kept.append(endpoint)
            continue
        endpoint.path = "/".join("{id}" if _CONCRETE.match(s) else s for s in segments)
        endpoint.guesses.append(f"{endpoint.path}: a template of an example with values")
        twin = next(
            (k for k in kept if (k.method, k.path) == (endpoint.method, endpoint.path)), None
        )
        if twin is not None:
            twin.mentions.extend(endpoint.mentions)
        else:
            kept.append(endpoint)
    return kept


def _fits(
    segments: list[str], template: Endpoint, example: Endpoint, concrete: bool, starts: list[int]
) -> bool:
    pattern = template.path.split("/")
    if template.method != example.method or len(segments) != len(pattern):
        return False
    for segment, part in zip(segments, pattern, strict=True):
        if segment != part and not (part.startswith("{") and part.endswith("}")):
            return False
    if concrete:
        return True
    # A word where the template has a parameter (`/users/me`) may be an endpoint of its own:
    # it is an example only inside the template's section.
    first = example.primary.line
    after = [line for line in starts if line > template.primary.line and line != first]
    return template.primary.line < first < (after[0] if after else 1 << 30)
