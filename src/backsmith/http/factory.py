"""Build the app from the environment, so every server worker process can import it."""

from __future__ import annotations

import os

from backsmith.api import load_model
from backsmith.http.app import BacksmithApp, create_app
from backsmith.logs import log_to_stderr
from backsmith.settings import load_settings, setting

CONTRACT_ENV = setting("contract").env
DBML_ENV = setting("dbml").env


def from_environment() -> BacksmithApp:
    """The app for the contract named by BACKSMITH_CONTRACT (and BACKSMITH_DBML)."""
    model = load_model(os.environ[CONTRACT_ENV], os.environ.get(DBML_ENV) or None)
    settings = load_settings(model.options)
    log_to_stderr(settings.log_level)
    return create_app(model, settings)
