# Fuzzy Dice: every entry point installs what is missing first (scripts/bootstrap.sh).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := run

ROOT := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
VENV := $(ROOT)/.venv
PY := $(VENV)/bin/python
REFLEX := $(VENV)/bin/reflex
ALEMBIC := $(VENV)/bin/alembic

export REFLEX_BUN_PATH := $(ROOT)/.tools/node_modules/.bin/bun
export REFLEX_TELEMETRY_ENABLED := 0
export REFLEX_CHECK_LATEST_VERSION := 0

# Migrations run against FUZZYDICE_DATABASE_URL (alembic/env.py reads it).
MIGRATE = $(ALEMBIC) upgrade head

.PHONY: run dev test bench bootstrap

bootstrap:
	bash scripts/bootstrap.sh

## make run: demo mode, production build, one origin http://127.0.0.1:3000; local chains L1 :8545 (31337), L2 :8546 (31338)
run: export FUZZYDICE_MODE := demo
run: bootstrap
	cd $(ROOT) && $(MIGRATE)
	cd $(ROOT) && exec bash scripts/with-devchain.sh $(REFLEX) run --env prod --frontend-port 3000 --backend-host 127.0.0.1

## make dev: demo mode, hot reload; pages http://127.0.0.1:3000, backend :8000; local chains :8545 and :8546
dev: export FUZZYDICE_MODE := demo
dev: bootstrap
	cd $(ROOT) && $(MIGRATE)
	cd $(ROOT) && exec bash scripts/with-devchain.sh $(REFLEX) run --env dev --frontend-port 3000 --backend-port 8000 --backend-host 127.0.0.1

## make test: installs everything missing (Debian Chromium included) and runs every test
test:
	bash scripts/bootstrap.sh --browser
	cd $(ROOT) && $(PY) -m ruff check --quiet --select F,E9 fuzzydice tests bench alembic
	cd $(ROOT) && $(PY) -m pytest $(PYTEST_ARGS)

## make bench: the benchmark harness, once bench/run.sh exists
bench:
	bash scripts/bootstrap.sh --browser
	@if [ -f bench/run.sh ]; then cd $(ROOT) && bash bench/run.sh; \
	else echo "make bench: bench/run.sh does not exist yet" >&2; fi
