# Two entry points: `make run` opens the app, `make test` runs the tests. Both create .venv on first use.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-fast lint lint-imports deadcode bench screenshots clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/python -m studio

# Tests run in xdist workers: a native crash inside Qt (seen rarely in long UI runs) restarts the
# worker and reruns only that test, and so does a native abort of a torchrun child (gloo's threads,
# seen once with both cores busy); ordinary failures are never retried. Two workers, one per core:
# each has its own settings folder (tests/conftest.py) and the distributed-export tests take free ports.
PYTEST_CMD := $(BIN)/python -m pytest -q --reruns 2 --only-rerun "crashed while running" \
	--only-rerun "Signal 6 \(SIGABRT\)"

# The layer contracts (pyproject.toml [tool.importlinter]) run first (a second); the tests run even
# when a contract is broken, and either failure fails the target.
CONTRACTS_THEN = $(BIN)/lint-imports; contracts=$$?; QT_QPA_PLATFORM=offscreen
CHECK_BOTH = tests=$$?; [ $$contracts -eq 0 ] || echo "layer contracts broken: see lint-imports above"; \
	[ $$contracts -eq 0 ] && [ $$tests -eq 0 ]

test: $(STAMP)
	@$(CONTRACTS_THEN) $(PYTEST_CMD) -n 2; $(CHECK_BOTH)

# The inner loop: everything but the tests marked slow, on two workers (the fast set stays under two
# minutes on two cores; each worker has its own settings folder, see tests/conftest.py).
test-fast: $(STAMP)
	@$(CONTRACTS_THEN) $(PYTEST_CMD) -n 2 -m "not slow"; $(CHECK_BOTH)

lint-imports: $(STAMP)
	$(BIN)/lint-imports

lint: $(STAMP)
	$(BIN)/ruff check .

# Candidates for removal (Qt overrides and torch hooks show up too: read before deleting).
deadcode: $(STAMP)
	$(BIN)/vulture studio nodes tools --min-confidence 80

bench: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
