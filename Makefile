# Two commands: `make run` (the platform on embedded defaults with demo data) and
# `make test` (the whole suite). Both need only Python 3.11+ and make; the first call
# creates .venv from uv.lock.

PYTHON ?= python3
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv

.PHONY: run test lint bench-list

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
# PostgreSQL or Redis answers, except under CI=true where it must run.
test: $(VENV)/.synced
	$(VENV)/bin/pytest -q -p no:cacheprovider
	DEALERHUB_TEST_DB=postgres DEALERHUB_TEST_REDIS=1 $(VENV)/bin/pytest -q -p no:cacheprovider -m "not browser"

lint: $(VENV)/.synced
	$(VENV)/bin/ruff check .

bench-list: $(VENV)/.synced
	$(VENV)/bin/python -m bench
