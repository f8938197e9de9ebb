# Quick start: `make demo` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The versions that were tested: `make lock` rewrites it (after adding a dependency).
CONSTRAINTS := constraints.txt

.PHONY: demo test lint typecheck pytest bench clean lock env-example wheel smoke

$(STAMP): pyproject.toml $(CONSTRAINTS)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c $(CONSTRAINTS) -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/pulse demo

test: $(STAMP) lint typecheck pytest

lint: $(STAMP)
	$(BIN)/ruff check .

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/pytest

bench: $(STAMP)
	for script in bench/[a-z]*.py; do $(BIN)/python $$script || exit 1; done

# Resolve every dependency (all extras) afresh in a throwaway virtualenv and pin the result.
lock:
	bash .ci/lock $(CONSTRAINTS)

# .env.example lists every setting with its default; a test fails until it is regenerated.
env-example: $(STAMP)
	$(BIN)/python -m pipeline.envexample .env.example

# The wheel and sdist in dist/, as a release would build them.
wheel: $(STAMP)
	rm -rf dist
	$(BIN)/python -m build --outdir dist .

# What an operator does: the wheel in a fresh virtualenv, demo, serve, scheduler, production steps.
smoke: wheel
	bash .ci/wheel-smoke

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache dist build *.egg-info
