# Two commands a new user needs (see README):
#   make serve   set up, then serve the bookshop example on SQLite (./backsmith.db)
#   make test    set up, then lint, type-check and run the tests (SQLite and PostgreSQL) with coverage
#   make bench   the speed benchmark against peers (README, "Speed")
VENV ?= .venv
PYTHON ?= python3
STAMP := $(VENV)/.installed-stamp

.PHONY: serve test lint setup bench

setup: $(STAMP)

# Each step says what it does: a first run takes about a minute, most of it installing.
$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "backsmith needs Python 3.11 or later")'
	@echo "backsmith: creating the virtualenv in $(VENV)"
	@$(PYTHON) -m venv $(VENV)
	@echo "backsmith: updating pip"
	@$(VENV)/bin/pip install --quiet --upgrade pip
	@echo "backsmith: installing backsmith and its dependencies (about a minute)"
	@$(VENV)/bin/pip install --quiet -e '.[test]'
	@echo "backsmith: compiling to bytecode, so starts do not"
	@$(VENV)/bin/python -m compileall -q src
	@touch $(STAMP)
	@echo "backsmith: set up in $(VENV)"

serve: $(STAMP)
	@echo "backsmith: starting; the first start applies the bookshop's migrations to ./backsmith.db"
	$(VENV)/bin/backsmith serve examples/bookshop/api-spec.md

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

# Two pytest-xdist workers, each test file on one of them (its module fixtures start once);
# tests marked runs_alone (latency measurements) wait until nothing else runs.
test: lint
	@bash scripts/test-services.sh
	$(VENV)/bin/pytest -n 2 --dist loadfile --cov=backsmith --cov-report=term --cov-fail-under=85 -p no:cacheprovider

bench: $(STAMP)
	bash benchmarks/run.sh
