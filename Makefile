# salesforce-stripe-sync — developer entry points. Needs only python3, make and npm on a fresh machine.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP_PY := $(VENV)/.installed
STAMP_NPM := node_modules/.installed

.PHONY: help deps test unit integration lint typecheck run serve clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(STAMP_PY): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	@touch $@

$(STAMP_NPM): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

deps: $(STAMP_PY) $(STAMP_NPM) ## create .venv and install the pinned Python and npm dev dependencies

run: deps ## the whole flow on the embedded emulators, printing what happened (stops everything it started)
	$(PY) -m devtools.demo

serve: deps ## the same local stack left running until Ctrl-C; details in .local/stack.json
	$(PY) -m devtools.serve

test: deps lint typecheck ## everything: lint, types, unit and integration tests (starts the emulators itself)
	$(PY) -m pytest

unit: deps ## unit tests only (no network, no emulators)
	$(PY) -m pytest tests/unit

integration: deps ## integration tests against dynalite, moto server and the Stripe/Salesforce emulators
	$(PY) -m pytest -m integration

lint: deps ## ruff
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

typecheck: deps ## mypy
	$(PY) -m mypy shared functions devtools

clean: ## remove the venv, node_modules and caches
	rm -rf $(VENV) node_modules .pytest_cache .mypy_cache .ruff_cache .aws-sam .local
