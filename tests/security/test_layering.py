"""The security package stands beside http/: it never loads the plans, handlers or the app."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import backsmith.security

HTTP_ASSEMBLY = {"backsmith.http.plans", "backsmith.http.handlers", "backsmith.http.app"}


def test_no_security_module_loads_the_plans_the_handlers_or_the_app() -> None:
    prefix = "backsmith.security."
    modules = [m.name for m in pkgutil.iter_modules(backsmith.security.__path__, prefix)]
    assert f"{prefix}account_handlers" in modules and len(modules) >= 9
    # A fresh interpreter: this one has loaded the app for other tests already.
    probe = f"import sys, {', '.join(modules)}; print(*{HTTP_ASSEMBLY!r} & set(sys.modules))"
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout.split()
    assert not loaded, f"the security package loads {loaded}"
