# The two commands a newcomer needs: `make run` and `make test`. See README.md.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell sha1sum requirements.lock | cut -c1-12)

.PHONY: install run test stop lint format bench faults vendor clean multihost

$(STAMP): requirements.lock
	$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "Mockboard needs Python 3.11"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.lock
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

run: install
	PATH="$(CURDIR)/$(BIN):$$PATH" bash scripts/run.sh

# `make test ARGS="tests/exams -x -q"` runs a part of the suite the same way.
test: install
	PATH="$(CURDIR)/$(BIN):$$PATH" bash scripts/test.sh $(ARGS)

# Stops this checkout's embedded PostgreSQL and Redis if a `make run` was killed before it could.
stop: install
	$(BIN)/python -m config.embedded stop

lint: install
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format . && $(BIN)/ruff check --fix .

bench: install
	PATH="$(CURDIR)/$(BIN):$$PATH" bash scripts/bench.sh

# Two web hosts behind HAProxy, PgBouncer and a worker host in network namespaces, one web host
# killed mid-block (bench/multihost.py, docs/scaling.md). Needs root. EXAMINEES=100 by default.
# `make multihost ARGS=--compare`: the same cohort through one node then two, nothing killed.
multihost: install
	PATH="$(CURDIR)/$(BIN):$$PATH" bash scripts/multihost.sh $(ARGS)

# Re-vendor the front-end files from package-lock.json (needs npm; the results are committed).
vendor:
	npm ci --no-audit --no-fund
	cp node_modules/htmx.org/dist/htmx.min.js static/vendor/htmx.min.js

clean:
	test ! -x $(BIN)/python || $(BIN)/python -m config.embedded stop
	rm -rf $(VENV) var node_modules
