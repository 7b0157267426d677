# Order Hub: the two commands are `make up` and `make test` (see README.md).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

UV_HOME := .cache/uv
UV := $(shell command -v uv 2>/dev/null || echo $(UV_HOME)/bin/uv)
PY := .venv/bin/python
PROMTOOL_VERSION := v0.316.0
PROMTOOL := .cache/bin/promtool-$(PROMTOOL_VERSION)
export UV_PROJECT_ENVIRONMENT := .venv
# The interpreter of .venv, which runs the services, the tests and the bench: Debian's python3.11
# when there is one. It is built with profile-guided and link-time optimisation, as the production
# image's CPython is; pyenv's default build, first on the PATH here, has neither (docs/TECHNICAL.md
# 5.2 has what that costs). `make up ORDERHUB_PYTHON=...` picks another; it is resolved to the
# interpreter itself, so .venv is rebuilt when it changes.
ORDERHUB_PYTHON ?= $(or $(wildcard /usr/bin/python3.11),python3.11)
VENV_PYTHON := $(shell $(ORDERHUB_PYTHON) -c 'import sys; print(sys.executable)' 2>/dev/null)
export UV_PYTHON := $(VENV_PYTHON)

.PHONY: help up down status backup restore test screenshots test-faults test-python test-frontend lint audit format openapi tools python-deps frontend-deps frontend-build browser demo-data bench config-reference prometheus-rule promtool

help: ## show the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-15s %s\n", $$1, $$2}'

up: python-deps frontend-build ## install what is missing, start the whole stack in the background, wait until ready (REPLICAS=2: two of ingest and orders)
	@$(if $(REPLICAS),ORDERHUB_REPLICAS=$(REPLICAS) )$(PY) -m devstack.cli up

down: ## stop everything `make up` started (graceful); data stays in .data/
	@if [ -x $(PY) ]; then $(PY) -m devstack.cli down; else echo "nothing to stop"; fi

status: ## show the state of each component
	@$(PY) -m devstack.cli status

backup: python-deps ## a consistent copy of the stack's state into .data/backups/<UTC time>/ (BACKUP_DIR: another folder); the API pauses meanwhile
	@$(PY) -m devstack.cli backup $(if $(BACKUP_DIR),--into $(BACKUP_DIR))

restore: python-deps ## put a backup back: make restore BACKUP=.data/backups/<UTC time>
	@if [ -z "$(BACKUP)" ]; then echo "name the backup: make restore BACKUP=.data/backups/<UTC time>"; exit 2; fi
	@$(PY) -m devstack.cli restore $(BACKUP)

test: lint audit test-frontend test-python ## install what is missing and run every suite (unit, integration, e2e, frontend, browser) and the offline dependency audit

# promtool for the alert rules' tests, which fail rather than skip here without it.
test-python: python-deps frontend-build browser promtool
	@echo "==> pytest: unit, integration and e2e (own infrastructure on test ports)"
	@ORDERHUB_REQUIRE_PROMTOOL=1 $(UV) run --frozen pytest -p no:cacheprovider --ignore=tests/faults

screenshots: python-deps frontend-build browser ## the browser suite on its own test stack, refreshing docs/screenshots
	@SCREENSHOTS_DIR=$(CURDIR)/docs/screenshots $(UV) run --frozen pytest -p no:cacheprovider tests/e2e/test_browser.py

test-faults: python-deps frontend-build ## the fault suite: real faults injected into the whole stack (own ports and data)
	@echo "==> pytest: the fault suite (tests/faults, own stack on test ports)"
	@$(UV) run --frozen pytest -p no:cacheprovider --durations=0 tests/faults

test-frontend: frontend-deps
	@echo "==> frontend: typecheck and component tests"
	@cd frontend && npm run --silent typecheck && npm run --silent lint && npm test --silent

# safety 2.3 is the last release that reads a local database without calling home; safety-db is
# the advisory snapshot a registry package ships (the advisory services are out of reach here).
AUDIT_TOOLS := --with safety==2.3.5 --with safety-db==2021.7.17

audit: tools ## the offline dependency audit: every locked Python package against the advisory snapshot of safety-db
	@mkdir -p .run
	@$(UV) export --frozen --no-hashes --all-packages --no-emit-workspace --all-groups --quiet -o .run/audit-requirements.txt
	@$(UV) run --no-project --quiet $(AUDIT_TOOLS) python infra/audit/audit.py .run/audit-requirements.txt

# Each workspace package against its own pyproject.toml (an image installs only what that
# declares), then bench/ and deploy/ (the development tools) against the root one.
DEPTRY_PACKAGES := $(patsubst %/pyproject.toml,%,$(wildcard services/*/pyproject.toml)) infra/devstack

lint: python-deps ## ruff (lint, format check), mypy, and deptry (each package declares what it imports)
	@echo "==> ruff and mypy"
	@$(UV) run --frozen ruff check .
	@$(UV) run --frozen ruff format --check .
	@$(UV) run --frozen mypy
	@echo "==> deptry: each package declares what it imports, and nothing it does not"
	@for package in $(DEPTRY_PACKAGES); do \
		$(UV) run --frozen deptry $$package/src --config $$package/pyproject.toml; \
	done
	@$(UV) run --frozen deptry bench deploy --config pyproject.toml

format: python-deps ## fix what ruff can fix
	@$(UV) run --frozen ruff check --fix .
	@$(UV) run --frozen ruff format .

demo-data: python-deps ## a four-week order history at the mock channels (N=10000 orders), waits until all are stored, each in its final status
	@$(PY) -m bench.demo_data --count $(or $(N),10000)

bench: python-deps ## load and ingest benchmarks of the running stack (about 40 min; N=... sizes the history import); writes docs/BENCHMARKS.md
	@$(PY) -m bench.run $(if $(N),--history-orders $(N))

config-reference: python-deps ## regenerate docs/CONFIGURATION.md from the services' settings classes
	@$(PY) -m deploy.config_reference > docs/CONFIGURATION.md

prometheus-rule: python-deps ## regenerate the Kubernetes PrometheusRule from deploy/prometheus/alerts.yml
	@$(PY) -m deploy.prometheus_rule > deploy/kubernetes/components/monitoring/prometheus-rule.yaml

# Built aside and renamed into place, so a build running beside another (.cache is shared) never
# leaves a half-written binary where the tests look.
promtool: ## build Prometheus's promtool once into .cache/bin (minutes), for the alert-rule tests
	@if [ ! -x $(PROMTOOL) ]; then \
		echo "==> building promtool $(PROMTOOL_VERSION) with Go (first run only)"; start=$$(date +%s); \
		(cd infra/promtool && go build -trimpath -o ../../$(PROMTOOL).$$$$.tmp github.com/prometheus/prometheus/cmd/promtool); \
		mv -f $(PROMTOOL).$$$$.tmp $(PROMTOOL); \
		echo "==> promtool: done in $$(( $$(date +%s) - start ))s"; \
	fi

openapi: ## regenerate frontend/openapi.json and its TypeScript types from the running gateway
	@.venv/bin/gateway-openapi > frontend/openapi.json
	@cd frontend && npm run --silent gen:api

# --- installs: each is skipped when already done, so a second run downloads nothing ----------

tools:
	@if ! command -v uv >/dev/null 2>&1 && [ ! -x $(UV_HOME)/bin/uv ]; then \
		echo "==> installing uv into $(UV_HOME) (first run only)"; \
		python3 -m pip install --quiet --disable-pip-version-check --target $(UV_HOME) uv; \
	fi

python-deps: tools
	@if [ -z "$(VENV_PYTHON)" ]; then echo "==> no Python at ORDERHUB_PYTHON=$(ORDERHUB_PYTHON)"; exit 1; fi
	@if [ -f .venv/.synced ] && [ "$$(cat .venv/.synced)" != "$(VENV_PYTHON)" ] && [ -f .run/supervisord.pid ] && kill -0 "$$(cat .run/supervisord.pid)" 2>/dev/null; then \
		echo "==> .venv moves to $(VENV_PYTHON), but the stack runs from it: make down first"; exit 1; \
	fi
	@if [ ! -f .venv/.synced ] || [ "$$(cat .venv/.synced)" != "$(VENV_PYTHON)" ] || [ -n "$$(find uv.lock pyproject.toml services/*/pyproject.toml infra/devstack/pyproject.toml -newer .venv/.synced -print -quit)" ]; then \
		echo "==> uv sync (Python dependencies, on $(VENV_PYTHON))"; start=$$(date +%s); \
		$(UV) sync --frozen --quiet; echo "$(VENV_PYTHON)" > .venv/.synced; \
		echo "==> uv sync: done in $$(( $$(date +%s) - start ))s"; \
	fi

frontend-deps:
	@if [ ! -f frontend/node_modules/.installed ] || [ frontend/package-lock.json -nt frontend/node_modules/.installed ]; then \
		echo "==> npm ci (frontend dependencies)"; start=$$(date +%s); \
		cd frontend && npm ci --no-audit --no-fund --loglevel=error && touch node_modules/.installed; \
		echo "==> npm ci: done in $$(( $$(date +%s) - start ))s"; \
	fi

frontend-build: frontend-deps
	@if [ ! -f frontend/dist/index.html ] || [ -n "$$(find frontend/src frontend/index.html frontend/vite.config.ts frontend/package-lock.json -newer frontend/dist/index.html -print -quit)" ]; then \
		echo "==> building the SPA"; start=$$(date +%s); \
		cd frontend && npm run --silent build; \
		echo "==> SPA build: done in $$(( $$(date +%s) - start ))s"; \
	fi

browser:
	@if [ ! -x /usr/bin/chromium ]; then \
		echo "==> installing Debian's chromium for browser tests (first run only)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null; \
	fi
