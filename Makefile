# Every target sets itself up: a local .venv with the project installed editable (and its developer tools).
# `editable_mode=compat` puts src/ on sys.path through a plain .pth file (as a src layout always had), so mypy run
# on any file finds the checkout's stepfold; the default mode would use an import hook mypy cannot follow, because
# the wheel's `pyrsistent-stubs` package comes from typings/.
EDITABLE := --config-settings editable_mode=compat -e
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export HYPOTHESIS_PROFILE ?= ci

.PHONY: run test lint typecheck docs bench bench-peers fuzz mutation clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade 'pip>=25.1'
	$(BIN)/python -m pip install --quiet $(EDITABLE) '.[testing,signing,dask]' --group dev
	touch $(STAMP)

run: $(STAMP)
	@sh examples/run_all.sh $(BIN)/stepfold

lint: $(STAMP)
	$(BIN)/ruff check src tests bench examples scripts
	$(BIN)/ruff format --check src tests bench examples scripts

typecheck: $(STAMP)
	$(BIN)/python -m mypy --strict

test: lint typecheck
	$(BIN)/python -m pytest

# Regenerate every block of real output in README.md and docs/ (tests/test_docs.py fails when one drifts).
docs: $(STAMP)
	$(BIN)/python scripts/make_docs.py

bench: $(VENV)/.installed-bench
	$(BIN)/python bench/bench_core.py
	$(BIN)/python bench/bench_scale.py
	$(BIN)/python bench/bench_many.py --json bench/results/many.json
	$(BIN)/python bench/bench_batch.py

# Optional tool groups, installed on first use into the same .venv.
$(VENV)/.installed-%: $(STAMP)
	$(BIN)/python -m pip install --quiet $(EDITABLE) '.[testing,signing,dask]' --group dev --group $*
	touch $@

bench-peers: $(VENV)/.installed-bench
	$(BIN)/python -m mypy --strict bench/peers/*.py
	$(BIN)/python -m bench.peers

# At least 100,000 random examples across tests/test_fuzz.py (not run in CI; CI runs the same tests on the `ci` profile).
fuzz: $(STAMP)
	HYPOTHESIS_PROFILE=fuzz $(BIN)/python -m pytest -q tests/test_fuzz.py

# mutmut over the core (configured in [tool.mutmut]); prints the score per module and in total.
mutation: $(VENV)/.installed-mutation
	$(BIN)/python scripts/mutation_score.py

clean:
	rm -rf $(VENV) build src/*.egg-info .mypy_cache .hypothesis mutants
