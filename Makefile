# Quick start: `make serve` to read the site locally, `make test` before you push.
# Every target creates .venv from the pinned requirements first if it is missing or stale.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
# The site generator: mkdocs (MkDocs 1.6.1, the pinned default, in .venv) or properdocs (ProperDocs, the
# maintained continuation of MkDocs 1.x, in .venv-properdocs without the mkdocs package). One command:
# `make test ENGINE=properdocs`; for good: change this line. See README, "MkDocs or ProperDocs".
ENGINE ?= mkdocs
ifeq ($(ENGINE),properdocs)
VENV         := .venv-properdocs
REQUIREMENTS := requirements-properdocs.txt
# Everything is pinned there; mkdocs-material's dependency on mkdocs is the one left out on purpose.
PIP_OPTIONS  := --no-deps
else ifeq ($(ENGINE),mkdocs)
VENV         := .venv
REQUIREMENTS := requirements-dev.txt
PIP_OPTIONS  :=
else
$(error ENGINE must be mkdocs or properdocs, not '$(ENGINE)')
endif
PY     := $(VENV)/bin/python

export NO_MKDOCS_2_WARNING := 1
STAMP  := $(VENV)/.installed

# LiteLLM's proxy is large and only needed by verify-live and sync-prices, so it has a venv of its own.
LITELLM_VENV  := .venv-litellm
LITELLM_PY    := $(LITELLM_VENV)/bin/python
LITELLM_STAMP := $(LITELLM_VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help serve site public validate check check-config lint-cost sync-prices test lint bench clean verify-live observe chromium screenshots
.PHONY: sync-litellm
.PHONY: schemas test-properdocs bytecode

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

# A new venv holds only what the requirements pin: not the setuptools that `venv` adds, which nothing
# here needs and which jieba imports (pkg_resources) whenever it is there, a fifth of a second in every
# build process.
$(STAMP): requirements.txt $(REQUIREMENTS)
	@test -x $(PY) || { $(PYTHON) -m venv $(VENV) && $(PY) -m pip uninstall --quiet --yes --disable-pip-version-check setuptools; }
	$(PY) -m pip install --quiet --disable-pip-version-check $(PIP_OPTIONS) -r $(REQUIREMENTS)
	@touch $@

$(LITELLM_STAMP): requirements.txt requirements-dev.txt requirements-litellm.txt
	@test -x $(LITELLM_PY) || $(PYTHON) -m venv $(LITELLM_VENV)
	@$(LITELLM_PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt -r requirements-litellm.txt \
	  || { echo "error: could not install the pinned LiteLLM proxy (requirements-litellm.txt) into $(LITELLM_VENV);" \
	            "it needs Python 3.11 and access to PyPI" >&2; exit 1; }
	@touch $@

# Every build runs several Python processes; where PYTHONDONTWRITEBYTECODE is set, none of them keeps
# what it compiles, so each would compile the project's modules again. compileall writes them once
# (and again only when a source changed).
bytecode: $(STAMP)
	@$(PY) -m compileall -q runbooks hooks bench > /dev/null

serve: $(STAMP) bytecode ## Build and serve both languages on http://127.0.0.1:8000 with live reload
	$(PY) -m $(ENGINE) serve --config-file mkdocs.yml --dev-addr 127.0.0.1:8000

site: $(STAMP) bytecode ## Build, gate and publish the team's internal site (every fact, noindex) into site/
	$(PY) -m runbooks build --audience internal --site-dir site

public: $(STAMP) bytecode ## Build, gate (incl. check-public) and publish the public site (public facts only) into site-public/
	$(PY) -m runbooks build --audience public --site-dir site-public

validate: $(STAMP) ## Check data/*.yaml against the schema
	$(PY) -m runbooks validate

check: $(STAMP) bytecode ## Run every gate: validate, check-config, lint-cost, freshness, a build, scan-secrets, check-links
	$(PY) -m runbooks check

check-config: $(STAMP) ## Check data/litellm/config.yaml against the documented providers
	$(PY) -m runbooks check-config data/litellm/config.yaml

lint-cost: $(STAMP) ## Warn about cost risks in data/litellm/config.yaml (no rpm/tpm, no budget, open access, retries)
	$(PY) -m runbooks lint-cost data/litellm/config.yaml

sync-prices: $(LITELLM_STAMP) ## Refresh data/prices.yaml from the pinned LiteLLM's price map
	$(LITELLM_PY) -m runbooks sync-prices

sync-litellm: $(LITELLM_STAMP) ## Regenerate runbooks/litellm_tables.py (providers, model names) from the pinned LiteLLM
	$(LITELLM_PY) scripts/sync-litellm-tables

lint: $(STAMP) ## Run ruff on the code
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

test: $(STAMP) bytecode lint chromium ## Run the linter and the whole test suite, browser tests included (the real site is built once per audience)
	$(PY) -m pytest

test-properdocs: ## Run `make test` built with ProperDocs instead of MkDocs (.venv-properdocs, no mkdocs installed)
	$(MAKE) test ENGINE=properdocs

schemas: $(STAMP) ## Regenerate the editors' JSON Schemas of data/*.yaml (schemas/) from runbooks/schema.py
	$(PY) -m runbooks.data_schemas

verify-live: $(LITELLM_STAMP) ## Smoke-test as the page shows it and observe every documented error again, through a real LiteLLM proxy
	$(LITELLM_PY) -m pytest -n 0 tests/live

observe: $(LITELLM_STAMP) ## Observe every documented error through the pinned LiteLLM proxy; writes data/observations.yaml
	$(LITELLM_PY) -m runbooks observe

chromium: ## Check for Debian's Chromium and CJK fonts (the browser tests need them); install them as root
	@scripts/ensure-chromium

screenshots: $(STAMP) bytecode chromium ## Refresh the README's screenshots in docs/assets/screenshots/
	$(PY) -m runbooks.screenshots --out docs/assets/screenshots

bench: $(STAMP) bytecode ## Benchmark the build and the gates on 5 to 1,000 providers; writes bench/RESULTS.md
	$(PY) bench/run.py $(BENCH_ARGS)

clean: ## Remove the built site and caches (keeps .venv)
	rm -rf site site-public .pytest_cache .ruff_cache
