# Two entry points, each from a fresh clone: `make demo` and `make test`.
# Both create the virtual environment on first use (about 5 GB, mostly PyTorch), installing
# every package at the exact version in requirements.lock, then mlsd itself without resolving
# anything (--no-deps): a dependency's new release cannot change what a fresh clone gets.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
UV ?= uv

.PHONY: demo test test-all bench lock clean

$(BIN)/mlsd: pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $@

demo: $(BIN)/mlsd  ## set up, then run the fraud design end to end
	$(BIN)/mlsd run fraud

test: $(BIN)/mlsd  ## set up, then run the fast test suite
	$(BIN)/python -m pytest

test-all: $(BIN)/mlsd  ## also the tests marked slow
	$(BIN)/python -m pytest -m ""

bench: $(BIN)/mlsd  ## measure every design idle and busy; rewrites docs/benchmarks.md (about 45 minutes)
	$(BIN)/python -m mlsd.bench

lock:  ## re-resolve every dependency into requirements.lock (see docs/installing.md)
	printf 'setuptools\nwheel\n' | $(UV) pip compile pyproject.toml - --extra test \
		--universal --python-version 3.11 --custom-compile-command 'make lock   # then: make clean test (docs/installing.md)' -o requirements.lock

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
