"""Read one endpoint's section: its request body, answers, parameters and auth.

The reading follows the order of the text, as a person does: what comes before the first
status code (`201 Created`, `- 401: ...`, `**Response 200 OK**`) is the request, what
follows a status is that answer. Bodies come from JSON examples and TypeScript-like notes,
fields from tables and `name: type` bullets; a GET's fields are its query parameters. A
few words (request, response, query, in several languages) only sharpen that order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from http import HTTPStatus

from backsmith.contract.draft.endpoints import Endpoint
from backsmith.contract.draft.paths import params as path_params
from backsmith.contract.draft.scan import FENCE, HEADING, ITEM, TABLE, Element
from backsmith.contract.draft.sketch import Sketch, read_sketch
from backsmith.contract.draft.tables import Field, fields_of, item_field, read_facts

_STATUS = re.compile(r"(?<![A-Za-z0-9_.:/#-])([2-5]\d\d)(?![A-Za-z0-9_.%/-]|\.\d)")
_KNOWN = frozenset(str(status.value) for status in HTTPStatus)
# What may stand right before a status: a label's colon, a parenthesis, a code mark,
# `HTTP/1.1`, or a letter of a script that writes no spaces (`成功返回201`).
_STATUS_LEAD = re.compile(r"(?:[:\uff1a(\uff08`]|HTTP/\d(?:\.\d)?\s|[\u2e80-\uffef])\s*$")
_MORE_STATUSES = re.compile(r"`([2-5]\d\d)\b[^`]*`")
_QUERY_WORD = re.compile(r"\bquery\b|쿼리|查询|查詢|クエリ|abfrage|consulta|truy vấn", re.I)
_RESPONSE_WORD = re.compile(
    r"\bresponse|\breturns?\b|응답|响应|回应|回應|レスポンス|antwort|resposta|respuesta|"
    r"réponse|phản hồi|ответ",
    re.I,
)
_REQUEST_WORD = re.compile(
    r"\brequest\b|\bbody\b|payload|요청|请求|請求|リクエスト|anfrage|requisição|solicitud|"
    r"corps|yêu cầu|запрос",
    re.I,
)
BEARER_WORDS = re.compile(r"authorization\s*:?\s*`?\s*bearer\b|\bbearer\s+(?:<|\{|token|jwt)", re.I)
_INLINE_BODY = re.compile(r"`(?P<body>[{\[].*?)`(?!`)|:\s*(?P<bare>\{.*\})\s*$")
_QUERY_STRING = re.compile(r"\?(?P<query>[\w.\[\]-]+=[^\s`]*)")
_CODE_NAME = re.compile(r"`([A-Za-z_][\w.\[\]-]*)`")
_HEADER_LINE = re.compile(r"^(?P<name>[A-Za-z][\w-]*)\s*:\s*(?P<value>\S.*)$")
BODY_METHODS = ("POST", "PUT", "PATCH")
_CURL_DATA = re.compile(
    r"(?:^|\s)(?:-d|--data(?:-raw|-binary)?|--json)\s+(['\"])(?P<body>[{\[].*)\1"
)


@dataclass(slots=True)
class Body:
    """A body: the sketch of its example (if any) and the fields tables or bullets list."""

    line: int
    sketch: Sketch | None = None
    fields: list[Field] = field(default_factory=list)
    type_name: str = ""  # `ApiResponse<UserResponse>`: the named type it is


@dataclass(slots=True)
class Answer:
    """One response: its status as written, what the text says of it, and its body."""

    status: str
    line: int
    description: str = ""
    body: Body | None = None


@dataclass(slots=True)
class Details:
    """What an endpoint's section says."""

    description: str = ""
    request: Body | None = None
    answers: dict[str, Answer] = field(default_factory=dict)
    query: list[Field] = field(default_factory=list)
    path: dict[str, Field] = field(default_factory=dict)
    headers: list[Field] = field(default_factory=list)
    auth: str = ""  # "bearer", "none", or "" when the section does not say


def status_in(text: str) -> tuple[str, str] | None:
    """The status code a line states (`201 Created`, `- 401: ...`, `Response 200:`), and
    the words after; a number elsewhere in a sentence (`up to 250 users`) is none."""
    for match in _STATUS.finditer(text):
        prefix = text[: match.start()]
        if len(prefix) > 40:
            break
        code = match[1]
        if code not in _KNOWN:
            continue
        bare = prefix.strip(" \t>*_`-")
        rest = text[match.end() :]
        phrase = HTTPStatus(int(code)).phrase.lower()
        if (
            not bare
            or _STATUS_LEAD.search(prefix.rstrip(" *_"))
            or _RESPONSE_WORD.fullmatch(bare.strip(" :"))
            or rest.strip(" `*").lower().startswith(phrase)
        ):
            return code, rest.strip(" `*_:\u2014\u2013-()\uff08\uff09")
    return None


class _Reader:
    """The state of reading one section in order."""

    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint
        self.details = Details()
        self.status = ""  # the answer being read; "" while reading the request
        self.query_mode = False

    @property
    def has_body(self) -> bool:
        return self.endpoint.method in BODY_METHODS

    def read(self, elements: list[Element]) -> Details:
        for element in elements:
            if element.kind == FENCE:
                self._body(element)
            elif element.kind == TABLE:
                self._table(element)
            else:
                self._text(element)
        return self.details

    def _answer(self, status: str, line: int) -> Answer:
        answers = self.details.answers
        if status not in answers:
            answers[status] = Answer(status, line)
        return answers[status]

    def _text(self, element: Element) -> None:
        text = element.text.strip()
        if element.kind == HEADING:
            self.query_mode = False
        if BEARER_WORDS.search(text) and not self.status:
            self.details.auth = "bearer"  # said of the request, not in an answer's words
        data = _CURL_DATA.search(text)
        if data and self.has_body and self.details.request is None:
            self.details.request = Body(element.line, read_sketch(data["body"]))  # curl -d '{...}'
            return
        found = status_in(text)
        named = element.kind == ITEM and not text.lstrip(" -*`")[:1].isdigit()
        if found is not None and named and item_field(text, element.line) is not None:
            found = None  # `- limit (integer): 500`: a field, not an answer
        if found is not None:
            self.status, rest = found
            answer = self._answer(self.status, element.line)
            more = list(_MORE_STATUSES.finditer(rest))
            answer.description = answer.description or _words(
                rest[: more[0].start()] if more else rest
            )
            for index, other in enumerate(more):  # `201 Created ..., `409` when the title is taken`
                end = more[index + 1].start() if index + 1 < len(more) else len(rest)
                said = self._answer(other[1], element.line)
                said.description = said.description or _words(rest[other.end() : end])
            self.query_mode = False
            self._inline(text, element.line, answer)
            return
        if _QUERY_WORD.search(text) and not _INLINE_BODY.search(text):
            self.query_mode = True
            self._query_names(text, element.line)
            return
        inline = _INLINE_BODY.search(text)
        if _RESPONSE_WORD.search(text) and not (inline and self._is_request_label(text)):
            self.status = self.status or "default"
            self.query_mode = False
            if inline:
                self._inline(text, element.line, self._answer(self.status, element.line))
            return
        if _REQUEST_WORD.search(text):
            self.query_mode = False
            if len(text) <= 40 or inline:
                self.status = ""  # `**Request**`: back to the request, whatever came before
            if inline and self.has_body and self.details.request is None:
                sketch = read_sketch(inline["body"] or inline["bare"])
                self.details.request = Body(element.line, sketch)
            return
        if element.kind == ITEM:
            self._item(element)
        elif not self.details.description and element.kind != HEADING and _prose(text):
            self.details.description = text

    def _is_request_label(self, text: str) -> bool:
        request = _REQUEST_WORD.search(text)
        response = _RESPONSE_WORD.search(text)
        return bool(request and response and request.start() < response.start())

    def _inline(self, text: str, line: int, answer: Answer) -> None:
        inline = _INLINE_BODY.search(text)
        if inline and answer.body is None:
            sketch = read_sketch(inline["body"] or inline["bare"])
            if sketch is not None:
                answer.body = Body(line, sketch)
        named = re.search(r"`?([A-Z]\w*)<([A-Z]\w*)>`?", text)
        if named and named[2].lower() != "null":
            answer.body = answer.body or Body(line)
            answer.body.type_name = named[2]

    def _query_names(self, text: str, line: int) -> None:
        for match in _QUERY_STRING.finditer(text):
            for pair in match["query"].split("&"):
                name, _, value = pair.partition("=")
                self._add_query(Field(name, line, example=value or None))
        if not _QUERY_STRING.search(text):
            for name in _CODE_NAME.findall(text):
                self._add_query(Field(name, line))

    def _add_query(self, new: Field) -> None:
        if new.name and all(f.name != new.name for f in self.details.query):
            self.details.query.append(new)

    def _item(self, element: Element) -> None:
        found = item_field(element.text, element.line)
        if found is None:
            return
        if self.query_mode or (not self.has_body and not self.status):
            self._add_query(found)
        elif not self.status and self.has_body:
            self.details.request = self.details.request or Body(element.line)
            self.details.request.fields.append(found)

    def _placed(self, fields: list[Field]) -> None:
        for one in fields:
            if one.location == "path":
                self.details.path[one.name] = one
            elif one.location == "query":
                self._add_query(one)
            elif one.location == "header":
                self.details.headers.append(one)
            elif self.has_body:
                self.details.request = self.details.request or Body(one.line)
                self.details.request.fields.append(one)

    def _body(self, element: Element) -> None:
        sketch = read_sketch(element.text)
        if sketch is None:
            for line in element.text.splitlines():
                if BEARER_WORDS.search(line):
                    self.details.auth = "bearer"
            return
        request = self.details.request
        if not self.status and self.has_body and request is None:
            self.details.request = Body(element.line, sketch)
            return
        if not self.status and self.has_body and request is not None and request.sketch is None:
            request.sketch = sketch
            return
        answer = self._answer(self.status or "default", element.line)
        if answer.body is None:
            answer.body = Body(element.line, sketch)
        elif answer.body.sketch is None:
            answer.body.sketch = sketch

    def _table(self, element: Element) -> None:
        facts = read_facts(element)
        if facts is not None:
            if facts.get("auth"):
                self.details.auth = facts["auth"]
            return
        statuses = status_rows(element)
        if statuses:
            for status, description, line in statuses:
                answer = self._answer(status, line)
                answer.description = answer.description or description
            return
        found = fields_of(element)
        if not found:
            return
        placed = [f for f in found if f.location]
        if placed:  # a parameters table with an "in" column: each where it says
            self._placed(placed)
            found = [f for f in found if not f.location]
            if not found:
                return
        params = set(path_params(self.endpoint.path))
        if params and all(f.name in params for f in found):
            self.details.path.update({f.name: f for f in found})
        elif all(_looks_like_header(f.name) for f in found):
            self.details.headers.extend(found)
            if any(f.name.lower() == "authorization" for f in found):
                self.details.auth = self.details.auth or "bearer"
        elif self.query_mode or (not self.has_body and not self.status):
            for one in found:
                self._add_query(one)
        elif not self.status:
            self.details.request = self.details.request or Body(element.line)
            self.details.request.fields.extend(found)
        else:
            answer = self._answer(self.status, element.line)
            answer.body = answer.body or Body(element.line)
            answer.body.fields.extend(found)


def status_rows(table: Element) -> list[tuple[str, str, int]]:
    """(status, description, line) of a table whose first column is status codes."""
    rows = list(zip(table.rows[1:], table.row_lines[1:], strict=False))
    found = []
    for row, line in rows:
        code = re.fullmatch(r"[`*]*([1-5]\d\d)\b[^|]*", row[0].strip()) if row else None
        if code is None:
            return []
        rest = " ".join(cell for cell in row[1:] if cell.strip())
        found.append((code[1], _words(rest or row[0][code.end(1) :]), line))
    return found


def _prose(text: str) -> bool:
    """A line of description: not a body, a `Header: value` line or a bold label."""
    if _INLINE_BODY.search(text) or re.fullmatch(r"\*\*[^*]+\*\*:?|[^:]{1,40}:", text):
        return False
    return not (_HEADER_LINE.match(text) and " " not in text.split(":", 1)[0])


def _looks_like_header(name: str) -> bool:
    return name.lower() == "authorization" or bool(
        re.fullmatch(r"(?:[A-Z][a-z0-9]*-)+[A-Z]\w*", name)
    )


def _words(text: str) -> str:
    return re.sub(r"[`*]", "", text).strip(" :.,;_\u2014\u2013-")


def read_details(endpoint: Endpoint, elements: list[Element]) -> Details:
    """What the section `elements` says of `endpoint`."""
    return _Reader(endpoint).read(elements)
