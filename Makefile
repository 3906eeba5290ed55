# Two commands set up everything on a fresh machine: `make run` and `make test`.
VENV ?= .venv
BIN := $(VENV)/bin
PYTHON ?= python3
export FLASK_APP := wsgi

.PHONY: run test bench lint format venv clean

$(BIN)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $@

venv: $(BIN)/.installed

## make run: the app, the email service and the outbox worker on SQLite, with demo data
run: venv
	mkdir -p instance
	$(BIN)/flask db upgrade
	$(BIN)/flask seed-demo --if-empty
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/honcho start -f Procfile

## make test: ruff and the whole suite against a throwaway PostgreSQL cluster
test: venv
	VENV=$(VENV) bash scripts/test.sh

## make bench: the benchmark harness (see bench/README.md)
bench: venv
	VENV=$(VENV) bash scripts/bench.sh

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: venv
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
