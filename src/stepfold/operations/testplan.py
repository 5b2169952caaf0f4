"""The `run_tests` mission's operations: they record a test plan under `state["tests"]`.

Running tests is I/O, a shell's job; the core only plans it and reports
whatever results a shell has written into `state["tests"]["results"]`.
"""

from __future__ import annotations

from pyrsistent import PMap, PVector

from stepfold.errors import OperationError
from stepfold.operations.base import argument, describe, str_argument
from stepfold.operations.testrun import tests_record
from stepfold.state import State
from stepfold.values import Value
from stepfold.workflow import StepSpec

__all__ = ["discover_tests", "plan_test_execution", "report_tests"]


def discover_tests(state: State, step: StepSpec) -> State:
    """`tests = {"paths", "pattern"}` from the payload (what to collect)."""
    paths = argument(step, "paths")
    if not isinstance(paths, PVector) or not all(isinstance(p, str) for p in paths):
        raise OperationError(f"payload 'paths' must be a list of strings, got {describe(paths)}")
    pattern = str_argument(step, "pattern")
    return state.set("tests", {"paths": paths, "pattern": pattern})


def plan_test_execution(state: State, step: StepSpec) -> State:
    """`tests.command`: the argv a shell should run for the discovered paths."""
    tests = tests_record(state)
    paths = tests.get("paths")
    if not isinstance(paths, PVector):
        raise OperationError("state.tests.paths: missing; run tests.discover first")
    runner = argument(step, "runner")
    if not isinstance(runner, PVector) or not all(isinstance(a, str) for a in runner):
        raise OperationError(f"payload 'runner' must be a list of strings, got {describe(runner)}")
    return state.set("tests", tests.set("command", runner + paths))


def report_tests(state: State, step: StepSpec) -> State:
    """`tests.report`: "planned" until a shell records `tests.results`, then passed/failed from them."""
    tests = tests_record(state)
    results = tests.get("results")
    if results is None:
        report: dict[str, Value] = {"status": "planned"}
    elif isinstance(results, PMap) and isinstance(results.get("failed", 0), int):
        failed = results.get("failed", 0)
        report = {"status": "failed" if failed else "passed", "results": results}
    else:
        raise OperationError(f"state.tests.results: expected a mapping with an int 'failed', got {describe(results)}")
    return state.set("tests", tests.set("report", report))  # type: ignore[arg-type]
