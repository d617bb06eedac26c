"""One setting's declaration: its type, default, variable, contract key, flag and help,
and how a value from any source is checked against it."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
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
    kind: type  # str, int, float or bool; a list of names is a str in the environment
    default: Any
    help: str
    contract_key: str | None = None
    contract_types: tuple[type, ...] = ()  # what the contract may write; default: (kind,)
    flag: bool = False  # a command-line option --<name-with-dashes>
    flag_const: str | None = None  # a switch that sets this value (--production)
    flag_name: str | None = None
    metavar: str = ""
    secret: bool = False
    minimum: float | None = None
    maximum: float | None = None
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
        if isinstance(self.default, float):
            return f"{self.default:g}"
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
        elif self.kind is float:
            parsed = _number(value)
            low = self.minimum
            if parsed is None or (low is not None and parsed < low):
                bounds = f" of at least {low:g}" if low is not None else ""
                self._refuse(value, origin, f"must be a number{bounds}, such as 2 or 0.5")
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
        if isinstance(value, float):
            return f"{value:g}"
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


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) if math.isfinite(value) else None
    text = str(value).strip()
    # Plain decimals only, as for whole numbers: no "inf", "nan", "1e3" or "1_000".
    return float(text) if re.fullmatch(r"-?[0-9]+(\.[0-9]+)?", text) else None


def database_scheme(url: str) -> str:
    """`sqlite`, `postgresql`, `mysql`, ... : the URL's scheme without its driver."""
    return url.split(":", 1)[0].split("+", 1)[0].strip().lower()
