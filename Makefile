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
# Content-hash caches shared by every checkout on this machine (cfn-lint findings, the
# first-hour result, the catalog refresh, the ParallelCluster schema venv, mypy's cache):
# CONTRIBUTING.md, "Caches". Point it at an empty directory to measure a cold machine.
HPC_CONSTRUCTS_CACHE_DIR ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/hpc-constructs
override export HPC_CONSTRUCTS_CACHE_DIR := $(abspath $(HPC_CONSTRUCTS_CACHE_DIR))
# Extra `cdk synth` arguments: `make synth CONTEXT='-c max_nodes=4'` or `make synth ARGS='MpiCluster'`.
CONTEXT ?=
ARGS ?=

.PHONY: setup synth synth-offline test lint format typecheck clean bench lint-only pcluster-venv-only docs docs-serve

## The Python and Node installs are independent: run them side by side.
setup:
	@$(MAKE) --no-print-directory -j2 $(VENV)/.installed node_modules/.installed

## pip installs without byte-compiling; compileall then writes the same .pyc files pip would,
## on every core instead of one file at a time (compiling is most of the install's time).
$(VENV)/.installed: pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --no-compile -c constraints.txt -e '.[dev]'
	$(BIN)/python -m compileall -q -j 0 $$($(BIN)/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])') >/dev/null || true
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

## mypy's incremental cache, one per Python and mypy version in the shared cache directory:
## mypy checks every entry against the source it was made from (size, mtime, hash).
MYPY_CACHE = $(HPC_CONSTRUCTS_CACHE_DIR)/mypy/$$($(BIN)/python -c 'import platform, mypy.version; print(f"py{platform.python_version()}-mypy{mypy.version.__version__}")')

lint-only:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	MYPY_CACHE_DIR="$(MYPY_CACHE)" $(BIN)/mypy

typecheck: setup
	MYPY_CACHE_DIR="$(MYPY_CACHE)" $(BIN)/mypy

format: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## Lint and type-check while the ParallelCluster schema virtualenv is built (once per machine,
## see Caches in CONTRIBUTING.md), then the test suite on every core (cfn-lint and cdk-nag run
## on every template), one module per worker at a time, longest first (tests/conftest.py).
test: setup
	@$(MAKE) --no-print-directory -j2 lint-only pcluster-venv-only
	$(BIN)/pytest -n auto --dist loadfile --no-loadscope-reorder $(PYTEST_ARGS)

pcluster-venv-only:
	$(BIN)/python tests/pcluster_venv.py

## The API and guide site (mkdocs.yml) into site/ (gitignored), strict: a broken link or anchor,
## a page missing from the nav or a docstring mkdocstrings cannot read fails it. The tests build
## it the same way into a temporary directory (tests/test_docs_site.py).
docs: setup
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir site

## The same site at http://127.0.0.1:8000, rebuilt on every change to docs/ or the source.
docs-serve: setup
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs serve --strict --dev-addr 127.0.0.1:8000 --watch hpc_constructs --watch scripts

bench: setup
	$(BIN)/python scripts/benchmark.py

clean:
	rm -rf cdk.out site .pytest_cache .mypy_cache .ruff_cache

## Prove synthesis needs no network or AWS credentials: `make synth` in a network namespace
## with no AWS configuration (needs root or unprivileged user namespaces; run `make setup` first).
synth-offline: setup
	unshare -rn env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN \
		-u AWS_PROFILE AWS_CONFIG_FILE=/nonexistent AWS_SHARED_CREDENTIALS_FILE=/nonexistent \
		$(MAKE) synth
