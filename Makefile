# Every target sets itself up: a fresh machine needs only Python >= 3.11 and git.
# Installs come from the hash-pinned locks in requirements/ (see README "Development").
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip --disable-pip-version-check -qq
LOCK_FLAGS := --quiet --generate-hashes --allow-unsafe --strip-extras \
	--no-emit-index-url --no-emit-find-links

.PHONY: demo test lint check bench schemas fuzz lock test-latest test-oldest clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# The runtime lock, for `make demo`; the dev lock is a superset, for everything else.
$(VENV)/.runtime: requirements/main.txt pyproject.toml | $(BIN)/python
	@echo "Installing promoctl and its locked dependencies into $(VENV) (once)"
	$(PIP) install --require-hashes -r requirements/main.txt
	$(PIP) install --no-deps --no-build-isolation -e .
	touch $@

$(VENV)/.dev: requirements/dev.txt pyproject.toml | $(BIN)/python
	@echo "Installing promoctl with its locked test, lint and PDF dependencies into $(VENV) (once)"
	$(PIP) install --require-hashes -r requirements/dev.txt
	$(PIP) install --no-deps --no-build-isolation -e .
	touch $@ $(VENV)/.runtime

demo: $(VENV)/.runtime
	@# exit 1 means "evaluated; some packets NOT READY", which the examples are by design
	$(BIN)/promoctl evaluate examples/packets || test $$? -eq 1

test: $(VENV)/.dev
	$(BIN)/python -m pytest -q

# The fuzz tests with many more examples than `make test` gives them (a long run).
fuzz: $(VENV)/.dev
	PROMOCTL_FUZZ_EXAMPLES=$${PROMOCTL_FUZZ_EXAMPLES:-2000} $(BIN)/python -m pytest -q tests/test_fuzz.py

lint: $(VENV)/.dev
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy

check: lint test

# The benchmark (README "Performance"), with options in BENCH, e.g.
# make bench BENCH="--quick" or make bench BENCH="--baseline main --only precommit".
bench: $(VENV)/.dev
	$(BIN)/python -m benchmarks $(BENCH)

schemas: $(VENV)/.dev
	$(BIN)/promoctl schema --out schemas

# Refresh both locks to the newest versions pyproject.toml's ranges allow.
lock: $(VENV)/.dev
	$(BIN)/pip-compile $(LOCK_FLAGS) --upgrade -o requirements/main.txt \
		pyproject.toml requirements/build.in
	$(BIN)/pip-compile $(LOCK_FLAGS) --upgrade --extra dev --extra pdf \
		-o requirements/dev.txt pyproject.toml requirements/build.in

# The suite against the newest releases the ranges allow, in a venv of its own, so that
# upstream drift is found on purpose. The lock is not touched.
test-latest:
	rm -rf .venv-latest
	$(PYTHON) -m venv .venv-latest
	.venv-latest/bin/python -m pip --disable-pip-version-check -qq install --upgrade pip
	.venv-latest/bin/python -m pip --disable-pip-version-check -qq install \
		--upgrade --upgrade-strategy eager -e '.[dev,pdf]'
	.venv-latest/bin/python -m pytest -q -p no:cacheprovider

# The suite with every runtime dependency at the lowest version its range allows (the
# tools that only test and lint stay current).
test-oldest:
	rm -rf .venv-oldest
	$(PYTHON) -m venv .venv-oldest
	$(PYTHON) requirements/lowest.py pyproject.toml > .venv-oldest/constraints.txt
	.venv-oldest/bin/python -m pip --disable-pip-version-check -qq install \
		-c .venv-oldest/constraints.txt -e '.[dev,pdf]'
	.venv-oldest/bin/python -m pytest -q -p no:cacheprovider

clean:
	rm -rf $(VENV) .venv-latest .venv-oldest
