# The two commands a newcomer runs: `make demo` and `make test`.
# Each creates .venv when it is missing and installs what it needs, so a
# fresh clone needs no other step.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip
# pytest workers (pytest-xdist): one per CPU; TEST_WORKERS=0 runs the suite in one process.
TEST_WORKERS ?= auto

.PHONY: demo test lint typecheck unit bench docs clean help

help:
	@echo "make demo   - start the hub and every simulator, run the flows, show a summary (DEMO_ARGS=--once to exit)"
	@echo "make test   - ruff, mypy and the whole pytest suite"
	@echo "make bench  - run the benchmarks in bench/ (writes bench/results/)"
	@echo "make docs   - regenerate docs/ (JSON Schema, data dictionary)"

$(BIN)/python:
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Polestar needs Python 3.11 or newer; set PYTHON=python3.x"'
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(PIP) install -q -e .
	@touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(PIP) install -q -e '.[dev]'
	@touch $@ $(VENV)/.installed

$(VENV)/.installed-bench: pyproject.toml | $(BIN)/python
	$(PIP) install -q -e '.[dev,bench]'
	@touch $@ $(VENV)/.installed-dev $(VENV)/.installed

# `make demo DEMO_ARGS=--once` runs the flows, prints the summary and exits (non-zero on a failure).
demo: $(VENV)/.installed
	$(BIN)/polestar demo $(DEMO_ARGS)

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(VENV)/.installed-dev
	$(BIN)/mypy

test: lint typecheck
	$(BIN)/pytest -n $(TEST_WORKERS) --dist worksteal

unit: $(VENV)/.installed-dev
	$(BIN)/pytest tests/unit

bench: $(VENV)/.installed-bench
	@set -e; for b in bench/*.py; do \
	  case $$b in */_*) continue;; esac; \
	  echo "== $$b"; $(BIN)/python $$b; \
	done

docs: $(VENV)/.installed-dev
	$(BIN)/polestar schema export docs
	$(BIN)/python -m polestar.mapping.reference docs/mappings.md
	$(BIN)/python -m polestar.routes.reference docs/routes.md
	POLESTAR_WRITE_DOCS=1 $(BIN)/pytest -q tests/unit/connectors/test_email_and_broker_kind_docs.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
