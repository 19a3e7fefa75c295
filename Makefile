# One task runner. `make demo` and `make test` do all set-up themselves on a fresh machine.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
SIZE ?= M
SEED ?= 7

.PHONY: demo test soak lint bench clean install java chromium

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[test]'
	touch $@

install: $(VENV)/.installed

# Generate the demo company, ingest it into the workspace `demo` of a local server home,
# analyse its open comments (the Comments page), and end with the server running at
# http://127.0.0.1:8000. The demo sign-in is fixed and printed: it is for this local demo only.
# The demo company's data end yesterday (DAY: the day it is made for, today in UTC unless
# given). The first run of a day builds demo-data/home; a later run on the same day with the
# same SIZE and SEED reuses it; `rm -rf demo-data` starts over.
DEMO_HOME := demo-data/home
DEMO_EMAIL := demo@cxlens.example
DEMO_PASSWORD := cxlens-demo-only
DAY ?= $(shell date -u +%F)
demo: install
	@if [ ! -f $(DEMO_HOME)/.demo-$(SIZE)-$(SEED)-$(DAY) ]; then \
	  rm -rf $(DEMO_HOME) && \
	  echo '$(DEMO_PASSWORD)' | $(BIN)/cxlens admin create-user $(DEMO_EMAIL) --password-stdin \
	    --home $(DEMO_HOME) && \
	  $(BIN)/cxlens admin create-workspace demo --owner $(DEMO_EMAIL) --name "Demo Oy" \
	    --home $(DEMO_HOME) && \
	  $(BIN)/cxlens demo run --size $(SIZE) --seed $(SEED) --today $(DAY) --out demo-data \
	    --workspace $(DEMO_HOME)/workspaces/demo && \
	  $(BIN)/cxlens text analyse --workspace $(DEMO_HOME)/workspaces/demo && \
	  touch $(DEMO_HOME)/.demo-$(SIZE)-$(SEED)-$(DAY); \
	fi
	@echo ""
	@echo "  cxlens demo: open http://127.0.0.1:8000"
	@echo "  sign in as   $(DEMO_EMAIL)"
	@echo "  password     $(DEMO_PASSWORD)   (a fixed password for this local demo only)"
	@echo ""
	exec $(BIN)/cxlens serve --home $(DEMO_HOME)

# Java is needed for the Spark engine tests; install it when it is missing.
java:
	@command -v java >/dev/null || (apt-get update -q && apt-get install -y -q openjdk-17-jre-headless)

# Debian's Chromium drives the browser tests (tests/browser); install it when it is missing.
chromium:
	@test -x /usr/bin/chromium || (apt-get update -q && apt-get install -y -q chromium)

test: install java chromium
	$(BIN)/ruff check src tests $(wildcard bench)
	$(BIN)/python -m pytest -q --durations=25

# The fuzz tests again with many more examples each (CXLENS_FUZZ_EXAMPLES); takes a while.
soak: install java chromium
	CXLENS_FUZZ_EXAMPLES=$${CXLENS_FUZZ_EXAMPLES:-1000} $(BIN)/python -m pytest -q -m fuzz

# The benchmarks write their figures and commands to docs/benchmarks.md.
bench: install
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/collect.py
	$(BIN)/python bench/pages.py
	$(BIN)/python bench/engine.py --size M

clean:
	rm -rf $(VENV) demo-data build *.egg-info
