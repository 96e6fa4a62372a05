# One entry point for people and CI. Needs only python3 (3.11+), git and make.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
export PATH := $(abspath $(BIN)):$(PATH)

.PHONY: run venv test test-fast lint lock compose clean

run: $(STAMP)  ## set up, then build the whole pipeline on the built-in synthetic world
	$(BIN)/dvc repro

venv: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "churnml needs Python 3.11+"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $(STAMP)

test: $(STAMP)  ## set up if needed, then run every test (slow end-to-end included)
	$(BIN)/python -m pytest -m "slow or not slow" -n 2 --dist loadgroup

test-fast: $(STAMP)  ## the quick unit/property tests only
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks

compose: $(STAMP)  ## recompose params.yaml from conf/ (add overrides with ARGS="data.world.customers=500")
	$(BIN)/churnml compose $(ARGS)

lock:  ## re-pin requirements.lock from requirements.in (needs network to PyPI)
	$(PYTHON) -m venv /tmp/churnml-lock-venv && /tmp/churnml-lock-venv/bin/pip install --quiet uv
	/tmp/churnml-lock-venv/bin/uv pip compile requirements.in --python-version 3.11 --generate-hashes -o requirements.lock

clean:
	rm -rf $(VENV) data/raw data/interim data/features data/scored models/*/ reports/plots mlflow.db
