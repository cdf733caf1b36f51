# Quick start: `make serve` to read the site locally, `make test` before you push.
# Every target creates .venv from the pinned requirements first if it is missing or stale.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python

export NO_MKDOCS_2_WARNING := 1
STAMP  := $(VENV)/.installed

# LiteLLM's proxy is large and only needed by verify-live and sync-prices, so it has a venv of its own.
LITELLM_VENV  := .venv-litellm
LITELLM_PY    := $(LITELLM_VENV)/bin/python
LITELLM_STAMP := $(LITELLM_VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help serve site validate check check-config test lint bench clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): requirements.txt requirements-dev.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

$(LITELLM_STAMP): requirements.txt requirements-dev.txt requirements-litellm.txt
	@test -x $(LITELLM_PY) || $(PYTHON) -m venv $(LITELLM_VENV)
	@$(LITELLM_PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt -r requirements-litellm.txt \
	  || { echo "error: could not install the pinned LiteLLM proxy (requirements-litellm.txt) into $(LITELLM_VENV);" \
	            "it needs Python 3.11 and access to PyPI" >&2; exit 1; }
	@touch $@

serve: $(STAMP) ## Build and serve both languages on http://127.0.0.1:8000 with live reload
	$(PY) -m mkdocs serve --dev-addr 127.0.0.1:8000

site: $(STAMP) ## Build, gate and publish the site (Chinese at site/, English at site/en/)
	$(PY) -m runbooks build --site-dir site

validate: $(STAMP) ## Check data/*.yaml against the schema
	$(PY) -m runbooks validate

check: $(STAMP) ## Run every gate: validate, check-config, freshness, a build, scan-secrets, check-links
	$(PY) -m runbooks check

check-config: $(STAMP) ## Check data/litellm/config.yaml against the documented providers
	$(PY) -m runbooks check-config data/litellm/config.yaml

lint: $(STAMP) ## Run ruff on the code
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

test: $(STAMP) lint ## Run the linter and the whole test suite (builds the site once)
	$(PY) -m pytest

bench: $(STAMP) ## Benchmark the build and the gates on 5 to 1,000 providers; writes bench/RESULTS.md
	$(PY) bench/run.py $(BENCH_ARGS)

clean: ## Remove the built site and caches (keeps .venv)
	rm -rf site site-public .pytest_cache .ruff_cache
