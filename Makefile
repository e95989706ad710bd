# Relax: the two commands a new user runs are `make figures` and `make test`.
# Both set up what they need first (Debian packages, a Python virtualenv).

SHELL       := /bin/bash
SWIFT       ?= swift
# One set of flags for the binary and the tests, so one release build serves both
# (-enable-testing lets the tests use @testable on an optimised build).
SWIFT_FLAGS := -c release -Xswiftc -enable-testing
VENV        := .venv
PYTHON      := $(VENV)/bin/python
BENCH_VENV  := .venv-bench
RELAX       := $(CURDIR)/.build/release/relax
OUT         := output

.PHONY: setup setup-system setup-python build test test-swift test-notebooks figures bench clean

setup: setup-system setup-python

setup-system:
	@scripts/setup-system.sh

setup-python:
	@scripts/setup-venv.sh $(VENV) Notebooks/requirements.txt

build: setup-system
	$(SWIFT) build $(SWIFT_FLAGS) --product relax

test: setup build test-swift test-notebooks

test-swift:
	RELAX_PYTHON=$(CURDIR)/$(PYTHON) $(SWIFT) test $(SWIFT_FLAGS)

# Executes every notebook (into a scratch directory), so a notebook that breaks fails CI.
test-notebooks:
	@scratch=$$(mktemp -d) && trap 'rm -rf "$$scratch"' EXIT && \
	  RELAX=$(RELAX) $(PYTHON) Notebooks/run_notebooks.py --out "$$scratch"

figures: setup build
	@mkdir -p $(OUT)
	RELAX=$(RELAX) $(PYTHON) Notebooks/run_notebooks.py --out $(OUT)

bench: setup-system build
	@scripts/setup-venv.sh $(BENCH_VENV) Benchmarks/requirements.txt
	RELAX=$(RELAX) $(BENCH_VENV)/bin/python Benchmarks/run.py

clean:
	rm -rf .build $(OUT)/*.png $(OUT)/runs
