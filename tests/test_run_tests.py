"""The `run_tests` mission: discover and execute are effect steps, report is pure; real runs on examples/projects."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from stepfold import (
    DEFAULT_OPERATIONS,
    ExecutionContext,
    MissionSpec,
    OrchestrationResult,
    build_workflow,
    failed_outcome,
    ok_outcome,
    run_mission,
    verify,
)
from stepfold.effects import drive, effects_for
from stepfold.effects.testrun import TAIL_BYTES, TAIL_LINES
from stepfold.registry import operations_for

PROJECTS = Path(__file__).resolve().parent.parent / "examples" / "projects"
FILES = ["tests/test_calc.py"]
PASSED_RUN = {
    "command": ["python", "-m", "pytest", "-q", *FILES],
    "exit_code": 0,
    "passed": 3,
    "failed": 0,
    "errors": 0,
    "skipped": 0,
    "duration_s": 0.5,
    "output_tail": "3 passed",
}


def outcomes(run: dict[str, object]) -> dict[str, object]:
    return {"tests-discover": ok_outcome(FILES), "tests-execute": ok_outcome(run)}


def test_run_tests_plans_two_effect_steps_and_a_pure_report_with_documented_defaults() -> None:
    workflow = build_workflow(MissionSpec("run_tests"))
    assert workflow.id == "run_tests"
    assert [step.to_dict() for step in workflow.steps] == [
        {
            "id": "tests-discover",
            "kind": "runtime",
            "payload": {
                "effect": "tests.discover",
                "operation": "tests.discovered",
                "paths": ["tests"],
                "pattern": "test_*.py",
            },
        },
        {
            "id": "tests-execute",
            "kind": "runtime",
            "payload": {
                "effect": "tests.run",
                "operation": "tests.ran",
                "runner": ["python", "-m", "pytest", "-q"],
                "timeout_s": 900,
            },
        },
        {"id": "tests-report", "kind": "runtime", "payload": {"operation": "tests.verdict"}},
    ]
    assert all(step.operation in DEFAULT_OPERATIONS for step in workflow.steps)


def test_run_tests_honours_its_params() -> None:
    params = {"paths": ["a"], "pattern": "check_*.py", "runner": ["tox", "-e", "py"], "timeout_s": 60}
    discover, execute, _ = (
        step.to_dict()["payload"] for step in build_workflow(MissionSpec("run_tests", params)).steps
    )
    assert (discover["paths"], discover["pattern"]) == (["a"], "check_*.py")  # type: ignore[index]
    assert (execute["runner"], execute["timeout_s"]) == (["tox", "-e", "py"], 60)  # type: ignore[index]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"runner": []}, "params.runner: expected a command (a non-empty list of strings), got []"),
        ({"timeout_s": 0}, "params.timeout_s: expected a number of seconds > 0, got 0"),
        ({"timeout_s": True}, "params.timeout_s: expected a number of seconds > 0, got True"),
        ({"pattern": ""}, "params.pattern: expected a file name pattern (a non-empty string), got ''"),
    ],
)
def test_run_tests_refuses_params_it_cannot_run_with(params: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError) as info:
        build_workflow(MissionSpec("run_tests", params))
    assert str(info.value) == message


def test_without_outcomes_the_run_waits_for_the_discover_effect() -> None:
    result = run_mission("run_tests", ExecutionContext(initial_state={"other": 1}))
    assert (result.status, result.pending_step_id, result.waiting_for, result.pending_effect) == (
        "suspended",
        "tests-discover",
        "effect",
        "tests.discover",
    )
    assert result.executed_steps == ()


def test_a_passing_run_given_its_outcomes_up_front_reports_passed() -> None:
    result = run_mission("run_tests", ExecutionContext(initial_state={"other": 1}, inputs=outcomes(PASSED_RUN)))
    assert result.status == "completed", result.error_message
    tests = result.final_state.to_dict()["tests"]
    assert tests["files"] == FILES and tests["run"] == PASSED_RUN  # type: ignore[index]
    assert tests["report"] == {"status": "passed", "passed": 3, "failed": 0, "errors": 0, "skipped": 0}  # type: ignore[index]
    assert result.final_state["other"] == 1


@pytest.mark.parametrize(
    ("change", "shown"),
    [
        (
            {"exit_code": 1, "passed": 2, "failed": 1},
            "2 passed, 1 failed, 0 errors, 0 skipped; the runner exited with 1",
        ),
        (
            {"exit_code": 2, "passed": 0, "errors": 1},
            "0 passed, 0 failed, 1 errors, 0 skipped; the runner exited with 2",
        ),
        (
            {"exit_code": 5, "passed": None, "failed": None, "errors": None, "skipped": None},
            "no counts; the runner exited with 5",
        ),
    ],
)
def test_a_run_that_did_not_pass_fails_the_report_with_the_counts_and_exit_code(
    change: dict[str, object], shown: str
) -> None:
    result = run_mission("run_tests", ExecutionContext(inputs=outcomes({**PASSED_RUN, **change})))
    assert (result.status, result.failed_step_id) == ("failed", "tests-report")
    assert result.error_message == (
        f"step 'tests-report' (operation 'tests.verdict') failed: OperationError: the tests did not pass: {shown}"
    )


def test_a_failed_effect_fails_its_step_naming_the_effect_and_the_error() -> None:
    inputs = {
        "tests-discover": ok_outcome(FILES),
        "tests-execute": failed_outcome("TimeoutError", "took longer than 900 s", attempts=1),
    }
    result = run_mission("run_tests", ExecutionContext(inputs=inputs))
    assert (result.status, result.failed_step_id) == ("failed", "tests-execute")
    assert (
        result.error_message
        == "step 'tests-execute' (effect 'tests.run') failed after 1 attempt: TimeoutError: took longer than 900 s"
    )


def _drive_in(project: str, monkeypatch: pytest.MonkeyPatch, **params: object) -> OrchestrationResult:
    monkeypatch.chdir(PROJECTS / project)
    workflow = build_workflow(MissionSpec("run_tests", {"paths": ["tests"], **params}))
    return drive(workflow, effects=effects_for(workflow), operations=operations_for(workflow))


def test_a_real_run_of_the_passing_project_passes_and_verifies_without_running_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    result = _drive_in("passing", monkeypatch)
    assert result.status == "completed", result.error_message
    tests = result.final_state.to_dict()["tests"]
    assert tests["files"] == FILES  # type: ignore[index]
    run = tests["run"]  # type: ignore[index]
    assert (run["exit_code"], run["passed"], run["failed"], run["errors"], run["skipped"]) == (0, 3, 0, 0, 0)
    assert run["command"] == ["python", "-m", "pytest", "-q", *FILES] and run["duration_s"] > 0
    assert "3 passed" in run["output_tail"]
    monkeypatch.setattr("subprocess.Popen", None)  # verify must not run a test
    assert verify(result, operations=operations_for(result.workflow)).ok


def test_a_real_run_of_the_failing_project_fails_its_report(monkeypatch: pytest.MonkeyPatch) -> None:
    result = _drive_in("failing", monkeypatch)
    assert (result.status, result.failed_step_id) == ("failed", "tests-report")
    assert "1 passed, 2 failed, 0 errors, 0 skipped; the runner exited with 1" in (result.error_message or "")
    run = result.final_state.to_dict()["tests"]["run"]  # type: ignore[index]
    assert "FAILED tests/test_calc.py::test_mean" in run["output_tail"]


def test_the_output_tail_keeps_the_last_lines_within_8_kib(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_loud.py").write_text(
        "def test_loud() -> None:\n    print('x' * 300 + '\\n' * 2 + ('line\\n' * 200))\n    assert False\n",
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    workflow = build_workflow(
        MissionSpec("run_tests", {"paths": ["tests"], "runner": ["python", "-m", "pytest", "-q", "-s"]})
    )
    result = drive(workflow, effects=effects_for(workflow))
    tail = result.final_state.to_dict()["tests"]["run"]["output_tail"]  # type: ignore[index]
    assert len(tail.splitlines()) <= TAIL_LINES and len(tail.encode()) <= TAIL_BYTES
    assert "1 failed" in tail.splitlines()[-1]


def test_a_test_run_past_its_timeout_is_killed_and_fails_its_step(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "tests").mkdir()
    marker = tmp_path / "still-running"
    (tmp_path / "tests" / "test_slow.py").write_text(
        "import time, pathlib\n"
        "def test_slow() -> None:\n"
        "    time.sleep(3)\n"
        f"    pathlib.Path({str(marker)!r}).write_text('finished')\n",
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    workflow = build_workflow(MissionSpec("run_tests", {"paths": ["tests"], "timeout_s": 0.5}))
    result = drive(workflow, effects=effects_for(workflow))
    assert (result.status, result.failed_step_id) == ("failed", "tests-execute")
    assert "TimeoutError" in (result.error_message or "") and "killed" in (result.error_message or "")
    import time

    time.sleep(3.5)
    assert not marker.exists()  # the runner's process group was killed, not left to finish


def test_discovery_lists_matching_files_sorted_and_relative(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in [
        "tests/b/test_z.py",
        "tests/a/test_y.py",
        "tests/helper.py",
        "tests/.hidden/test_h.py",
        "other/test_o.py",
    ]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    workflow = build_workflow(MissionSpec("run_tests", {"paths": ["tests", "other/test_o.py"], "runner": ["true"]}))
    result = drive(workflow, effects=effects_for(workflow))
    files = result.final_state.to_dict()["tests"]["files"]  # type: ignore[index]
    assert files == ["other/test_o.py", "tests/a/test_y.py", "tests/b/test_z.py"]


def test_a_missing_path_fails_discovery_naming_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    workflow = build_workflow(MissionSpec("run_tests", {"paths": ["nowhere"]}))
    result = drive(workflow, effects=effects_for(workflow))
    assert (result.status, result.failed_step_id) == ("failed", "tests-discover")
    assert f"FileNotFoundError: paths[0] 'nowhere' does not exist in {tmp_path}" in (result.error_message or "")


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX process groups")
def test_python_in_the_runner_means_this_interpreter(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_which.py").write_text(
        "import sys, pathlib\ndef test_which() -> None:\n"
        f"    pathlib.Path({str(tmp_path / 'which')!r}).write_text(sys.executable)\n",
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    workflow = build_workflow(MissionSpec("run_tests", {"paths": ["tests"]}))
    assert drive(workflow, effects=effects_for(workflow)).status == "completed"
    assert os.path.samefile((tmp_path / "which").read_text(encoding="utf-8"), sys.executable)


def test_run_tests_refuses_a_list_param_holding_something_else_than_strings() -> None:
    with pytest.raises(ValueError, match=r"^params\.runner\[1\]: expected a string, got 1$"):
        build_workflow(MissionSpec("run_tests", {"runner": ["pytest", 1]}))
