"""The draft's report: per endpoint, the lines it came from, how it is served, each guess.

It is Markdown, short enough to review in minutes: a summary, one section per endpoint in
the spec's order, the resources and their keys, and what was skipped and why.
"""

from __future__ import annotations

from backsmith.contract.draft.spec import Draft


def render_report(draft: Draft, served: dict[str, str]) -> str:
    """The report of `draft`; `served` maps operation ids to how `backsmith model` serves
    them (`list conversations`, `needs a handler: ...`)."""
    name = draft.file.rsplit("/", 1)[-1]
    crud = sum(1 for text in served.values() if not text.startswith("needs a handler"))
    lines = [
        f"# Draft of {name}",
        "",
        f"{_count(len(draft.endpoints), 'endpoint')} ({crud} served as CRUD, "
        f"{len(draft.endpoints) - crud} need a handler), "
        f"{_count(len(draft.resources), 'resource')}, {_count(draft.guesses, 'guess', 'es')}, "
        f"{len(draft.skipped)} skipped.",
        "",
    ]
    if draft.base:
        lines.append(f"- Base path: `{draft.base}`.")
    if draft.wrapper is not None:
        shown = ", ".join(str(line) for line in draft.wrapper.lines[:6])
        more = ", ..." if len(draft.wrapper.lines) > 6 else ""
        lines.append(
            f"- Every answer is wrapped: `{draft.wrapper.describe()}` "
            f"({len(draft.wrapper.lines)} answers, lines {shown}{more}); the drafted answers "
            "keep it."
        )
    schemes = (draft.document.get("components") or {}).get("securitySchemes") or {}
    for scheme, spec in schemes.items():
        lines.append(f"- Security scheme `{scheme}`: {_scheme(spec)}.")
    lines += ["", "## Endpoints", ""]
    for one in draft.endpoints:
        endpoint = one.endpoint
        lines.append(f"### {endpoint.method} {endpoint.path} ({name}:{endpoint.primary.line})")
        lines.append("")
        lines.append(f"- operation `{one.operation_id}`: {served.get(one.operation_id, '?')}")
        lines.append(f"- from lines {', '.join(str(line) for line in endpoint.lines)}")
        details = one.details
        if details.request is not None:
            what = "fields" if details.request.fields else "example"
            lines.append(f"- request body: {what} at line {details.request.line}")
        if details.query:
            params = ", ".join(f"`{q.name}`" for q in details.query)
            lines.append(f"- query: {params}")
        if details.answers:
            answers = ", ".join(
                f"{one.statuses.get(status, status)} (line {answer.line}"
                + (", status not stated)" if status == "default" else ")")
                for status, answer in details.answers.items()
            )
            lines.append(f"- answers: {answers}")
        for guess in endpoint.guesses + one.guesses:
            lines.append(f"- guess: {guess}")
        lines.append("")
    if draft.resources:
        lines += ["## Resources", ""]
        for resource in draft.resources:
            where = sorted({line for _, line in resource.rows + resource.writes})
            lines.append(
                f"- `{resource.table}` (schema `{resource.schema}`, key `{resource.key}`): "
                f"{resource.collection}, rows from lines {', '.join(map(str, where)) or '-'}"
            )
            lines.extend(f"  - guess: {guess}" for guess in resource.guesses)
        lines.append("")
    if draft.skipped:
        lines += ["## Skipped", ""]
        for skipped in draft.skipped:
            lines.append(
                f"- line {skipped.line}: {skipped.method} {skipped.path}: {skipped.reason}"
            )
        lines.append("")
    return "\n".join(lines)


def _count(number: int, word: str, plural: str = "s") -> str:
    return f"{number} {word}{'' if number == 1 else plural}"


def _scheme(spec: dict[str, object]) -> str:
    if spec.get("type") == "http":
        return f"HTTP {spec.get('scheme')} token"
    return f"API key in the {spec.get('in')} `{spec.get('name')}`"
