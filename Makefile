# Relax: the two commands a new user runs are `make figures` and `make test`.
# Both set up what they need (Debian packages, a Python virtualenv) first.

SHELL      := /bin/bash
SWIFT      ?= swift
VENV       := .venv
PYTHON     := $(VENV)/bin/python
BENCH_VENV := .venv-bench
RELAX      := .build/release/relax
OUT        := output

.PHONY: setup setup-system setup-python build test figures bench clean

setup: setup-system setup-python

setup-system:
	@scripts/setup-system.sh

setup-python:
	@scripts/setup-venv.sh $(VENV) Notebooks/requirements.txt

build: setup-system
	$(SWIFT) build -c release --product relax

test: setup
	RELAX_PYTHON=$(CURDIR)/$(PYTHON) $(SWIFT) test -c release -Xswiftc -enable-testing

figures: setup build
	@mkdir -p $(OUT)
	RELAX=$(CURDIR)/$(RELAX) $(PYTHON) Notebooks/run_notebooks.py --out $(OUT)

bench: setup-system build
	@scripts/setup-venv.sh $(BENCH_VENV) Benchmarks/requirements.txt
	RELAX=$(CURDIR)/$(RELAX) $(BENCH_VENV)/bin/python Benchmarks/run.py

clean:
	rm -rf .build $(OUT)/*.png $(OUT)/runs
