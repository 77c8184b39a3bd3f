# Two set-up commands: `make run` and `make test`. Each creates .venv itself.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
CONFIG ?= $(if $(wildcard fedsocial.toml),fedsocial.toml,config.example.toml)

.PHONY: run test lint bench clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[test,dev]'
	touch $@

run: $(VENV)/.installed
	$(BIN)/fedsocial --config $(CONFIG) init
	$(BIN)/fedsocial --config $(CONFIG) serve

test: $(VENV)/.installed
	$(BIN)/python -m pytest -q -p no:cacheprovider

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

bench: $(VENV)/.installed
	$(BIN)/python bench/footprint.py
	$(BIN)/python bench/inbox.py
	BENCH_SERVE_WORKERS=2 $(BIN)/python bench/inbox.py
	$(BIN)/python bench/delivery.py
	BENCH_SERVE_WORKERS=2 $(BIN)/python bench/delivery.py

clean:
	rm -rf $(VENV) *.egg-info
