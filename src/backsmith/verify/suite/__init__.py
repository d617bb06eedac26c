"""The contract test suite: checks derived from the contract, run against a service.

`run_suite(SuiteOptions(...))` starts the contract's service on a scratch database (or
targets a running one at a URL, backsmith's or hand-written) and, for every operation,
checks the happy path, validation, auth, not found, the declared policies, CRUD flows and
a schemathesis run; see docs/contract-tests.md.
"""

from backsmith.verify.suite.options import SuiteOptions
from backsmith.verify.suite.results import SuiteReport
from backsmith.verify.suite.runner import RESULTS_FILE, run_suite

__all__ = ["RESULTS_FILE", "SuiteOptions", "SuiteReport", "run_suite"]
