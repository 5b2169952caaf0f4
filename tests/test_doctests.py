"""The examples in the front doors' docstrings (`freeze`, `State`, `run_workflow`, `verify`) run, and say what they do."""

from __future__ import annotations

import doctest
import importlib

import pytest

FRONT_DOORS = ["stepfold.values", "stepfold.state", "stepfold.engine", "stepfold.verification"]


@pytest.mark.parametrize("name", FRONT_DOORS)
def test_the_docstring_examples_of_a_front_door_hold(name: str) -> None:
    outcome = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert outcome.attempted > 0, f"{name} has no docstring examples"
    assert outcome.failed == 0
