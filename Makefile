# Two entry points for a fresh machine: `make serve` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: serve dev test lint bench clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test,prod]'
	touch $(STAMP)

serve: $(STAMP)
	$(BIN)/stations serve --host $(HOST) --port $(PORT)

dev: $(STAMP)
	$(BIN)/stations serve --dev --host $(HOST) --port $(PORT)

test: $(STAMP)
	$(BIN)/ruff check .
	PYTHONHASHSEED=0 $(BIN)/python -m pytest  # repeatable: schemathesis draws depend on it

lint: $(STAMP)
	$(BIN)/ruff check .

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python bench/nearest.py
	$(BIN)/python bench/coverage.py
	$(BIN)/python bench/network.py
	$(BIN)/python bench/planning.py
	$(BIN)/python bench/pages.py
	$(BIN)/python bench/load.py
	$(BIN)/python bench/writes.py
	$(BIN)/python bench/national.py

clean:
	rm -rf $(VENV) build *.egg-info
