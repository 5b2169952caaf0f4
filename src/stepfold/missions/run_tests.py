"""The `run_tests` mission: discover, execute, report; pure steps that record a test plan in `state["tests"]`."""

from __future__ import annotations

from stepfold.missions.base import Mission, param, str_list_param
from stepfold.errors import InvalidValueError
from stepfold.values import Params
from stepfold.workflow import RUNTIME, StepSpec, WorkflowDefinition

__all__ = ["RUN_TESTS", "build_run_tests"]


def build_run_tests(params: Params) -> WorkflowDefinition:
    """Params: `paths` (default ["tests"]), `pattern` (default "test_*.py"), `runner` argv (default pytest)."""
    paths = str_list_param(params, "paths", ["tests"])
    runner = str_list_param(params, "runner", ["python", "-m", "pytest", "-q"])
    pattern = param(params, "pattern", "test_*.py")
    if not isinstance(pattern, str):
        raise InvalidValueError(f"params.pattern: expected a string, got {pattern!r}")
    return WorkflowDefinition(
        id="run_tests",
        steps=[
            StepSpec("tests-discover", RUNTIME, {"operation": "tests.discover", "paths": paths, "pattern": pattern}),
            StepSpec("tests-execute", RUNTIME, {"operation": "tests.execute", "runner": runner}),
            StepSpec("tests-report", RUNTIME, {"operation": "tests.report"}),
        ],
        metadata={"mission": "run_tests"},
    )


RUN_TESTS = Mission(build_run_tests, description="Plan a test run: discover, execute (as a plan for a shell), report.")
"""The run_tests mission."""
