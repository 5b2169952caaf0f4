"""The `stepfold` command line, through its console entry point and in-process `main`."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from stepfold.cli import main

ROOT = Path(__file__).resolve().parent.parent
STATE = ROOT / "examples" / "daily_state.json"
SCRIPT = Path(sys.executable).parent / "stepfold"
APPROVE = 'daily-confirm-priorities={"approved": true}'


def run_cli(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    if args and args[0] == "run":
        args = (*args, "--no-store")  # these tests are about running; tests/test_cli_store.py covers saving
    code = main(list(args), out, err)
    return code, out.getvalue(), err.getvalue()


def test_console_script_runs_the_daily_loop_and_suspends() -> None:
    proc = subprocess.run(
        [str(SCRIPT), "run", "daily_loop", "--no-store", "--state", str(STATE), "--params", '{"date": "2026-11-24"}'],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 3, proc.stderr
    assert "daily-summarise-yesterday" in proc.stdout and "waiting" in proc.stdout
    assert "pending  daily-confirm-priorities" in proc.stdout
    assert proc.stderr == ""


def test_python_dash_m_completes_with_the_approval() -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "stepfold",
            "run",
            "daily_loop",
            "--no-store",
            "--state",
            str(STATE),
            "--input",
            APPROVE,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "status   completed" in proc.stdout
    assert "receipt  " in proc.stdout


def test_json_output_is_to_dict() -> None:
    code, out, _ = run_cli("run", "echo", "--params", '{"hello": "world"}', "--json")
    assert code == 0
    document = json.loads(out)
    assert document["status"] == "completed"
    assert document["final_state"] == {"echo": {"hello": "world"}}


def test_failed_run_exits_one() -> None:
    code, out, _ = run_cli("run", "daily_loop", "--state", '{"tasks": [{"id": "a", "priority": "high"}]}')
    assert code == 1
    assert "state.tasks[0].priority" in out


def test_missions_lists_the_registry() -> None:
    code, out, _ = run_cli("missions")
    assert code == 0
    assert [line.split()[0] for line in out.splitlines()] == ["daily_loop", "echo", "run_tests"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "nope"], "unknown mission 'nope'; available missions: ['daily_loop', 'echo', 'run_tests']"),
        (["run", "echo", "--params", "{bad"], "--params: invalid JSON at line 1 column 2"),
        (["run", "echo", "--params", "[1]"], "--params: expected a JSON object, got list"),
        (["run", "echo", "--params", '{"a": NaN}'], "NaN is not allowed"),
        (["run", "echo", "--params", '{"a": 1, "a": 2}'], "duplicate key 'a'"),
        (["run", "echo", "--state", "missing.json"], "--state: 'missing.json' is neither a file nor a JSON object"),
        (["run", "daily_loop", "--input", "novalue"], "--input 'novalue': expected STEP=JSON"),
        (["run", "daily_loop", "--input", "x=1"], "inputs.x: workflow 'daily_loop' has no human or effect step 'x'"),
        (["run", "daily_loop", "--params", '{"date": "24/11/2026"}'], "params.date: expected a date"),
        (["run", "echo", "--state", '{"a": 9007199254740992}'], "initial_state.a: integer 9007199254740992"),
        (["bogus"], "invalid choice: 'bogus'"),
        (["run"], "the following arguments are required: mission"),
    ],
)
def test_bad_input_exits_two_with_one_line(args: list[str], message: str) -> None:
    code, out, err = run_cli(*args)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("stepfold: error: ")
    assert message in err


def test_bad_state_file_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "state.json"
    bad.write_text('{"a": [1, 2,]}', encoding="utf-8")
    code, _, err = run_cli("run", "echo", "--state", str(bad))
    assert code == 2
    assert f"--state {bad}: invalid JSON at line 1 column 13" in err


def test_console_script_bad_usage_has_no_traceback() -> None:
    proc = subprocess.run(
        [str(SCRIPT), "run", "echo", "--no-store", "--params", "{"], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and proc.stderr.count("\n") == 1


def test_a_builder_that_raises_is_one_line_naming_the_exception_and_its_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from stepfold import MISSION_REGISTRY, Mission, WorkflowDefinition

    def build(params: object) -> WorkflowDefinition:
        raise RuntimeError("no workflow\ntoday")

    monkeypatch.setitem(MISSION_REGISTRY, "raising", Mission(build, {}))
    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli("run", "raising")
    assert code == 1 and out == ""
    assert err.startswith("stepfold: error: RuntimeError: no workflow today (raised at ")
    assert f"{Path(__file__).name}:" in err and ", in build)" in err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []  # nothing saved
