"""The one place problems become RFC 9457 application/problem+json responses."""

from __future__ import annotations

import logging
import secrets
from typing import Any

import orjson

from backsmith.errors import Problem
from backsmith.http.response import Response

PROBLEM_TYPE = "urn:backsmith:problem:"
log = logging.getLogger("backsmith")


def problem_response(problem: Problem, instance: str | None = None) -> Response:
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE + problem.slug,
        "title": problem.title,
        "status": problem.status,
        "detail": problem.detail,
        "code": problem.code,  # stable, listed in docs/errors.md
    }
    if instance:
        body["instance"] = instance
    if problem.errors:
        body["errors"] = problem.errors
    headers = [(k.encode(), v.encode()) for k, v in problem.headers.items()]
    return Response(problem.status, orjson.dumps(body), b"application/problem+json", headers)


def server_error(error: BaseException, instance: str | None = None) -> Response:
    """A 500 that names a request id and nothing of the fault; the log keeps the rest."""
    request_id = secrets.token_hex(8)
    log.error("unhandled error [request %s] %s", request_id, instance, exc_info=error)
    problem = Problem(f"An unexpected error occurred (request id {request_id}).")
    response = problem_response(problem, instance)
    response.headers.append((b"x-request-id", request_id.encode()))
    return response
