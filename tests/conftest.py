"""Hypothesis profiles: `ci` (the default) is derandomized, so every run of `make test` tries the same examples."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

import stepfold.builder
from stepfold import MISSION_REGISTRY

settings.register_profile(
    "ci",
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=60,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", deadline=None, max_examples=300)
# `mutation` (make mutation): the `ci` profile with fewer examples, so each mutant's test run stays short.
settings.register_profile("mutation", settings.get_profile("ci"), max_examples=20)
# `fuzz` (make fuzz): random examples, at least 100,000 across the FUZZ_TESTS tests of tests/test_fuzz.py.
FUZZ_TESTS = 12
settings.register_profile(
    "fuzz",
    max_examples=-(-100_000 // FUZZ_TESTS),
    deadline=None,
    derandomize=False,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
        HealthCheck.large_base_example,
    ],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture
def registry_restored() -> Iterator[None]:
    """Put `MISSION_REGISTRY` back as it was after a test that registers missions."""
    before = dict(MISSION_REGISTRY)
    yield
    MISSION_REGISTRY.clear()
    MISSION_REGISTRY.update(before)


@pytest.fixture(autouse=True)
def workflows_built_afresh() -> None:
    """Every test starts with `build_workflow` remembering nothing, so each one runs the builders it names.

    (Without it, a test could be answered from a workflow an earlier test built, and under `make mutation` a
    mutated builder would never run at all.)
    """
    stepfold.builder._built.clear()
