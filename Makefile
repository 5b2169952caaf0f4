# Every target sets itself up: a local .venv with the project installed editable.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export HYPOTHESIS_PROFILE ?= ci

.PHONY: run test bench bench-peers fuzz mutation clean

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

# Optional extras, installed on first use into the same .venv.
$(VENV)/.installed-%: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,dask,$*]'
	touch $@

bench-peers: $(VENV)/.installed-bench
	$(BIN)/python bench/peers.py

# At least 100,000 random examples across tests/test_fuzz.py (not run in CI; CI runs the same tests on the `ci` profile).
fuzz: $(STAMP)
	HYPOTHESIS_PROFILE=fuzz $(BIN)/python -m pytest -q tests/test_fuzz.py

# mutmut over the core (configured in [tool.mutmut]); prints the score per module and in total.
mutation: $(VENV)/.installed-mutation
	$(BIN)/python scripts/mutation_score.py

clean:
	rm -rf $(VENV) build src/*.egg-info .mypy_cache .hypothesis mutants
