"""Small helpers several test modules share: running the daily loop, reading a completed run's state."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from stepfold import ExecutionContext, OrchestrationResult, Params, StepSpec, WorkflowDefinition, run_mission

SCRIPT = Path(sys.executable).parent / "stepfold"
"""The console script of the environment running the tests."""

Proc = subprocess.CompletedProcess[str]


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
