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
bytecode: $(VENV)/.bytecode
$(VENV)/.bytecode: $(VENV)/.stamp $(shell find vdsotool -name '*.py')
	$(BIN)/python -m compileall -q vdsotool
	touch $@

# Each image's build writes its depfile (out/vdso64.d), naming every file the build read:
# images.toml, the sources and their includes, the linker script, vdsotool's own modules.
# The depfile is the rule's target: vdsotool rewrites it on every build, while an output
# whose content did not change keeps its timestamp (Kbuild then rebuilds nothing). With
# nothing changed, `make build` runs no vdsotool at all.
IMAGES   := vdso32 vdso64 vdso64le
DEPFILES := $(IMAGES:%=$(OUT)/%.d)
$(OUT)/vdso32.d:   TARGET := --bits 32
$(OUT)/vdso64.d:   TARGET := --bits 64
$(OUT)/vdso64le.d: TARGET := --bits 64 --endian little

build: $(DEPFILES)
$(DEPFILES): $(VENV)/.bytecode
	$(BIN)/vdsotool build $(TARGET) --out $(OUT) --depfile $@

ifneq ($(filter build,$(MAKECMDGOALS)),)
-include $(DEPFILES)
endif

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
