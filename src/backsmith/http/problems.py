"""The one RFC 9457 application/problem+json renderer (`http.error_bodies` chooses it)."""

from __future__ import annotations

from typing import Any

import orjson

from backsmith.errors import Problem
from backsmith.http.response import Response

PROBLEM_TYPE = "urn:backsmith:problem:"


def problem_response(
    problem: Problem, instance: str | None = None, status: int | None = None
) -> Response:
    """The problem as problem+json; `status`: the one the operation declares for it."""
    status = status or problem.status
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE + problem.slug,
        "title": problem.title,
        "status": status,
        "detail": problem.detail,
        "code": problem.code,  # stable, listed in docs/errors.md
    }
    if instance:
        body["instance"] = instance
    if problem.errors:
        body["errors"] = problem.errors
    headers = [(k.encode(), v.encode()) for k, v in problem.headers.items()]
    return Response(status, orjson.dumps(body), b"application/problem+json", headers)
