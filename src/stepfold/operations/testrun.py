"""The `run_tests` mission's operations: record what its effects found and ran, then judge the run.

Pure, like every operation: `tests.discover` and `tests.run` (effects, in
`stepfold.effects`) do the work; these record their outcomes under
`state["tests"]` and decide. The names are new because what the steps do
changed (operations are immutable by name); the planning operations of
stepfold 0.1 stay registered in `testplan` for the runs that used them.
"""

from __future__ import annotations

from pyrsistent import PMap, PVector, pmap

from stepfold.errors import OperationError
from stepfold.operations.base import argument, describe, str_argument
from stepfold.state import State
from stepfold.values import Value
from stepfold.workflow import StepSpec

__all__ = ["record_discovery", "record_run", "report_run", "tests_record", "COUNTS"]

COUNTS = ("passed", "failed", "errors", "skipped")
"""The counts `tests.run` records from the runner's JUnit XML (null when the runner writes none)."""


def tests_record(state: State) -> PMap[str, Value]:
    """`state["tests"]` (an empty mapping when absent); `OperationError` when it is not a mapping."""
    value = state.get("tests", pmap())
    if not isinstance(value, PMap):
        raise OperationError(f"state.tests: expected a mapping, got {describe(value)}")
    return value


def record_discovery(state: State, step: StepSpec) -> State:
    """`tests = {"paths", "pattern", "files"}`: what was looked for (the payload) and the files found (the input)."""
    paths = argument(step, "paths")
    if not isinstance(paths, PVector) or not all(isinstance(p, str) for p in paths):
        raise OperationError(f"payload 'paths' must be a list of strings, got {describe(paths)}")
    pattern = str_argument(step, "pattern")
    files = argument(step, "input")
    if not isinstance(files, PVector) or not all(isinstance(f, str) for f in files):
        raise OperationError(f"the discovered files must be a list of paths, got {describe(files)}")
    return state.set("tests", {"paths": paths, "pattern": pattern, "files": files})


def _count(run: PMap[str, Value], name: str) -> int | None:
    value = run.get(name)
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
        raise OperationError(f"the test run's {name!r} must be a count or null, got {describe(value)}")
    return value


def record_run(state: State, step: StepSpec) -> State:
    """`tests.run`: what the test run recorded (exit code, counts, duration, output tail)."""
    run = argument(step, "input")
    if not isinstance(run, PMap) or isinstance(run.get("exit_code"), bool) or not isinstance(run.get("exit_code"), int):
        raise OperationError(f"the test run must be a mapping with an int 'exit_code', got {describe(run)}")
    for name in COUNTS:
        _count(run, name)
    return state.set("tests", tests_record(state).set("run", run))


def report_run(state: State, step: StepSpec) -> State:
    """`tests.report = {"status": "passed", ...counts}` when the run passed (exit code 0, no failures or errors); else the step fails."""
    tests = tests_record(state)
    run = tests.get("run")
    if not isinstance(run, PMap):
        raise OperationError("state.tests.run: missing; tests-execute records the test run first")
    counts = {name: _count(run, name) for name in COUNTS}
    exit_code = run.get("exit_code")
    if exit_code == 0 and not counts["failed"] and not counts["errors"]:
        report: PMap[str, Value] = pmap({"status": "passed", **counts})
        return state.set("tests", tests.set("report", report))
    shown = ", ".join(f"{counts[name]} {name}" for name in COUNTS if counts[name] is not None) or "no counts"
    raise OperationError(f"the tests did not pass: {shown}; the runner exited with {exit_code}")
