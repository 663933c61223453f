# The two commands a new user runs (see README):
#   make build   set up .venv and build every image and kernel output into out/
#   make test    set up .venv and the test oracles, then run the whole test suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
OUT    ?= out

.PHONY: build test bless bench deps venv clean

venv: $(VENV)/.stamp
$(VENV)/.stamp: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -e '.[test]' --config-settings editable_mode=compat
	touch $@

build: venv
	$(BIN)/vdsotool build --bits 32 --out $(OUT)
	$(BIN)/vdsotool build --bits 64 --out $(OUT)
	$(BIN)/vdsotool build --bits 64 --endian little --out $(OUT)

deps:
	scripts/install-test-deps.sh

# The whole suite, the full-size fuzzing (--slow) included: nothing is skipped in CI.
test: venv deps
	$(BIN)/python -m pytest -q -n 2 --slow

# Rewrite golden files from the current output, on purpose; review the diff before committing.
bless: venv deps
	BLESS=1 $(BIN)/python -m pytest -q --slow

bench: venv deps
	$(BIN)/python bench/bench.py --out $(OUT)/bench.json

clean:
	rm -rf $(OUT) .pytest_cache
