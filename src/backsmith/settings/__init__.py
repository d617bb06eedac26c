"""Settings, declared once: each setting's type, default, variable, contract key, flag and help.

Precedence, lowest first: built-in default, the contract's root `x-backsmith`, the
environment (`BACKSMITH_*`), then command-line options. The declaration in `SETTINGS`
is the only list: the root `x-backsmith` keys that are settings, the command-line flags,
the README's settings table and `backsmith config` are all made from it, and a bad value
is refused with a message naming the setting and where the value came from.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from backsmith.settings.catalog import SETTINGS
from backsmith.settings.declared import (
    CONTRACT,
    DEFAULT,
    ENVIRONMENT,
    FLAG,
    Setting,
    SettingError,
    database_scheme,
)

__all__ = [
    "SETTINGS",
    "Resolved",
    "Setting",
    "SettingError",
    "Settings",
    "contract_keys",
    "database_scheme",
    "load_settings",
    "names",
    "resolve",
    "setting",
]

BY_NAME: dict[str, Setting] = {setting.name: setting for setting in SETTINGS}


def setting(name: str) -> Setting:
    """The declaration of one setting, by its name."""
    return BY_NAME[name]


def contract_keys() -> dict[str, tuple[tuple[type, ...], str]]:
    """The root `x-backsmith` keys that are settings: key -> (accepted types, help)."""
    return {s.contract_key: (s.accepted_types, s.help) for s in SETTINGS if s.contract_key}


@dataclass(frozen=True, slots=True)
class Settings:
    """The effective settings; its fields are exactly the declared settings (a test checks)."""

    database_url: str = "sqlite:///backsmith.db"
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    page_size: int = 20
    max_page_size: int = 100
    max_body_size: int = 1_048_576
    max_body_depth: int = 64
    server_timing: bool = False
    tracing: bool = False
    datetime_precision: str = "milliseconds"
    create_tables: bool = False
    migrations: str = ""
    base_path: str | None = None  # None: the contract's (see model.servers)
    ops_prefix: str = ""
    docs: bool = True
    ready_timeout_seconds: float = 2.0
    log_level: str = "info"
    log_format: str = "auto"
    metrics: bool = True
    metrics_path: str = "/metrics"
    metrics_token: str = ""
    metrics_role: str = ""
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
    redis_url: str = ""
    rate_limit_failure: str = "open"
    cache_entries: int = 10000
    pgbouncer: bool = False
    idempotency_hours: int = 24
    idempotency_lease_seconds: int = 60
    pool_size: int = 10
    pool_timeout_ms: int = 5000
    lock_timeout_ms: int = 2000
    statement_timeout_ms: int = 30000
    read_timeout_seconds: int = 10
    max_connections: int = 1000
    shutdown_seconds: int = 30
    trusted_proxies: str = ""
    hsts: int = 0
    cors_origins: Any = ""  # a list in the contract, comma-separated in the environment
    cors_credentials: bool = False
    hooks: str = ""
    webhooks: Any = ""  # a list in the contract, comma-separated in the environment
    webhook_secret: str = ""
    events_url: str = ""
    relay: bool = True
    event_attempts: int = 8
    event_retention_days: int = 7
    event_backoff_ms: int = 1000
    lint_ignore: Any = ""  # a list in the contract, comma-separated in the environment

    @property
    def production(self) -> bool:
        return self.env.strip().lower() == "production"

    @property
    def admin_role_names(self) -> frozenset[str]:
        return names(self.admin_roles)

    @property
    def webhook_urls(self) -> tuple[str, ...]:
        return _items(self.webhooks)

    @property
    def broker_urls(self) -> tuple[str, ...]:
        return _items(self.events_url)

    def environment(self) -> dict[str, str]:
        """Every setting as the `BACKSMITH_*` variables that reproduce it in another process."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values["admin_roles"] = ",".join(sorted(self.admin_role_names))
        values["cors_origins"] = ",".join(sorted(names(self.cors_origins)))
        values["webhooks"] = ",".join(self.webhook_urls)
        values["lint_ignore"] = ",".join(sorted(names(self.lint_ignore)))
        return {
            setting(name).env: str(value) for name, value in values.items() if value is not None
        }

    def dump(self) -> dict[str, Any]:
        """Every setting, secrets masked, for showing."""
        return {f.name: setting(f.name).shown(getattr(self, f.name)) for f in fields(self)}


def names(value: Any) -> frozenset[str]:
    """Role names from a list or a comma-separated string."""
    items = value.split(",") if isinstance(value, str) else value or ()
    return frozenset(str(item).strip() for item in items if str(item).strip())


def _items(value: Any) -> tuple[str, ...]:
    """URLs from a list or a comma-separated string, in the order given."""
    items = value.split(",") if isinstance(value, str) else value or ()
    return tuple(dict.fromkeys(str(item).strip() for item in items if str(item).strip()))


@dataclass(frozen=True, slots=True)
class Resolved:
    """One setting's effective value and where it came from."""

    setting: Setting
    value: Any
    source: str  # default, contract, environment or flag


def resolve(
    contract_options: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> dict[str, Resolved]:
    """Every declared setting's value and source; a bad value raises SettingError."""
    environ = os.environ if environ is None else environ
    contract_options = contract_options or {}
    overrides = overrides or {}
    unknown = sorted(set(overrides) - set(BY_NAME))
    if unknown:
        raise TypeError(f"not settings: {', '.join(unknown)}")
    resolved: dict[str, Resolved] = {}
    for declared in SETTINGS:
        value, source = declared.default, DEFAULT
        if declared.contract_key and declared.contract_key in contract_options:
            raw = contract_options[declared.contract_key]
            value, source = declared.parse(raw, CONTRACT), CONTRACT
        if declared.env in environ:
            value, source = environ[declared.env], ENVIRONMENT
            # The environment-only ones keep their raw text: an empty cache folder means off.
            if declared.attribute:
                value = declared.parse(value, ENVIRONMENT)
        if overrides.get(declared.name) is not None:
            value, source = declared.parse(overrides[declared.name], FLAG), FLAG
        resolved[declared.name] = Resolved(declared, value, source)
    return resolved


def load_settings(
    contract_options: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    **overrides: Any,
) -> Settings:
    """Settings from defaults, the contract, the environment and explicit overrides."""
    resolved = resolve(contract_options, environ, overrides)
    return Settings(
        **{name: item.value for name, item in resolved.items() if item.setting.attribute}
    )
