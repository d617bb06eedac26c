"""Contract diff: what a change from one version of a contract to the next does to the
clients of the old one, rule by rule (oasdiff's ids), breaking changes first."""

from backsmith.verify.diff.changes import Change, DiffReport
from backsmith.verify.diff.compare import diff_contracts
from backsmith.verify.diff.rules import RULES, Level, Rule

__all__ = ["RULES", "Change", "DiffReport", "Level", "Rule", "diff_contracts"]
