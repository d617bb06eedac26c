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

from backsmith.contract.draft.mentions import Mention
from backsmith.contract.draft.paths import HOST, camel, host_of, template
from backsmith.contract.draft.scan import HEADING, ITEM, LINE, TABLE, Element
from backsmith.model.naming import singular, snake

# How strongly a mention says where an endpoint's details are: the first wins.
_PRIMARY = ("heading", "block", "facts", "line", "curl", "bullet", "sentence", "table", "index")
# Mentions that are examples of an endpoint, never an endpoint of their own beside a template.
_EXAMPLES = ("block", "curl", "sentence")
_PLACEHOLDER = re.compile(
    r"^(endpoint|endpoints|path|route|your[-_](?:endpoint|resource|path|route)|example|"
    r"foo|bar|baz|xxx+|something|api[-_]?endpoint|\.\.\.|\u2026)$",
    re.I,
)
# Segments a placeholder may stand beside: `/api/endpoint`, `/v2/{resource}/...`.
_PREFIX = re.compile(r"^(api|rest|v\d+(\.\d+)?|\{[\w-]+\})$", re.I)
_CONCRETE = re.compile(
    r"^(\d+|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[a-z]+_\d+)$", re.I
)
_BASE_WORD = re.compile(r"\bbase\b|\bbasis|\bbaseurl|기본|基础|基本|cơ sở", re.I)
# Sections about an API the service calls, not one it serves (by their heading's words).
_OUTBOUND = re.compile(
    r"external|outbound|third[- ]party|upstream|외부|外部|第三方|extern|"
    r"externo|externa|bên ngoài|внешн",
    re.I,
)
_LOCAL_HOSTS = re.compile(r"^https?://(localhost|127\.0\.0\.1|0\.0\.0\.0|\[::1\])(:\d+)?$")
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


@dataclass(frozen=True, slots=True)
class Base:
    """What the spec says of where it is served: the base path and the hosts it names."""

    path: str = ""
    hosts: frozenset[str] = frozenset()


def base_of(elements: list[Element], before: int) -> Base:
    """The base path a spec states before its first endpoint (`Base URL:
    http://localhost:3000/api`, or a heading "Base URL" over a list of URLs), and the hosts
    its base URLs name."""
    section = 0  # the level of a heading naming the base, while inside its section
    path, hosts = "", set()
    for element in elements[:before]:
        if element.kind == HEADING:
            section = element.level if _BASE_WORD.search(element.text) else 0
            continue
        texts: list[str] = []
        if element.kind in (LINE, ITEM):
            texts = [element.text]
        elif element.kind == TABLE:
            texts = [" ".join(row) for row in element.rows]
        for text in texts:
            said = _BASE_WORD.search(text)
            for match in _URL_OR_PATH.finditer(text):
                if not section and (said is None or said.start() > match.start()):
                    continue
                target = match["target"]
                if host_of(target):
                    hosts.add(host_of(target))
                found = template(target)[0]
                if found != "/" and not path:
                    path = found
    return Base(path, frozenset(hosts))


def gather(mentions: list[Mention], elements: list[Element]) -> Endpoints:
    """Group the mentions into endpoints, keyed by method and template."""
    strong = [m.element for m in mentions if m.how not in ("sentence", "table", "index")]
    stated = base_of(elements, min(strong, default=len(elements)))
    base = stated.path
    outbound = _outbound_sections(elements)
    skipped: list[Skipped] = []
    written: list[tuple[Mention, str, list[str]]] = []
    for mention in mentions:
        path, query = template(mention.path)
        reason = _skip_reason(path, mention, outbound, stated.hosts)
        if reason:
            skipped.append(
                Skipped(mention.method, path if mention.path else "", mention.line, reason)
            )
            continue
        written.append((mention, path, query))
    # A spec writes its paths in full (with the base) or short (without it); examples with
    # a host or a `{{baseUrl}}` say nothing of that, the others vote, a tie for in full.
    voters = [path for mention, path, _ in written if not HOST.match(mention.path)]
    with_base = base and 2 * sum(_under(path, base) for path in voters) >= len(voters)
    by_key: dict[tuple[str, str], Endpoint] = {}
    keys_in_order: list[tuple[str, str]] = []
    all_paths = {p for _, p, _ in written}
    for mention, path, query in sorted(written, key=lambda w: _PRIMARY.index(w[0].how)):
        full = _full(path, base, bool(with_base), all_paths)
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


def _skip_reason(path: str, mention: Mention, outbound: set[int], hosts: frozenset[str]) -> str:
    if not mention.path:
        return "a method with no path"
    literal = [s for s in path.split("/") if s and not _PREFIX.match(s)]
    if literal and all(_PLACEHOLDER.match(s) for s in literal):
        return "a placeholder, not an endpoint"
    host = host_of(mention.path)
    foreign = host and hosts and host not in hosts and not _LOCAL_HOSTS.match(host)
    if mention.element in outbound or foreign:
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
        endpoint.path = _templated(segments)
        endpoint.guesses.append(f"{endpoint.path}: a template of an example with values")
        twin = next(
            (k for k in kept if (k.method, k.path) == (endpoint.method, endpoint.path)), None
        )
        if twin is not None:
            twin.mentions.extend(endpoint.mentions)
        else:
            kept.append(endpoint)
    return kept


def _templated(segments: list[str]) -> str:
    """`/orders/42/items/7` as `/orders/{orderId}/items/{itemId}`."""
    named: list[str] = []
    for index, segment in enumerate(segments):
        if not _CONCRETE.match(segment):
            named.append(segment)
            continue
        before = segments[index - 1] if index and not _CONCRETE.match(segments[index - 1]) else ""
        name = f"{camel(singular(snake(before)))}Id" if before else "id"
        while "{" + name + "}" in named:
            name += "2"
        named.append("{" + name + "}")
    return "/".join(named)


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
    # A word where the template has a parameter (`/users/me`) is an endpoint of its own
    # unless an example (a request block, a curl command) shows it in the template's section.
    if any(mention.how not in _EXAMPLES for mention in example.mentions):
        return False
    first = example.primary.line
    after = [line for line in starts if line > template.primary.line and line != first]
    return template.primary.line < first and (not after or first < after[0])
