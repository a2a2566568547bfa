# The README's two commands are `make synth` and `make test`; both set up what they need.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Node.js 22 from the npm `node` package comes first, so the CDK CLI and the jsii runtime
# behind aws-cdk-lib use a supported Node even where the system one is older.
export PATH := $(CURDIR)/node_modules/.bin:$(CURDIR)/$(BIN):$(PATH)
export CDK_DISABLE_CLI_TELEMETRY := true
export JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION := 1
PYTEST_ARGS ?=
# Extra `cdk synth` arguments: `make synth CONTEXT='-c max_nodes=4'` or `make synth ARGS='MpiCluster'`.
CONTEXT ?=
ARGS ?=

.PHONY: setup synth synth-offline test lint format typecheck clean bench lint-only pcluster-venv-only

## The Python and Node installs are independent: run them side by side.
setup:
	@$(MAKE) --no-print-directory -j2 $(VENV)/.installed node_modules/.installed

$(VENV)/.installed: pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

## Synthesize every sample stack (cdk-nag runs inside synth); app.py ends with a summary per
## stack (scripts/summarize.py). Overrides: make synth CONTEXT='-c max_nodes=4' (or ARGS=...).
synth: setup
	rm -rf cdk.out
	cdk synth --quiet --no-notices --no-version-reporting $(CONTEXT) $(ARGS)

lint: setup
	@$(MAKE) --no-print-directory lint-only

lint-only:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

typecheck: setup
	$(BIN)/mypy

format: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## Lint and type-check while the ParallelCluster schema virtualenv is built (once per
## checkout), then the test suite on every core (cfn-lint and cdk-nag run on every template).
test: setup
	@$(MAKE) --no-print-directory -j2 lint-only pcluster-venv-only
	$(BIN)/pytest -n auto --dist loadfile $(PYTEST_ARGS)

pcluster-venv-only:
	$(BIN)/python tests/pcluster_venv.py

bench: setup
	$(BIN)/python scripts/benchmark.py

clean:
	rm -rf cdk.out .pytest_cache .mypy_cache .ruff_cache

## Prove synthesis needs no network or AWS credentials: `make synth` in a network namespace
## with no AWS configuration (needs root or unprivileged user namespaces; run `make setup` first).
synth-offline: setup
	unshare -rn env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN \
		-u AWS_PROFILE AWS_CONFIG_FILE=/nonexistent AWS_SHARED_CREDENTIALS_FILE=/nonexistent \
		$(MAKE) synth
