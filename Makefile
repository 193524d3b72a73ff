# Every target sets itself up: a fresh machine needs only Python >= 3.11 and git.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test fuzz lint check bench schemas clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	@# exit 1 means "evaluated; some packets NOT READY", which the examples are by design
	$(BIN)/promoctl evaluate examples/packets || test $$? -eq 1

test: $(STAMP)
	$(BIN)/python -m pytest -q

# The fuzz tests with many more examples than `make test` gives them (a long run).
fuzz: $(STAMP)
	PROMOCTL_FUZZ_EXAMPLES=$${PROMOCTL_FUZZ_EXAMPLES:-2000} $(BIN)/python -m pytest -q tests/test_fuzz.py

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy

check: lint test

bench: $(STAMP)
	$(BIN)/python benchmarks/bench.py

schemas: $(STAMP)
	$(BIN)/promoctl schema --out schemas

clean:
	rm -rf $(VENV)
