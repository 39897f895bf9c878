# The README's commands. Needs Python 3.11+ and make; everything else is installed here.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

## make demo: the portal with demo data at http://127.0.0.1:5000 (Ctrl-C stops it)
demo: $(STAMP)
	HIVEO_SESSION_COOKIE_SECURE=0 $(BIN)/python -m hiveo.demo

## make test: unit, integration (SQLite, and PostgreSQL with HIVEO_TEST_DATABASE_URL) and e2e
test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) .pytest_cache
