# Two commands: `make run` (the platform on embedded defaults with demo data) and
# `make test` (the whole suite). Both need only Python 3.11+ and make; the first call
# creates .venv from uv.lock.

PYTHON ?= python3
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv

.PHONY: run test test-resilience lint bench-list

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet --disable-pip-version-check uv==0.13.9

$(VENV)/.synced: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --python $(PYTHON) --compile-bytecode
	touch $@

run: $(VENV)/.synced
	$(VENV)/bin/dealerhub demo

# The suite on SQLite with the in-process job broker, then again on PostgreSQL (as the
# non-owning app role) with Redis; the second run skips with a printed reason where no
# PostgreSQL or Redis answers, except under CI=true where it must run. The fault-injection
# tests are left to `test-resilience`.
test: $(VENV)/.synced
	$(VENV)/bin/pytest -q -p no:cacheprovider -m "not resilience"
	DEALERHUB_TEST_DB=postgres DEALERHUB_TEST_REDIS=1 $(VENV)/bin/pytest -q -p no:cacheprovider -m "not browser and not resilience"

# Fault injection with the real processes (a few minutes): the run starts its own PostgreSQL
# cluster and Redis, crashes and restarts them, and prints the scenario table (also in
# var/resilience.txt). Without PostgreSQL's server binaries it skips, except under CI=true;
# an empty selection is pytest's exit 5, which fails like any other.
test-resilience: $(VENV)/.synced
	DEALERHUB_TEST_DB=postgres DEALERHUB_TEST_PG_ADMIN=private $(VENV)/bin/pytest -q -p no:cacheprovider -m resilience tests/resilience

lint: $(VENV)/.synced
	$(VENV)/bin/ruff check .

bench-list: $(VENV)/.synced
	$(VENV)/bin/python -m bench
