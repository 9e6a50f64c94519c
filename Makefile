# Lantern: `make demo` and `make test` work from a fresh clone (Python 3.11+, Java 17+).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install system-packages bench fuzz demo test services-up services-down services-status clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# Debian packages (readpst, tesseract, chromium); installs only what is missing.
system-packages:
	scripts/install-system-packages.sh

services-up: install system-packages
	$(BIN)/lantern services up

services-down: install
	$(BIN)/lantern services down

services-status: install
	$(BIN)/lantern services status

demo: install system-packages
	$(BIN)/lantern demo

test: services-up
	$(BIN)/python -m pytest

# API fuzzing: schemathesis against the OpenAPI spec with many examples a route; no 5xx allowed.
fuzz: services-up $(STAMP)
	LANTERN_FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-200} $(BIN)/python -m pytest -q tests/search_api/test_fuzz.py

# Benchmarks: BENCH_SIZE items (default 10000); JSON and a PNG chart in bench/results/.
bench: services-up
	scripts/install-system-packages.sh recoll notmuch poppler-utils
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	$(BIN)/python -m bench.run --size $${BENCH_SIZE:-10000}

clean:
	rm -rf $(VENV) demo-data *.egg-info
