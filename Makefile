# salesforce-stripe-sync — developer entry points. Needs only python3, make and npm on a fresh machine.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP_PY := $(VENV)/.installed
STAMP_NPM := node_modules/.installed

# AWS SAM CLI and cfn-lint live in their own venv: they pin older boto3 / pydantic than the application.
SAM_VENV := .venv-sam
SAM := $(SAM_VENV)/bin/sam
CFN_LINT := $(SAM_VENV)/bin/cfn-lint
STAMP_SAM := $(SAM_VENV)/.installed
# Offline: no credentials, no telemetry; validate needs a region only to load the resource specs.
SAM_ENV := AWS_DEFAULT_REGION=us-east-1 SAM_CLI_TELEMETRY=0
# `make sam-build` builds what you deploy (.aws-sam/build, read by `sam deploy`); ARCHITECTURE=arm64 for Graviton.
ARCHITECTURE ?= x86_64
# `make sam-check` builds for this machine into its own folder; tests/build imports and runs that build.
CHECK_ARCHITECTURE := $(if $(filter aarch64 arm64,$(shell uname -m)),arm64,x86_64)
CHECK_BUILD_DIR := .aws-sam/check
# The boto3 that the Lambda runtime provides to the light functions (they don't ship one), for the checks.
CHECK_RUNTIME_SDK := .aws-sam/lambda-runtime-sdk

.PHONY: help deps lock test unit hygiene integration lint typecheck run serve send org bench clean sam-deps sam-validate sam-build \
	sam-check salesforce-package

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

# The dev venv holds exactly what uv.lock resolved (requirements/dev.txt, every file hash-checked), then the
# project itself as an editable install without dependencies.
$(STAMP_PY): pyproject.toml requirements/dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --require-hashes -r requirements/dev.txt
	$(PY) -m pip install --quiet --no-deps -e .
	@touch $@

$(STAMP_NPM): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

deps: $(STAMP_PY) $(STAMP_NPM) ## create .venv and install the locked Python and npm dev dependencies

# uv.lock: every transitive dependency of pyproject.toml, for Python 3.11+ on every platform, with hashes.
# `uv lock` keeps the locked versions of what didn't change (`make lock UPGRADE=1` moves all to the newest).
# From it: requirements/dev.txt (this venv) and requirements/<set>.txt, each function's closure for Lambda's
# python3.13 (devtools/sam/lock_export.py). tests/hygiene/test_lock.py fails when any of them is stale.
lock: $(STAMP_PY) ## after changing pyproject.toml's dependencies: re-resolve uv.lock, regenerate requirements/*.txt
	$(VENV)/bin/uv lock $(if $(UPGRADE),--upgrade)
	$(VENV)/bin/uv export --frozen --no-emit-project --extra dev --format requirements-txt --quiet \
		--output-file requirements/dev.txt
	$(PY) -m devtools.sam.lock_export
	$(VENV)/bin/uv pip compile requirements/checkov.in --universal --python-version 3.11 --generate-hashes --quiet \
		--output-file requirements/checkov.txt

run: deps ## the whole flow on the embedded emulators, printing what happened (stops everything it started)
	$(PY) -m devtools.demo.run

serve: deps ## the same local stack left running until Ctrl-C; details in .local/stack.json
	$(PY) -m devtools.demo.serve

send: deps ## with `make serve` running: POST an Outbound Message for ACCOUNT=001… and print what the worker did
	$(if $(ACCOUNT),,$(error usage: make send ACCOUNT=001… (make serve prints the demo accounts' ids)))
	$(PY) -m devtools.demo.org send $(ACCOUNT)

org: deps ## with `make serve` running: act as a Salesforce user, e.g. make org ARGS='activate 001…' (README)
	$(PY) -m devtools.demo.org $(or $(ARGS),--help)

bench: deps ## every figure beside its floor: calls, cold start, CPU, reconcile at 100,000, bulk loads, cost (~40 min); writes BENCHMARKS.md
	$(PY) -m devtools.bench

test: deps lint typecheck sam-check checkov ## everything: lint, types, template checks + build, all tests (starts the emulators itself)
	$(PY) -m pytest

unit: deps ## unit and repository-hygiene tests (no network, no emulators)
	$(PY) -m pytest tests/unit tests/hygiene

hygiene: deps ## repository checks only: lock, template, policies, package exports, Salesforce package
	$(PY) -m pytest tests/hygiene

integration: deps ## integration tests against dynalite, moto server and the Stripe/Salesforce emulators
	$(PY) -m pytest -m integration

lint: deps ## ruff
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

typecheck: deps ## mypy
	$(PY) -m mypy shared functions devtools ops

$(STAMP_SAM): requirements/sam-cli.txt
	rm -rf $(SAM_VENV)
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(SAM_VENV)/bin/python -m pip install --quiet -r requirements/sam-cli.txt
	@touch $@

# checkov has its own venv (its boto3 / pydantic pins would move the app's and the SAM CLI's), from a hashed lock.
CHECKOV_VENV := .venv-checkov
STAMP_CHECKOV := $(CHECKOV_VENV)/.installed
# Offline: no Prisma Cloud download (--skip-download), no PyPI version check, no Bridgecrew guideline mapping.
CHECKOV_ENV := CKV_SKIP_PACKAGE_UPDATE_CHECK=true BC_SKIP_MAPPING=TRUE

$(STAMP_CHECKOV): requirements/checkov.txt
	rm -rf $(CHECKOV_VENV)
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --require-hashes -r requirements/checkov.txt
	@touch $@

.PHONY: checkov
checkov: $(STAMP_CHECKOV) ## IaC scan of template.yaml, offline: fails on any finding not suppressed inline with its reason
	$(CHECKOV_ENV) $(CHECKOV_VENV)/bin/checkov --file template.yaml --framework cloudformation --skip-download \
		--quiet --compact

sam-deps: $(STAMP_SAM) ## create .venv-sam with the pinned AWS SAM CLI and cfn-lint

sam-validate: $(STAMP_SAM) ## sam validate --lint and cfn-lint on template.yaml (offline)
	$(SAM_ENV) $(SAM) validate --lint --template template.yaml
	$(CFN_LINT) template.yaml

sam-build: $(STAMP_SAM) ## build the functions for deployment into .aws-sam/build (no Docker; ARCHITECTURE=x86_64|arm64)
	$(SAM_ENV) LAMBDA_ARCHITECTURE=$(ARCHITECTURE) $(SAM) build --build-in-source \
		--parameter-overrides Architecture=$(ARCHITECTURE)

$(CHECK_RUNTIME_SDK)/.installed: requirements/lambda-runtime.txt devtools/sam/lambda_build.py
	rm -rf $(CHECK_RUNTIME_SDK)
	$(PYTHON) devtools/sam/lambda_build.py --packages-only --requirements $< \
		--artifacts-dir $(CHECK_RUNTIME_SDK) --architecture $(CHECK_ARCHITECTURE)
	@touch $@

sam-check: sam-validate $(CHECK_RUNTIME_SDK)/.installed ## validate + lint the template, build it for the import tests (tests/build)
	$(SAM_ENV) LAMBDA_ARCHITECTURE=$(CHECK_ARCHITECTURE) $(SAM) build --build-in-source \
		--parameter-overrides Architecture=$(CHECK_ARCHITECTURE) --build-dir $(CHECK_BUILD_DIR) \
		--template template.yaml
	@du -sm $(CHECK_BUILD_DIR)/*/ | sed 's|^|  MB |'

# --- Salesforce package --------------------------------------------------------------------------------
# salesforce/ holds placeholders where the Outbound Messages need the endpoint URL (with its secret token) and
# the integration user's username; this renders a deployable copy with the real values into an ignored folder.
STACK_NAME ?= salesforce-stripe-sync
salesforce-package: deps ## salesforce/ with the stack's endpoint into .local/salesforce-package (INTEGRATION_USER=…, STACK_NAME=… or LOCAL=1)
	@test -n "$(INTEGRATION_USER)" || { echo "usage: make salesforce-package INTEGRATION_USER=stripe-sync@acme.com [STACK_NAME=…|LOCAL=1]"; exit 2; }
	$(PY) -m devtools.salesforce_package.render --integration-user "$(INTEGRATION_USER)" \
		$(if $(LOCAL),--local,--stack-name "$(STACK_NAME)")

# --- Lambda packages -----------------------------------------------------------------------------------
# `sam build` runs `make build-<LogicalId>` for each function (Metadata: BuildMethod: makefile) with
# ARTIFACTS_DIR set to the function's build folder. devtools/sam/lambda_build.py copies functions/ + shared/
# and pip-installs the function's locked requirements (requirements/<set>.txt: the closure of <set>.in from
# uv.lock, hash-checked) for the Lambda platform (no Docker, no python3.13 needed).
# The light functions must not ship stripe or simple-salesforce: see requirements/receiver.in.
build-OutboundMessageFunction build-PlatformEventFunction: LAMBDA_REQUIREMENTS := requirements/receiver.txt
build-SyncWorkerFunction build-ReconcileFunction: LAMBDA_REQUIREMENTS := requirements/worker.txt
build-OutboundMessageFunction build-PlatformEventFunction build-SyncWorkerFunction build-ReconcileFunction:
	$(PYTHON) devtools/sam/lambda_build.py --function $(@:build-%=%) --requirements $(LAMBDA_REQUIREMENTS)

clean: ## remove the venvs, node_modules, build output and caches
	rm -rf $(VENV) $(SAM_VENV) $(CHECKOV_VENV) node_modules .pytest_cache .mypy_cache .ruff_cache .aws-sam .local

.PHONY: reliability
reliability: deps ## fault and hostile-input scenarios on the local stack: figures table + RELIABILITY.md (< 10 min)
	$(PY) -m devtools.reliability --size full
