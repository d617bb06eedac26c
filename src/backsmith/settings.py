"""Settings, declared once: each has a default, an environment variable and a help text.

Precedence, lowest first: built-in default, the contract's root `x-backsmith`,
the environment (`BACKSMITH_*`), then command-line options.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any


@dataclass(frozen=True, slots=True)
class Setting:
    name: str
    default: Any
    help: str
    contract_key: str | None = None

    @property
    def env(self) -> str:
        return "BACKSMITH_" + self.name.upper()


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "database_url", "sqlite:///backsmith.db", "database URL (sqlite or postgresql)", "database"
    ),
    Setting("host", "127.0.0.1", "address to listen on"),
    Setting("port", 8000, "port to listen on"),
    Setting("workers", 1, "server worker processes"),
    Setting("page_size", 20, "default page size of list operations", "page-size"),
    Setting("max_page_size", 100, "largest page a client may ask for", "max-page-size"),
    Setting("max_body_size", 1_048_576, "largest request body, in bytes", "max-body-size"),
    Setting("max_body_depth", 64, "deepest nesting of arrays and objects in a request body"),
    Setting("server_timing", False, "send each request's step timings in a Server-Timing header"),
    Setting("create_tables", False, "create missing tables on PostgreSQL at start-up"),
    Setting(
        "migrations",
        "",
        "folder of migration files (default: migrations/ beside the contract)",
        "migrations",
    ),
    Setting("ops_prefix", "", "path prefix of /healthz, /readyz, /openapi.json and /docs"),
    Setting("docs", True, "serve /docs and /openapi.json"),
    Setting("log_level", "info", "log level: debug, info, warning, error"),
    Setting("env", "development", "development or production (production refuses open writes)"),
    Setting("jwt_secret", "", "secret of HS256/384/512 bearer tokens"),
    Setting("jwt_public_key", "", "PEM file of the public key of RS/ES/EdDSA bearer tokens"),
    Setting("jwt_jwks", "", "JWKS file or https URL of bearer token keys, chosen by kid"),
    Setting("jwt_algorithms", "", "accepted token algorithms, comma-separated (default: by key)"),
    Setting("jwt_issuer", "", "the iss tokens must carry (empty: not checked)"),
    Setting("jwt_audience", "", "the aud tokens must carry (empty: not checked)"),
    Setting("jwt_leeway", 60, "seconds of clock skew allowed on exp and nbf"),
    Setting("roles_claim", "roles", "token claim listing the caller's roles", "roles-claim"),
    Setting(
        "admin_roles", "admin", "roles that see every owner's rows, comma-separated", "admin-roles"
    ),
    Setting("access_token_seconds", 900, "lifetime of access tokens the accounts issue"),
    Setting("refresh_token_seconds", 2_592_000, "lifetime of refresh tokens (30 days)"),
    Setting("login_rate_limit", "5/minute", "login attempts per account and per address"),
    Setting("hsts", 0, "Strict-Transport-Security max-age in seconds (0: not sent)"),
    Setting(
        "cors_origins",
        "",
        "origins allowed to call from a browser, comma-separated",
        "cors-origins",
    ),
    Setting("cors_credentials", False, "let those origins send cookies and Authorization"),
)


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str = "sqlite:///backsmith.db"
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    page_size: int = 20
    max_page_size: int = 100
    max_body_size: int = 1_048_576
    max_body_depth: int = 64
    server_timing: bool = False
    create_tables: bool = False
    migrations: str = ""
    ops_prefix: str = ""
    docs: bool = True
    log_level: str = "info"
    env: str = "development"
    jwt_secret: str = ""
    jwt_public_key: str = ""
    jwt_jwks: str = ""
    jwt_algorithms: str = ""
    jwt_issuer: str = ""
    jwt_audience: str = ""
    jwt_leeway: int = 60
    roles_claim: str = "roles"
    admin_roles: Any = "admin"  # a list in the contract, comma-separated in the environment
    access_token_seconds: int = 900
    refresh_token_seconds: int = 2_592_000
    login_rate_limit: str = "5/minute"
    hsts: int = 0
    cors_origins: Any = ""  # a list in the contract, comma-separated in the environment
    cors_credentials: bool = False

    @property
    def production(self) -> bool:
        return self.env.strip().lower() == "production"

    @property
    def admin_role_names(self) -> frozenset[str]:
        return names(self.admin_roles)

    def environment(self) -> dict[str, str]:
        """Every setting as the `BACKSMITH_*` variables that reproduce it in another process."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values["admin_roles"] = ",".join(sorted(self.admin_role_names))
        values["cors_origins"] = ",".join(sorted(names(self.cors_origins)))
        return {f"BACKSMITH_{name.upper()}": str(value) for name, value in values.items()}

    def dump(self) -> dict[str, Any]:
        """Every setting, secrets masked, for showing."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        if values["jwt_secret"]:
            values["jwt_secret"] = "***"
        return values


def names(value: Any) -> frozenset[str]:
    """Role names from a list or a comma-separated string."""
    items = value.split(",") if isinstance(value, str) else value or ()
    return frozenset(str(item).strip() for item in items if str(item).strip())


def _coerce(value: str, default: Any) -> Any:
    if isinstance(default, bool):
        return value.strip().lower() in {"1", "true", "yes", "on"}
    if isinstance(default, int):
        return int(value)
    return value


def load_settings(
    contract_options: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    **overrides: Any,
) -> Settings:
    """Settings from defaults, the contract, the environment and explicit overrides."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for setting in SETTINGS:
        if contract_options and setting.contract_key in contract_options:
            values[setting.name] = contract_options[setting.contract_key]
        if setting.env in environ:
            try:
                values[setting.name] = _coerce(environ[setting.env], setting.default)
            except ValueError:
                raise ValueError(
                    f"{setting.env} must be a {type(setting.default).__name__}"
                ) from None
    values.update({k: v for k, v in overrides.items() if v is not None})
    return replace(Settings(), **values)
