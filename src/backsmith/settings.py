"""Settings, declared once: each setting's type, default, variable, contract key, flag and help.

Precedence, lowest first: built-in default, the contract's root `x-backsmith`, the
environment (`BACKSMITH_*`), then command-line options. The declaration in `SETTINGS`
is the only list: the root `x-backsmith` keys that are settings, the command-line flags,
the README's settings table and `backsmith config` are all made from it, and a bad value
is refused with a message naming the setting and where the value came from.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import Any

from backsmith.errors import InputError

PREFIX = "BACKSMITH_"
DEFAULT, CONTRACT, ENVIRONMENT, FLAG = "default", "contract", "environment", "flag"
DATABASE_SCHEMES = ("sqlite", "postgresql", "postgres", "mysql", "mariadb")
_TRUE, _FALSE = {"true", "1", "yes", "on"}, {"false", "0", "no", "off"}


class SettingError(InputError):
    """A setting's value is unusable (exit code 2); the message names the setting."""


@dataclass(frozen=True, slots=True)
class Setting:
    """One setting: everything every reader of it needs to know."""

    name: str
    kind: type  # str, int or bool; a list of names is a str in the environment
    default: Any
    help: str
    contract_key: str | None = None
    contract_types: tuple[type, ...] = ()  # what the contract may write; default: (kind,)
    flag: bool = False  # a command-line option --<name-with-dashes>
    flag_const: str | None = None  # a switch that sets this value (--production)
    flag_name: str | None = None
    metavar: str = ""
    secret: bool = False
    minimum: int | None = None
    maximum: int | None = None
    choices: tuple[str, ...] = ()
    problem: Callable[[str], str | None] | None = None  # what is wrong with a text value
    attribute: bool = True  # False: read from the environment by one module, not in Settings

    @property
    def env(self) -> str:
        return PREFIX + self.name.upper()

    @property
    def option(self) -> str:
        return self.flag_name or "--" + self.name.replace("_", "-")

    @property
    def default_text(self) -> str:
        """The default as a person would write it: true/false, or "unset" when empty."""
        if isinstance(self.default, bool):
            return "true" if self.default else "false"
        return str(self.default) if self.default not in ("", None) else "unset"

    @property
    def accepted_types(self) -> tuple[type, ...]:
        return self.contract_types or (self.kind,)

    def parse(self, value: Any, origin: str) -> Any:
        """The value as the setting's type, or a SettingError naming the setting and origin."""
        if self.kind is bool:
            parsed: Any = _boolean(value)
            if parsed is None:
                self._refuse(value, origin, "must be true or false (1/0, yes/no, on/off)")
        elif self.kind is int:
            parsed = _integer(value)
            low, high = self.minimum, self.maximum
            if (
                parsed is None
                or (low is not None and parsed < low)
                or (high is not None and parsed > high)
            ):
                bounds = f"from {low} to {high}" if high is not None else f"of at least {low}"
                self._refuse(value, origin, f"must be a whole number {bounds}")
        elif isinstance(value, list | tuple) and list in self.accepted_types:
            parsed = [str(item) for item in value]
        else:
            parsed = str(value)
            if self.choices and parsed.strip().lower() not in self.choices:
                self._refuse(value, origin, "must be one of " + ", ".join(self.choices))
            wrong = self.problem(parsed) if self.problem else None
            if wrong:
                self._refuse(value, origin, wrong)
        return parsed

    def shown(self, value: Any) -> str:
        """The value as `config` shows it: secrets masked, a URL's password hidden."""
        if isinstance(value, bool):
            return "true" if value else "false"
        if value is None:
            return ""
        if isinstance(value, list | tuple):
            value = ",".join(str(item) for item in value)
        text = str(value)
        if self.secret and text:
            return "***"
        return _URL_PASSWORD.sub(r"\1***@", text)

    def _refuse(self, value: Any, origin: str, problem: str) -> None:
        shown = "***" if self.secret else self.shown(value)
        joined = " " if origin == FLAG else "="
        raise SettingError(f"{_where(self, origin)}{joined}{shown}: {self.name} {problem}")


_URL_PASSWORD = re.compile(r"(://[^:/@]*:)[^@]*@")


def _where(setting: Setting, origin: str) -> str:
    return {
        ENVIRONMENT: setting.env,
        FLAG: setting.option,
        CONTRACT: f"x-backsmith {setting.contract_key}",
    }.get(origin, setting.name)


def _boolean(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    return True if text in _TRUE else False if text in _FALSE else None


def _integer(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    text = str(value).strip()
    # Only plain ASCII digits: int() would also take full-width digits, "1_000" and "+1".
    return int(text) if re.fullmatch(r"-?[0-9]+", text) else None


def database_scheme(url: str) -> str:
    """`sqlite`, `postgresql`, `mysql`, ... : the URL's scheme without its driver."""
    return url.split(":", 1)[0].split("+", 1)[0].strip().lower()


def _database_url_problem(url: str) -> str | None:
    if "://" not in url or database_scheme(url) not in DATABASE_SCHEMES:
        return "must start with sqlite://, postgresql:// or mysql:// (MariaDB)"
    return None


def _module_problem(name: str) -> str | None:
    if name and not _MODULE.match(name.strip()):
        return "must be a Python module path such as shop.hooks"
    return None


_MODULE = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")


def _base_path_problem(path: str) -> str | None:
    if path and not path.startswith("/"):
        return "must be empty or a path starting with /, such as /api"
    if re.search(r"[?#{}\s]", path):
        return "must be a plain path: no query, fragment, {template} or spaces"
    return None


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "database_url",
        str,
        "sqlite:///backsmith.db",
        "database URL: sqlite:///file.db or postgresql://...; mysql://... (MariaDB) "
        "for migrations and seeds",
        "database",
        flag=True,
        metavar="URL",
        problem=_database_url_problem,
    ),
    Setting("host", str, "127.0.0.1", "address to listen on", flag=True),
    Setting("port", int, 8000, "port to listen on", flag=True, minimum=1, maximum=65535),
    Setting(
        "workers", int, 1, "server worker processes", flag=True, metavar="N", minimum=1, maximum=256
    ),
    Setting("page_size", int, 20, "default page size of lists", "page-size", minimum=1),
    Setting(
        "max_page_size", int, 100, "largest page a client may ask for", "max-page-size", minimum=1
    ),
    Setting(
        "max_body_size",
        int,
        1_048_576,
        "largest request body, in bytes",
        "max-body-size",
        minimum=1,
    ),
    Setting(
        "max_body_depth", int, 64, "deepest nesting of arrays and objects in a body", minimum=1
    ),
    Setting("server_timing", bool, False, "send each request's step timings in Server-Timing"),
    Setting(
        "datetime_precision",
        str,
        "milliseconds",
        "fractional digits of every date-time answered: seconds, milliseconds or microseconds",
        "datetime-precision",
        choices=("seconds", "milliseconds", "microseconds"),
    ),
    Setting(
        "create_tables", bool, False, "create missing tables on PostgreSQL at start-up", flag=True
    ),
    Setting(
        "migrations",
        str,
        "",
        "folder of migration files (empty: migrations/ beside the contract)",
        "migrations",
        flag=True,
        metavar="DIR",
    ),
    Setting(
        "base_path",
        str,
        None,
        "path the contract's operations are served under (unset: the path of the contract's "
        "first server URL; empty: none)",
        problem=_base_path_problem,
    ),
    Setting("ops_prefix", str, "", "path prefix of /healthz, /readyz, /openapi.json and /docs"),
    Setting("docs", bool, True, "serve /docs and /openapi.json"),
    Setting(
        "log_level",
        str,
        "info",
        "log level",
        choices=("critical", "error", "warning", "info", "debug"),
    ),
    Setting(
        "env",
        str,
        "development",
        "development, or production: refuse open writes, missing keys and weak secrets",
        flag=True,
        flag_const="production",
        flag_name="--production",
        choices=("development", "production"),
    ),
    Setting(
        "jwt_secret",
        str,
        "",
        "secret of HS256/384/512 bearer tokens (no key set: every token is refused)",
        secret=True,
    ),
    Setting("jwt_public_key", str, "", "PEM file of the public key of RS/ES/EdDSA tokens"),
    Setting("jwt_jwks", str, "", "JWKS file or https URL of token keys, chosen by kid"),
    Setting(
        "jwt_algorithms",
        str,
        "",
        "accepted token algorithms, comma-separated (empty: by key, HS256 or RS256,ES256,EdDSA)",
    ),
    Setting("jwt_issuer", str, "", "the iss tokens must carry (empty: not checked)"),
    Setting("jwt_audience", str, "", "the aud tokens must carry (empty: not checked)"),
    Setting("jwt_leeway", int, 60, "seconds of clock skew allowed on exp and nbf", minimum=0),
    Setting("roles_claim", str, "roles", "token claim listing the caller's roles", "roles-claim"),
    Setting(
        "admin_roles",
        str,
        "admin",
        "roles that see and change every owner's rows, comma-separated",
        "admin-roles",
        contract_types=(str, list),
    ),
    Setting(
        "access_token_seconds", int, 900, "lifetime of access tokens accounts issue", minimum=1
    ),
    Setting(
        "refresh_token_seconds", int, 2_592_000, "lifetime of refresh tokens (30 days)", minimum=1
    ),
    Setting("login_rate_limit", str, "5/minute", "logins per account and per client address"),
    Setting(
        "hsts", int, 0, "Strict-Transport-Security max-age in seconds (0: not sent)", minimum=0
    ),
    Setting(
        "cors_origins",
        str,
        "",
        "origins allowed to call from a browser, comma-separated",
        "cors-origins",
        contract_types=(str, list),
    ),
    Setting("cors_credentials", bool, False, "let those origins send cookies and Authorization"),
    Setting(
        "hooks",
        str,
        "",
        "Python module whose functions serve operations named by their operationId",
        "hooks",
        problem=_module_problem,
    ),
    Setting(
        "contract",
        str,
        "",
        "the contract `migrate` and the server's workers read when none is named",
        attribute=False,
    ),
    Setting("dbml", str, "", "the DBML model the server's workers read", attribute=False),
    Setting(
        "cache_dir",
        str,
        "~/.cache/backsmith",
        "store of contracts validated and DBML parsed before ($XDG_CACHE_HOME/backsmith "
        "when that is set; empty: off)",
        attribute=False,
    ),
)
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
    datetime_precision: str = "milliseconds"
    create_tables: bool = False
    migrations: str = ""
    base_path: str | None = None  # None: the contract's (see model.servers)
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
    hooks: str = ""

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
