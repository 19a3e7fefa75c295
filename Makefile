# One task runner. `make demo` and `make test` do all set-up themselves on a fresh machine.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
SIZE ?= M
SEED ?= 7
WORKSPACE ?= demo-data/workspace

.PHONY: demo test lint bench clean install

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[test]'
	touch $@

install: $(VENV)/.installed

# Generate the demo company, ingest every file through the real ingest path, show the result.
demo: install
	$(BIN)/cxlens demo run --size $(SIZE) --seed $(SEED) --out demo-data --workspace $(WORKSPACE)

# Java is needed for the Spark engine tests; install it when it is missing.
java:
	@command -v java >/dev/null || (apt-get update -q && apt-get install -y -q openjdk-17-jre-headless)

test: install java
	$(BIN)/ruff check src tests $(wildcard bench)
	$(BIN)/python -m pytest -q

bench: install
	$(BIN)/python bench/ingest.py

clean:
	rm -rf $(VENV) demo-data build *.egg-info
