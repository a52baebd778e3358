# Two entry points, each from a fresh clone: `make demo` and `make test`.
# Both create the virtual environment on first use (about 5 GB, mostly PyTorch).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test test-all clean

$(BIN)/mlsd: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

demo: $(BIN)/mlsd  ## set up, then run the fraud design end to end
	$(BIN)/mlsd run fraud

test: $(BIN)/mlsd  ## set up, then run the fast test suite
	$(BIN)/python -m pytest

test-all: $(BIN)/mlsd  ## also the tests marked slow
	$(BIN)/python -m pytest -m ""

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
