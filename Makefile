# Everything a fresh machine with Python 3.11 and make needs: `make run`, `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
BIN := $(VENV)/bin

export UV_PYTHON := $(PYTHON)
export UV_PYTHON_DOWNLOADS := never
export UV_COMPILE_BYTECODE := 1
export PREFECT_HOME ?= $(CURDIR)/.prefect
export DO_NOT_TRACK := 1
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS := 90

# Browser tests drive Debian's Chromium (never a browser downloaded by a test tool).
CHROMIUM ?= /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: setup browser run test lint unit fast clean-lake

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet uv==$(UV_VERSION)

$(VENV)/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen
	touch $@

setup: $(VENV)/.synced

browser:  ## Debian's chromium for the browser tests, installed once
	@[ -x $(CHROMIUM) ] || { $(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium >/dev/null; }

run: setup  ## install, then run the pipeline on data/raw into data/lake
	$(BIN)/newsflow run --input data/raw --lake data/lake

# Test tiers (markers in pyproject.toml): `fast` is the edit loop, `unit` adds the flow
# and slow tests but needs no browser, `test` (CI) is lint plus every test.
FAST_TESTS := not e2e and not browser and not slow and not flow and not s3

test: lint browser  ## install, then lint, type-check and run the whole test suite
	$(BIN)/pytest

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/python -m tools.function_lengths
	$(BIN)/mypy

fast: setup  ## the tests that need no server, browser or long run (under 2 minutes)
	$(BIN)/pytest -m "$(FAST_TESTS)"

unit: setup  ## every test but the end-to-end and browser ones: no Chromium needed
	$(BIN)/pytest -m "not e2e and not browser"

clean-lake:
	rm -rf data/lake
