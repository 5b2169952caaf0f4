"""Small helpers several test modules share: running the daily loop, reading a completed run's state."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import pytest

from stepfold import ExecutionContext, OrchestrationResult, Params, StepSpec, WorkflowDefinition, run_mission

SCRIPT = Path(sys.executable).parent / "stepfold"
"""The console script of the environment running the tests."""

Proc = subprocess.CompletedProcess[str]

ROOT = Path(__file__).resolve().parent.parent
"""The project's folder: a git checkout or an unpacked sdist."""


def installed_stubs() -> Path | None:
    """The `pyrsistent-stubs` package an installed (not editable) stepfold brought, if there is one."""
    for folder in map(Path, sys.path):
        if (folder / "pyrsistent-stubs" / "__init__.pyi").is_file():
            return folder / "pyrsistent-stubs"
    return None


def user_mypy(folder: Path, code: str) -> dict[int, str]:
    """`mypy --strict` on `code` as a user's file in `folder`, seeing stepfold as its users do: {line: error}.

    With an installed stepfold, exactly what its wheel installed; in a checkout, typings/ and src/ (which the
    wheel installs as `pyrsistent-stubs` and `stepfold`; tests/test_sdist.py checks that it does).
    Skips when mypy is not installed.
    """
    mypy_api = pytest.importorskip("mypy.api")
    paths = [] if installed_stubs() is not None else [ROOT / "typings", ROOT / "src"]
    config = folder / "mypy.ini"
    config.write_text("[mypy]\n" + (f"mypy_path = {os.pathsep.join(map(str, paths))}\n" if paths else ""))
    user = folder / "user_code.py"
    user.write_text(code, encoding="utf-8")
    report, errors, _ = mypy_api.run(
        ["--strict", "--config-file", str(config), "--cache-dir", str(folder / ".mypy_cache"), str(user)]
    )
    assert errors == "", errors
    found: dict[int, str] = {}
    for line in report.splitlines():
        where, sep, message = line.partition(": error: ")
        if sep:
            found[int(where.split(":")[1])] = message
    return found


def run_cli(cwd: Path, *args: str, env: Mapping[str, str] | None = None) -> Proc:
    """Run the console script in `cwd` (with exactly `env` as its environment, when given); output decoded as UTF-8."""
    return subprocess.run(
        [str(SCRIPT), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        encoding="utf-8",
        check=False,
        timeout=60,
        env=None if env is None else dict(env),
    )


CONFIRM = "daily-confirm-priorities"
DAILY_IDS = ["daily-summarise-yesterday", "daily-generate-priorities", CONFIRM, "daily-log-summary"]


def six_noops(params: Params) -> WorkflowDefinition:
    """A builder that plans one step more than the default policy allows."""
    return WorkflowDefinition(id="big", steps=[StepSpec(f"s{i}", "runtime", {"operation": "noop"}) for i in range(6)])


def daily(
    state: Mapping[str, object] | None = None,
    params: Mapping[str, object] | None = None,
    decision: object = None,
    *,
    decide: bool = True,
) -> OrchestrationResult:
    """Run the daily loop on `state`, answering its human step with `decision` when `decide`."""
    inputs = {CONFIRM: decision} if decide else {}
    return run_mission("daily_loop", ExecutionContext(initial_state=state or {}, inputs=inputs), params)


def plain(result: OrchestrationResult) -> dict[str, object]:
    """The final state of a completed run as plain data."""
    assert result.status == "completed", result.error_message
    return result.final_state.to_dict()


def task(
    task_id: str, priority: int = 0, due: str | None = None, done: bool = False, title: str = ""
) -> dict[str, object]:
    return {"id": task_id, "title": title or task_id, "priority": priority, "due": due, "done": done}


def priorities_of(tasks: list[dict[str, object]], params: Mapping[str, object] | None = None) -> object:
    return plain(daily({"tasks": tasks}, params, {"approved": True}))["priorities"]
