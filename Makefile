# ImageTools — every set-up step is here, so a fresh machine needs only Python 3.11+ and Node 20.
#   make run    install what is missing, build the web app, run the whole stack
#   make test   install what is missing, lint, and run every test

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
PY := $(VENV)/bin/python
REPLICAS ?= 3
# Where `make models` installs the background-removal model and image-service loads it from.
MODELS_DIR ?= var/models
export MODELS_DIR
PYTEST_ARGS ?=
BENCH_ARGS ?=

# uv must use the machine's Python, never download one.
export UV_PYTHON_DOWNLOADS := never
export UV_PYTHON := $(PYTHON)

PY_PROJECTS := pyproject.toml $(wildcard */pyproject.toml)
# The build also renders the deployment guide into the app (web/scripts/deploymentGuide.ts).
WEB_SOURCES := $(shell find web/src web/public -type f 2>/dev/null) \
	web/index.html web/vite.config.ts web/tsconfig.json web/package.json \
	web/scripts/deploymentGuide.ts docs/DEPLOYMENT.md

.PHONY: help
help: ## List the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-22s %s\n", $$1, $$2}'

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# Stamps make a second run install nothing unless a lock or project file changed.
# Importing pymatting compiles its numba kernels into its own __pycache__ (cache=True): 30-45 s on
# an idle 2-core machine, minutes on a loaded one, paid once at install, not by the first matting.
$(VENV)/.installed: $(UV) uv.lock $(PY_PROJECTS)
	$(UV) sync --frozen --all-packages
	$(PY) -c "import pymatting"
	@touch $@

web/node_modules/.installed: web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund
	@touch $@

web/dist/index.html: web/node_modules/.installed $(WEB_SOURCES)
	cd web && npm run build
	@touch $@

.PHONY: install
install: $(VENV)/.installed web/node_modules/.installed ## Install Python and npm dependencies

.PHONY: web
web: web/dist/index.html ## Build the web app into web/dist

# The script is its own stamp: with the model in place and its SHA-256 right it does nothing, offline.
.PHONY: models
models: ## Fetch, verify and install the background-removal model into MODELS_DIR (var/models)
	$(PYTHON) image-service/fetch_models.py --dest $(MODELS_DIR)

.PHONY: run
run: install web models ## Run the app (embedded PostgreSQL and NATS unless DATABASE_URL / NATS_URL are set)
	$(PY) -m imagetools_common.stack

.PHONY: stack
stack: install web models ## Run the compose topology locally with REPLICAS image-service replicas (default 3)
	$(PY) -m imagetools_common.stack --replicas image-service=$(REPLICAS)

.PHONY: backup restore
backup: install ## Back up the database (make run's embedded one, or DATABASE_URL) to var/backups/
	$(PY) -m imagetools_common.backup dump

restore: install ## Replace the database with a backup: make restore DUMP=var/backups/<file> (stop it first)
	@test -n "$(DUMP)" || { echo "usage: make restore DUMP=var/backups/<file>.dump"; exit 2; }
	$(PY) -m imagetools_common.backup restore "$(DUMP)"

# The API contract: the gateway's route table writes docs/openapi.json, and openapi-typescript
# turns that into the web app's types (web/src/api/openapi.d.ts). After changing the API: make api.
.PHONY: api api-check
api: install ## Regenerate docs/openapi.json from the route table, and the web app's API types from it
	$(PY) -m gateway.openapi_export docs/openapi.json
	cd web && npm run --silent api:types

api-check: install ## Fail when docs/openapi.json or the web app's API types are stale (no stack needed)
	@$(PY) -m gateway.openapi_export --check docs/openapi.json
	@cd web && npm run --silent api:check || \
		{ echo "web/src/api/openapi.d.ts is stale. Regenerate the document and the types with: make api" >&2; exit 1; }

.PHONY: lint
lint: install api-check ## ruff, mypy, and the API contract check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy common/src gateway/src session-service/src image-service/src oauth-service/src image-service/bench

.PHONY: test
test: lint test-web web models ## Lint, then every test (web unit tests, each service, end to end, containers)
	$(PY) -m pytest --durations=25 $(PYTEST_ARGS)
	$(MAKE) test-containers

.PHONY: test-web
test-web: web/node_modules/.installed ## The web app's unit tests (vitest)
	cd web && npm test

.PHONY: test-common test-gateway test-session-service test-image-service test-oauth-service
test-common: install ## The shared library's tests
	$(PY) -m pytest common/tests $(PYTEST_ARGS)
test-gateway: install models ## The gateway against real services
	$(PY) -m pytest gateway/tests $(PYTEST_ARGS)
test-session-service: install ## session-service alone
	$(PY) -m pytest session-service/tests $(PYTEST_ARGS)
test-image-service: install models ## image-service alone
	$(PY) -m pytest image-service/tests $(PYTEST_ARGS)
test-oauth-service: install ## oauth-service alone
	$(PY) -m pytest oauth-service/tests $(PYTEST_ARGS)

# Root only: installs Debian's docker.io if absent and runs its own engine under a temporary
# directory, builds stand-ins for the base images (no registry is reachable) and the project's
# images, then removes all of it again (tests/containers/engine.sh). Under CI=true a missing
# engine fails the run; elsewhere it skips with the reason. -s prints each phase's time.
# About 5 minutes on an idle 2-core machine (docs/DEPLOYMENT.md "How this is tested" has the phases).
.PHONY: test-containers
test-containers: install ## The images, docker-compose.yml and the all-in-one image in a real Docker engine (root)
	IMAGETOOLS_CONTAINERS=1 $(PY) -m pytest tests/containers -s --timeout=1800 $(PYTEST_ARGS)

.PHONY: test-e2e
test-e2e: install web models ## The whole stack as processes, and the web app in headless Chromium
	$(PY) -m pytest tests $(PYTEST_ARGS)

# The rembg command line, for the background-removal benchmark's comparison only: its own
# environment, so its web-server extras never reach the project's.
REMBG_CLI := $(TOOLS)/rembg-cli
$(REMBG_CLI)/.installed: $(UV)
	$(UV) venv -q --allow-existing $(REMBG_CLI)
	$(UV) pip install -q --python $(REMBG_CLI)/bin/python "rembg[cli,cpu]==2.0.86"
	@touch $@

.PHONY: bench
bench: install models web $(REMBG_CLI)/.installed ## Benchmarks: compression, the whole pipeline, small calls (needs wrk), background removal vs the rembg CLI
	$(PY) image-service/bench/bench_compress.py
	$(PY) image-service/bench/bench_pipeline.py
	$(PY) image-service/bench/bench_small_calls.py
	$(PY) image-service/bench/bench_background.py --rembg $(REMBG_CLI)/bin/rembg

.PHONY: bench-reliability
bench-reliability: install models web ## Load (12 users x mixed operations x 2 min) and faults under it: replica SIGKILL, NATS and PostgreSQL restarts
	$(PY) image-service/bench/bench_reliability.py $(BENCH_ARGS)

.PHONY: screenshots
screenshots: install web models ## Refresh the README's screenshots (docs/screenshot*.png) from a throwaway stack
	$(PY) web/scripts/screenshots.py

.PHONY: clean
clean: ## Remove installed dependencies and builds (keeps var/, your data)
	rm -rf $(TOOLS) $(VENV) web/node_modules web/dist .pytest_cache .mypy_cache .ruff_cache
