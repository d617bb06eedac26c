# Two commands a new user needs (see README):
#   make serve   set up, then serve the bookshop example on SQLite (./backsmith.db)
#   make test    set up, then lint, type-check and run the tests (SQLite and PostgreSQL) with coverage
#   make bench   the speed benchmark against peers (README, "Speed")
VENV ?= .venv
PYTHON ?= python3
STAMP := $(VENV)/.installed-stamp

.PHONY: serve test lint setup bench

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[test]'
	$(VENV)/bin/python -m compileall -q src  # bytecode now, not on every start
	touch $(STAMP)

serve: $(STAMP)
	$(VENV)/bin/backsmith serve examples/bookshop/api-spec.md

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

test: lint
	$(VENV)/bin/pytest --cov=backsmith --cov-report=term --cov-fail-under=85 -p no:cacheprovider

bench: $(STAMP)
	bash benchmarks/run.sh
