# The README's commands. Needs Python 3.11+ and make; everything else is installed here.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

AXE := tests/e2e/node_modules/axe-core/axe.min.js

.PHONY: demo test lint bench clean mutation screenshots

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

## make demo: the portal with demo data at http://127.0.0.1:5000 (Ctrl-C stops it)
demo: $(STAMP)
	HIVEO_SESSION_COOKIE_SECURE=0 $(BIN)/python -m hiveo.demo

# axe-core (accessibility checks in the e2e tests) comes from npm when npm is here;
# without it those checks fail under HIVEO_REQUIRE_BROWSER=1 and are skipped otherwise.
$(AXE): tests/e2e/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		npm ci --prefix tests/e2e --no-audit --no-fund --loglevel=error && touch $(AXE); \
	else echo "npm not found: the accessibility checks will not run"; fi

## make test: unit, integration (SQLite, and PostgreSQL with HIVEO_TEST_DATABASE_URL) and e2e
test: $(STAMP) $(AXE)
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) .pytest_cache mutants

## make mutation: mutation testing of the rules (docs/testing.md); a few minutes, not in CI.
## The modules are listed once, in pyproject.toml [tool.mutmut]. Fails if a mutant survives.
mutation: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,mutation]'
	rm -rf mutants
	$(BIN)/mutmut run
	@$(BIN)/mutmut results
	@! $(BIN)/mutmut results | grep -Eq 'survived|no tests|suspicious|timeout'

## make bench: the benchmark suite (bench/), writes docs/performance.md
bench: $(STAMP)
	$(BIN)/python -m bench.run $(ARGS)

## make screenshots: full-page PNGs of the main pages at 390 and 1440 px into docs/screenshots/
screenshots: $(STAMP)
	HIVEO_SCREENSHOTS=docs/screenshots $(BIN)/python -m pytest tests/e2e/screenshots.py -q -p no:randomly
	@if command -v pngquant >/dev/null 2>&1; then \
		pngquant --force --skip-if-larger --quality=60-85 --ext .png docs/screenshots/*.png || true; \
	else echo "pngquant not found: the screenshots stay uncompressed"; fi
