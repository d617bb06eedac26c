"""The declared settings as text for people: the README's Markdown table and `.env.example`.

Both are made from `SETTINGS` alone, so `backsmith config --markdown`, the service's
README (`backsmith docs`) and a new project's `.env.example` (`backsmith init`) always list
the same settings with the same defaults.
"""

from __future__ import annotations

from backsmith.settings.catalog import SETTINGS
from backsmith.settings.declared import Setting


def _default(declared: Setting) -> str:
    text = declared.default_text
    return text if text == "unset" else f"`{text}`"


def settings_table() -> str:
    """Every declared setting as the README's Markdown table."""
    lines = [
        "| setting | environment | flag | root `x-backsmith` key | default | what it does |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for declared in SETTINGS:
        flag = f"`{declared.option}`" if declared.flag else ""
        key = f"`{declared.contract_key}`" if declared.contract_key else ""
        help_text = declared.help + (" (environment only)" if not declared.attribute else "")
        lines.append(
            f"| {declared.name} | `{declared.env}` | {flag} | {key} | {_default(declared)} "
            f"| {help_text} |"
        )
    return "\n".join(lines)


def environment_example() -> str:
    """Every setting as a commented `BACKSMITH_*=default` line under its help: a file to
    copy to `.env`, uncomment and load into the environment, which is all backsmith reads."""
    lines = [
        "# backsmith's settings. backsmith reads the environment (BACKSMITH_*), the contract's",
        "# root x-backsmith and the command line, and no file: copy this one to .env, uncomment",
        "# what you change, and load it before a command (set -a; . ./.env; set +a).",
    ]
    for declared in SETTINGS:
        default = "" if declared.default_text == "unset" else declared.default_text
        lines += ["", f"# {declared.help} (default: {declared.default_text})"]
        lines.append(f"# {declared.env}={default}")
    return "\n".join(lines) + "\n"
