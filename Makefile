# VoiceOps — the two commands are `make demo` and `make test`; both set everything up first.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.voiceops-installed
# TensorFlow trains ~1.7x faster on jemalloc than on glibc's malloc (scripts/with_jemalloc.sh)
RUN := scripts/with_jemalloc.sh
export VOICEOPS_HOME ?= $(CURDIR)/.voiceops
export DAGSTER_HOME ?= $(VOICEOPS_HOME)/dagster
export DO_NOT_TRACK := 1

.PHONY: setup system-deps demo test lint docs ui mlflow screenshots tensorboard bench clean \
	deploy-check images manifests k8s-canary k8s-rules

setup: $(STAMP)

$(STAMP): pyproject.toml constraints.txt scripts/install_system_deps.sh
	bash scripts/install_system_deps.sh
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet uv
	@# compiled at install: with PYTHONDONTWRITEBYTECODE set, TensorFlow would be re-compiled
	@# from source at every import (about 15 s instead of 5 s)
	UV_COMPILE_BYTECODE=1 $(BIN)/uv pip install --python $(BIN)/python --constraint constraints.txt -e '.[dev,bench]'
	mkdir -p "$(DAGSTER_HOME)" && touch "$(DAGSTER_HOME)/dagster.yaml"
	touch $(STAMP)

system-deps:
	bash scripts/install_system_deps.sh

demo: setup
	$(RUN) $(BIN)/voiceops demo $(if $(LOOP),--loop)

# pytest-xdist workers; a test directory whose session fixtures are costly runs whole on one
# worker (tests/conftest.py, xdist_group_of). TEST_WORKERS=0 runs in this process.
TEST_WORKERS ?= 2
test: setup
	$(BIN)/ruff check .
	$(RUN) $(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadgroup

lint: setup  ## ruff on the Python, sqlfluff (dbt templater, dbt_project/.sqlfluff) on the dbt SQL
	$(BIN)/ruff check . && $(BIN)/ruff format --check .
	cd dbt_project && ../$(BIN)/sqlfluff lint .

# dbt docs of the published warehouse (schema `published`), DuckDB unless DBT_TARGET=postgres
DBT_DOCS_PORT ?= 8580
DBT_DOCS_ARGS = --project-dir dbt_project --profiles-dir dbt_project \
	--target-path "$(VOICEOPS_HOME)/dbt/docs"
DBT_DOCS_ENV = VOICEOPS_DUCKDB_PATH="$(VOICEOPS_HOME)/warehouse/voiceops.duckdb"

docs: setup  ## dbt docs generate, then serve them on http://127.0.0.1:$(DBT_DOCS_PORT)
	mkdir -p "$(VOICEOPS_HOME)/warehouse"
	$(DBT_DOCS_ENV) $(BIN)/dbt docs generate $(DBT_DOCS_ARGS) \
		--vars '{"audit_schema": "published", "raw_schema": "published_raw"}'
	$(DBT_DOCS_ENV) $(BIN)/dbt docs serve $(DBT_DOCS_ARGS) \
		--port $(DBT_DOCS_PORT) --host 127.0.0.1 --no-browser

ui: setup
	mkdir -p "$(DAGSTER_HOME)" && touch "$(DAGSTER_HOME)/dagster.yaml"
	$(RUN) $(BIN)/dagster dev -w workspace.yaml -h 127.0.0.1 -p 3000

# The project's MLflow store as VoiceOps resolves it (VOICEOPS_MLFLOW_TRACKING_URI, else SQLite
# under VOICEOPS_HOME); `mlflow models serve` defaults to port 5000, so the UI takes another
MLFLOW_PORT ?= 5050
MLFLOW_SETTING = $(BIN)/python -c 'import sys; from core.settings import get_settings; \
	from registry.tracking import prepare_store; s = get_settings(); \
	print(prepare_store(s) if sys.argv[1] == "uri" else s.artifact_root)'

mlflow: setup  ## MLflow UI (runs, figures, registered models, signatures) on http://127.0.0.1:$(MLFLOW_PORT)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/mlflow ui --host 127.0.0.1 --port $(MLFLOW_PORT) \
		--backend-store-uri "$$($(MLFLOW_SETTING) uri)" \
		--default-artifact-root "$$($(MLFLOW_SETTING) root)"

screenshots: setup  ## PNGs of the Dagster asset page and the MLflow model page (after make demo)
	bash scripts/install_system_deps.sh chromium
	$(BIN)/uv pip install --quiet --python $(BIN)/python --constraint constraints.txt -e '.[screenshots]'
	$(RUN) $(BIN)/python scripts/screenshots.py --home "$(VOICEOPS_HOME)"

tensorboard: setup  ## training curves of every run: one directory per family / fingerprint
	mkdir -p "$(VOICEOPS_HOME)/models"
	$(BIN)/tensorboard --logdir "$(VOICEOPS_HOME)/models" --host 127.0.0.1 --port 6006

# deploy/: offline validation of every deployment file, one step per line (the fast tests also
# run in `make test`); then the images are built where a container runtime and the base image
# are present (deploy/docker/build.sh says why it skips otherwise).
deploy-check: setup
	$(RUN) $(BIN)/python -m pytest -q tests/deploy
	$(BIN)/python deploy/kfp/compile.py --check
	$(BIN)/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml
	$(BIN)/python deploy/k8s/render_canary.py --all-stages >/dev/null
	bash deploy/docker/resolve.sh
	bash deploy/docker/build.sh

# The CI stages (.github/workflows/ci.yml) beside lint and test, for any CI to run:
# images: every image of deploy/docker (TAG=<git sha> in CI; skipped without a container runtime)
images:
	bash deploy/docker/build.sh

# manifests: render every Kubernetes overlay, check the compiled Kubeflow pipeline is current,
# the workflows against GitHub's schema (and actionlint where installed), then the offline
# validation tests of deploy/ and of the Katib manifests
manifests: setup
	@for overlay in deploy/k8s/overlays/*/; do \
	  if command -v kubectl >/dev/null 2>&1; then \
	    kubectl kustomize "$$overlay" >/dev/null || exit 1; echo "manifests: $$overlay renders"; \
	  else echo "manifests: SKIP kubectl kustomize $$overlay: kubectl is not installed"; fi; \
	done
	$(BIN)/python deploy/kfp/compile.py --check
	$(BIN)/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml
	@if command -v actionlint >/dev/null 2>&1; then actionlint; \
	else echo "manifests: SKIP actionlint: not installed (the schema check above ran)"; fi
	$(RUN) $(BIN)/python -m pytest -q tests/deploy tests/tuning/test_render.py

# The serving canary's Istio weights at rollout stage STAGE of ROLLOUT (the canary template, a
# YAML file with a rollout, or an experiment key) into OVERLAY: commit the change, and
# the overlay's VirtualService moves (deploy/k8s/README.md)
OVERLAY ?= prod
ROLLOUT ?= experiments/canary.yaml
k8s-canary: setup
	$(BIN)/python deploy/k8s/render_canary.py --from "$(ROLLOUT)" --stage "$(STAGE)" \
		--out deploy/k8s/overlays/$(OVERLAY)/canary-route.yaml

# The alert rules as PrometheusRule objects for prometheus-operator (deploy/k8s/base)
k8s-rules: setup
	$(BIN)/python deploy/k8s/render_rules.py > deploy/k8s/base/prometheus-rules.yaml

bench: setup
	$(RUN) $(BIN)/python -m bench.run_all

clean:
	rm -rf $(VENV) .voiceops .pytest_cache .ruff_cache
