# The two commands a new user runs (see README): `make demo` and `make test`.
# Both build their own virtual environment in .venv from nothing but Python 3.11+.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: demo test lint typecheck unit venv clean bench bench-load

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit("mockpoint needs Python 3.11 or newer, found " + sys.version.split()[0]) if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

demo: venv
	$(BIN)/mockpoint run -v examples/02-plug-in-first-charging.yaml

lint: venv
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: venv
	$(BIN)/mypy

# The TypeScript client of docs/serve-clients.md needs its node packages for its test; where
# npm is missing, the test says so and skips.
NPM := $(shell command -v npm 2>/dev/null)

unit: venv $(if $(NPM),examples/serve/node_modules/.package-lock.json)
	$(BIN)/python -m pytest

examples/serve/node_modules/.package-lock.json: examples/serve/package-lock.json
	npm ci --prefix examples/serve --no-audit --no-fund

test: lint typecheck unit

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache examples/serve/node_modules

bench: venv
	$(BIN)/python benchmarks/bench_core.py

bench-load: venv
	$(BIN)/python benchmarks/bench_load.py

# The wheel users install (dist/mockpoint-<version>-py3-none-any.whl), OCA schemas inside.
.PHONY: wheel
wheel: venv
	$(BIN)/python -m pip wheel --no-deps -w dist .
