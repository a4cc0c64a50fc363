# The README names these targets. Only Python 3.11+ and make are needed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum requirements.txt | cut -d' ' -f1)
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run test lint format chromium js-sdk bench clean psql

$(STAMP): requirements.txt
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

## make run: install, migrate, load demo data the first time, print the demo logins, serve,
## with one job worker beside the server (docs/jobs.md).
# Without DATABASE_URL, WITH_DB holds the embedded PostgreSQL (var/pgdata) for the whole command.
WITH_DB := $(BIN)/python -m backoffice.embedded_db run --

run: install
	$(WITH_DB) sh -c '$(BIN)/python manage.py migrate --noinput \
	  && $(BIN)/python manage.py demo_setup --base-url http://$(HOST):$(PORT) \
	  && scripts/serve-with-worker $(BIN)/python $(HOST):$(PORT)'

## make test: install (Python packages, Debian's chromium, EPCC's JS SDK), lint, check the layering, run the whole suite.
test: install chromium js-sdk
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-cache
	$(WITH_DB) $(BIN)/pytest

chromium:
	scripts/ensure-chromium

js-sdk:
	scripts/ensure-js-sdk

lint: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-cache
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: install
	$(BIN)/python -m bench

clean:
	-$(BIN)/python -m backoffice.embedded_db stop
	rm -rf $(VENV) var .pytest_cache .ruff_cache

## make psql: a psql shell on the project's database (the embedded one without DATABASE_URL).
psql: install
	$(BIN)/python -m backoffice.embedded_db psql
