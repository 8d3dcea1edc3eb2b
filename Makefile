# The two commands of the quick start: `make run` and `make test`. Each does all of its own set-up.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is required"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

## run: the demo: serve the API and pages on http://127.0.0.1:8080 (embedded store, bundled Henan geodata)
##      polling a feed simulator on 127.0.0.1 (python -m demo [--step-s S]; `travel serve` is the service alone)
run: $(STAMP)
	$(BIN)/python -m demo

## test: the whole suite (PostGIS/Redis suites skip with a reason where those servers are absent)
test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .

## bench: the API benchmark against a bare aiohttp handler
bench: $(STAMP)
	$(BIN)/python -m bench api

clean:
	rm -rf $(VENV) data .pytest_cache .ruff_cache
