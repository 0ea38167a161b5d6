# Two entry points for a fresh machine: `make serve` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: serve dev test check lint bench clean

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

# The whole suite on two workers (per-worker databases, ports and temp dirs), the 15 slowest
# tests printed at the end. PYTHONHASHSEED: repeatable schemathesis draws.
test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	PYTHONHASHSEED=0 $(BIN)/python -m pytest -n 2 --dist loadgroup

# The edit-run loop (< 60 s): lint, the import contracts, and the tests that need neither
# Chromium nor PostgreSQL nor a running server (nor are marked slow: the fuzzers, the wheel
# build, the notebooks, 50 exact MIPs, runs killed or rebuilt whole; make test runs them).
# The schemathesis files are all slow: not even collected here, nor its and hypothesis's
# pytest plugins loaded (two seconds of imports in each worker).
CHECK_SKIP := -p no:schemathesis -p no:hypothesispytest \
	--ignore=tests/test_schemathesis.py --ignore=tests/test_schemathesis_server.py
check: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	PYTHONHASHSEED=0 $(BIN)/python -m pytest -n 2 --dist loadgroup -q $(CHECK_SKIP) \
		-m "not browser and not pg and not server and not slow"

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python bench/nearest.py
	$(BIN)/python bench/coverage.py
	$(BIN)/python bench/network.py
	$(BIN)/python bench/planning.py
	$(BIN)/python bench/pages.py
	$(BIN)/python bench/load.py
	$(BIN)/python bench/writes.py
	$(BIN)/python bench/demand.py
	$(BIN)/python bench/schedule.py
	$(BIN)/python bench/national.py

clean:
	rm -rf $(VENV) build *.egg-info
