"""What the contract says about who may call each operation.

OpenAPI's security model, read once: `components.securitySchemes`, the root `security`
and each operation's own (which replaces the root's; `security: []` makes it public).
A list of requirement objects is a choice: any one satisfied admits the caller, and every
scheme inside one must pass. `x-backsmith` adds `roles` and `public`, and a schema's
`owner` (see `owners`).
"""

from __future__ import annotations

from typing import Any

from backsmith.contract.source import escape
from backsmith.errors import Issue
from backsmith.model.schemas import deref
from backsmith.model.types import (
    API_KEY,
    BASIC,
    BEARER_JWT,
    PREFIXED_JWT,
    UNSUPPORTED,
    Access,
    ParamLocation,
    Requirement,
    Scheme,
)


def read_schemes(document: dict[str, Any], accounts: bool = False) -> dict[str, Scheme]:
    """Every declared security scheme (`accounts`: the contract has built-in accounts)."""
    declared = (document.get("components") or {}).get("securitySchemes") or {}
    schemes = {}
    for name, raw in declared.items():
        spec = deref(document, raw) if isinstance(raw, dict) else {}
        schemes[name] = _scheme(str(name), spec if isinstance(spec, dict) else {}, accounts)
    return schemes


def _scheme(name: str, spec: dict[str, Any], accounts: bool) -> Scheme:
    kind = str(spec.get("type", ""))
    ext = spec.get("x-backsmith") or {}
    if kind == "http":
        http = str(spec.get("scheme", "")).lower()
        if http == "bearer":
            return Scheme(name, BEARER_JWT, kind)
        if http == "basic" and accounts:
            return Scheme(name, BASIC, kind, prefix="Basic")
        reason = (
            "http basic checks the built-in accounts, and no operation declares them "
            "(x-backsmith: {kind: register | login | me})"
            if http == "basic"
            else f"http scheme '{http}' is not supported"
        )
        # The scheme's own word (Basic, Digest), for the challenge of a 401 all the same.
        return Scheme(name, UNSUPPORTED, kind, prefix=http.capitalize(), reason=reason)
    if kind in ("oauth2", "openIdConnect"):
        return Scheme(name, BEARER_JWT, kind, scoped=True)
    if kind == "apiKey":
        location = str(spec.get("in", "header"))
        parameter = str(spec.get("name", ""))
        if isinstance(ext, dict) and ext.get("format") == "jwt":
            if location != "header" or parameter.lower() != "authorization":
                reason = "a JWT apiKey is read from the Authorization header only"
                return Scheme(name, UNSUPPORTED, kind, prefix="", reason=reason)
            prefix = str(ext.get("prefix", "Bearer"))
            return Scheme(name, PREFIXED_JWT, kind, ParamLocation.HEADER, "authorization", prefix)
        if location not in ("header", "query", "cookie") or not parameter:
            reason = "an apiKey needs `in` (header, query or cookie) and a `name`"
            return Scheme(name, UNSUPPORTED, kind, prefix="", reason=reason)
        key_name = parameter.lower() if location == "header" else parameter
        return Scheme(name, API_KEY, kind, ParamLocation(location), key_name, prefix="")
    return Scheme(
        name, UNSUPPORTED, kind, prefix="", reason=f"scheme type '{kind}' is not supported"
    )


def _requirements(value: Any) -> tuple[Requirement, ...] | None:
    if not isinstance(value, list):
        return None
    found = []
    for entry in value:
        if isinstance(entry, dict):
            found.append(
                tuple((str(k), tuple(str(s) for s in (v or []))) for k, v in entry.items())
            )
    return tuple(found)


def access_of(document: dict[str, Any], operation: dict[str, Any], ext: dict[str, Any]) -> Access:
    """An operation's access: its own `security`, else the root's, plus x-backsmith."""
    declared = operation["security"] if "security" in operation else document.get("security")
    roles = ext.get("roles") or ()
    return Access(
        requirements=_requirements(declared),
        roles=tuple(str(r) for r in ([roles] if isinstance(roles, str) else roles)),
        public=bool(ext.get("public")),
    )


def security_issues(
    contract: Any, schemes: dict[str, Scheme], operations: list[Any]
) -> list[Issue]:
    """Requirements this version cannot verify: an unknown scheme, or one it does not have.

    An operation is only refused when none of its alternatives can be verified; the issue
    points at its `security`, or the root's when it inherits that.
    """
    issues = []
    for op in operations:
        requirements = op.access.requirements
        if not requirements:
            continue
        problems = []
        for requirement in requirements:
            missing = [
                _gap(name, schemes) for name, _ in requirement if _gap(name, schemes) is not None
            ]
            if not missing:
                break
            problems.extend(missing)
        else:
            path, method = op.path, op.method.lower()
            item = (contract.document.get("paths") or {}).get(path) or {}
            own = isinstance(item.get(method), dict) and "security" in item[method]
            pointer = f"/paths/{escape(path)}/{method}/security" if own else "/security"
            detail = "; ".join(dict.fromkeys(str(p) for p in problems))
            message = f"{op.method} {path} cannot be secured as declared: {detail}"
            issues.append(contract.issue(message, pointer))
    return issues


def _gap(name: str, schemes: dict[str, Scheme]) -> str | None:
    scheme = schemes.get(name)
    if scheme is None:
        return f"no security scheme '{name}' is declared in components.securitySchemes"
    if scheme.kind == UNSUPPORTED:
        return f"'{name}': {scheme.reason}"
    return None
