# Every target sets itself up: a local .venv with the project installed editable.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export HYPOTHESIS_PROFILE ?= ci

.PHONY: run test typecheck pytest bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,dask]'
	touch $(STAMP)

run: $(STAMP)
	@sh examples/daily_loop.sh $(BIN)/stepfold

test: $(STAMP)
	$(BIN)/python -m mypy --strict
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python bench/bench_core.py
	$(BIN)/python bench/bench_many.py --json bench/results/many.json

clean:
	rm -rf $(VENV) build src/*.egg-info .mypy_cache .hypothesis
