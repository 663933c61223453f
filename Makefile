# The two commands a new user runs (see README):
#   make build   set up .venv and build every image and kernel output into out/
#   make test    set up .venv and the test oracles, then run the whole test suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
OUT    ?= out

.PHONY: build test bless bench deps venv bytecode templates clean

venv: $(VENV)/.stamp
$(VENV)/.stamp: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -e '.[test]' --config-settings editable_mode=compat
	touch $@

# vdsotool's bytecode, as pip compiles an installed package's (an editable install is not
# compiled): where PYTHONDONTWRITEBYTECODE=1 is set, Python would otherwise compile every
# module from source in every run (docs/performance.md). Python still checks each .pyc
# against its source, so an edited module is never run stale.
bytecode: venv
	$(BIN)/python -m compileall -q vdsotool

build: venv bytecode
	$(BIN)/vdsotool build --bits 32 --out $(OUT)
	$(BIN)/vdsotool build --bits 64 --out $(OUT)
	$(BIN)/vdsotool build --bits 64 --endian little --out $(OUT)

deps:
	scripts/install-test-deps.sh

# The whole suite, the full-size fuzzing (--slow) included: nothing is skipped in CI.
test: venv deps bytecode
	$(BIN)/python -m pytest -q -n 2 --slow

# jinja2's compiled form of vdsotool/emit/templates/*.j2, shipped beside them (a test fails
# while it differs from what the sources compile to).
templates: venv
	$(BIN)/python -c 'from vdsotool.emit.templates import compile_all; compile_all()'

# Rewrite golden files from the current output, on purpose; review the diff before committing.
bless: venv deps templates bytecode
	BLESS=1 $(BIN)/python -m pytest -q --slow

bench: venv deps bytecode
	$(BIN)/python bench/bench.py --out $(OUT)/bench.json

clean:
	rm -rf $(OUT) .pytest_cache
