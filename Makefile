# The two commands of the quick start: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test check lint typecheck clean bench screenshot

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

## One full cycle of the real service on bundled feed snapshots served on 127.0.0.1.
demo: $(STAMP)
	$(BIN)/python demo/run_demo.py

## docs/digest.png: the demo digest in headless Chromium at 375 px (after `make demo`).
screenshot: $(STAMP)
	$(BIN)/python demo/screenshot.py

## The whole test suite (real HTTP and SMTP servers on 127.0.0.1, real SQLite files).
test: $(STAMP)
	$(BIN)/python -m pytest -q

## Validate indicators.yaml and run every indicator's examples.
check: $(STAMP)
	$(BIN)/watcher check indicators.yaml

## Polling and matching benchmark against the peer tools (long; see benchmarks/README.md).
BENCH_ARGS ?= --feeds 1000 5000 --reps 3
bench: $(STAMP)
	$(BIN)/python benchmarks/run.py $(BENCH_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check watcher tests demo

typecheck: $(STAMP)
	$(BIN)/mypy

clean:
	rm -rf .demo var .pytest_cache .mypy_cache
