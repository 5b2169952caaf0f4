"""The `run_tests` mission: discover the test files, run them, report; discover and run are effects the shell performs."""

from __future__ import annotations

from stepfold.errors import InvalidValueError
from stepfold.missions.base import Mission, param, str_list_param
from stepfold.values import Params
from stepfold.workflow import RUNTIME, StepSpec, WorkflowDefinition

__all__ = ["RUN_TESTS", "build_run_tests", "DEFAULT_RUNNER", "DEFAULT_TIMEOUT_S"]

DEFAULT_RUNNER = ["python", "-m", "pytest", "-q"]
"""The runner argv when the params do not say; `python` means the interpreter running stepfold."""

DEFAULT_TIMEOUT_S = 900
"""Seconds the test run may take when the params do not say."""


def build_run_tests(params: Params) -> WorkflowDefinition:
    """Params: `paths` (default ["tests"]), `pattern` (default "test_*.py"), `runner` argv (default pytest), `timeout_s` (default 900)."""
    paths = str_list_param(params, "paths", ["tests"])
    runner = str_list_param(params, "runner", DEFAULT_RUNNER)
    if not runner:
        raise InvalidValueError("params.runner: expected a command (a non-empty list of strings), got []")
    pattern = param(params, "pattern", "test_*.py")
    if not isinstance(pattern, str) or not pattern:
        raise InvalidValueError(f"params.pattern: expected a file name pattern (a non-empty string), got {pattern!r}")
    timeout = param(params, "timeout_s", DEFAULT_TIMEOUT_S)
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
        raise InvalidValueError(f"params.timeout_s: expected a number of seconds > 0, got {timeout!r}")
    return WorkflowDefinition(
        id="run_tests",
        steps=[
            StepSpec(
                "tests-discover",
                RUNTIME,
                {
                    "effect": "tests.discover",
                    "operation": "tests.discovered",
                    "paths": paths,
                    "pattern": pattern,
                },
            ),
            StepSpec(
                "tests-execute",
                RUNTIME,
                {
                    "effect": "tests.run",
                    "operation": "tests.ran",
                    "runner": runner,
                    "timeout_s": timeout,
                },
            ),
            StepSpec("tests-report", RUNTIME, {"operation": "tests.verdict"}),
        ],
        metadata={"mission": "run_tests"},
    )


RUN_TESTS = Mission(
    build_run_tests, description="Run a project's tests (discover, run: effects) and report whether they passed."
)
"""The run_tests mission; its effects `tests.discover` and `tests.run` are built into the shell."""
