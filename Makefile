# Tocsin: two commands do all the set-up on a fresh machine with Python 3.11+ and make.
#   make demo   create the venv, install Tocsin, set up the demo establishment
#   make test   create the venv, install Tocsin with its test extras, run the whole suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
export TOCSIN_HOME ?= $(CURDIR)/var/home

.PHONY: install demo serve test lint typecheck check bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/tocsin demo

serve: install
	$(BIN)/tocsin serve

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: install
	$(BIN)/mypy

check: lint typecheck test

bench: install
	$(BIN)/python bench/inventory_import.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
