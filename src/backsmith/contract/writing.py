"""Write a contract document out as YAML or JSON, as a person would keep it in a repository."""

from __future__ import annotations

import json
from typing import Any

import yaml


def render(document: dict[str, Any], as_json: bool = False) -> str:
    """The document as YAML, keys in their order, or as indented JSON."""
    if as_json:
        return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    return str(yaml.dump(document, Dumper=_Dumper, sort_keys=False, allow_unicode=True))


# libyaml's emitter where PyYAML was built with it: ten times the pure-Python one's speed.
_BaseDumper: type = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class _Dumper(_BaseDumper):  # type: ignore[misc]
    """Writes a value that two places share at both, never as an anchor and an alias."""

    def ignore_aliases(self, data: Any) -> bool:
        return True

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> Any:
        return super().increase_indent(flow, False)  # list items indented under their key
