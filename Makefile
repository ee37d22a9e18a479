# crm-customer360 — the two commands are `make run` and `make test`; `make help` lists the rest.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
UV_VERSION := 0.13.8

.DEFAULT_GOAL := help
.PHONY: help run test check format lint typecheck test-unit test-integration test-e2e lock bench-lookup bench-matching bench-consent bench-relay bench-dedup bench-import console-screenshots bench-scale clean

help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  %-18s %s\n", $$1, $$2}'

$(BIN)/uv:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (set PYTHON=...)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.run-installed: $(BIN)/uv requirements/main.txt pyproject.toml
	$(BIN)/uv pip install --quiet --python $(BIN)/python -r requirements/main.txt
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	@touch $@

$(VENV)/.dev-installed: $(BIN)/uv requirements/dev.txt pyproject.toml
	$(BIN)/uv pip install --quiet --python $(BIN)/python -r requirements/dev.txt
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	@touch $@ $(VENV)/.run-installed

run: $(VENV)/.run-installed ## Set everything up and serve on 127.0.0.1:9401 (embedded PostgreSQL unless DATABASE_URL is set)
	$(BIN)/customer360 serve

test: check test-unit test-integration test-e2e ## Set everything up, lint, type-check and run every test tier

check: lint typecheck ## ruff (format + lint) and mypy

lint: $(VENV)/.dev-installed
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/ruff check src tests benchmarks

typecheck: $(VENV)/.dev-installed
	$(BIN)/mypy src tests

format: $(VENV)/.dev-installed ## Format and autofix
	$(BIN)/ruff format src tests benchmarks
	$(BIN)/ruff check --fix src tests benchmarks

test-unit: $(VENV)/.dev-installed ## Domain and handler tests (fakes only)
	$(BIN)/pytest tests/unit -q

test-integration: $(VENV)/.dev-installed ## Real PostgreSQL (embedded, or TEST_DATABASE_URL) and a real Kafka-protocol broker
	$(BIN)/pytest tests/integration -q

CHROMIUM ?= /usr/bin/chromium

# The browser tests drive Debian's chromium (Playwright cannot download its own browsers here).
$(CHROMIUM):
	@command -v apt-get >/dev/null || { echo "chromium is needed at $(CHROMIUM) (set CHROMIUM=...)"; exit 1; }
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null

test-e2e: $(VENV)/.dev-installed $(CHROMIUM) ## The service as a process: HTTP, database, outbox, broker; schemathesis; the console in chromium
	CHROMIUM_PATH=$(CHROMIUM) $(BIN)/pytest tests/e2e -q

lock: $(BIN)/uv ## Re-pin requirements/*.txt from pyproject.toml
	$(BIN)/uv pip compile --quiet pyproject.toml -o requirements/main.txt
	$(BIN)/uv pip compile --quiet pyproject.toml --extra dev -o requirements/dev.txt
	$(BIN)/uv pip compile --quiet pyproject.toml --extra dev --extra bench -o requirements/bench.txt

$(VENV)/.bench-installed: $(VENV)/.dev-installed requirements/bench.txt
	$(BIN)/uv pip install --quiet --python $(BIN)/python -r requirements/bench.txt
	@touch $@

bench-lookup: $(VENV)/.dev-installed ## Profile lookup and search under load (N=100,000 by default)
	$(BIN)/python benchmarks/lookup.py

CRM_ENTITIES ?= 20000
bench-matching: $(VENV)/.bench-installed ## Matching on FEBRL and on the CRM data set (CRM_ENTITIES=20000, through the API), against Splink and recordlinkage
	$(BIN)/python benchmarks/matching.py
	$(BIN)/python benchmarks/matching_crm.py --entities $(CRM_ENTITIES)

bench-relay: $(VENV)/.dev-installed ## Outbox relay throughput (events/s) and commit-to-ack latency, real broker
	$(BIN)/python benchmarks/relay.py

bench-consent: $(VENV)/.dev-installed ## Bulk consent check: 100,000 ids in one request (target <= 1 s)
	$(BIN)/python benchmarks/consent_check.py

bench-dedup: $(VENV)/.dev-installed ## Duplicate check (p95) and batch scan with 1,000,000 profiles (loaded once, kept in benchmarks/.cache)
	$(BIN)/python benchmarks/duplicate_check.py

console-screenshots: $(VENV)/.dev-installed $(CHROMIUM) ## Re-take the console screenshots of docs/console.md (a service with synthetic data)
	CHROMIUM_PATH=$(CHROMIUM) $(BIN)/python -m tests.support.console_screenshots docs/console

bench-scale: $(VENV)/.dev-installed ## Lookup, search, create, duplicate and consent checks, change feed at 1,000,000 profiles (kept in benchmarks/.cache)
	$(BIN)/python benchmarks/scale.py

bench-import: $(VENV)/.dev-installed ## Bulk import of 1,000,000 generated profiles with the duplicate check (rows/s, peak memory, pairs queued)
	$(BIN)/python benchmarks/import.py

clean: ## Remove the virtualenv and caches (not the embedded database under DATA_DIR)
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis .schemathesis
