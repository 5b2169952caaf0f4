"""The `echo` mission: one runtime step copying a key (or the params) to `state["echo"]`."""

from __future__ import annotations

from collections.abc import Mapping

from stepfold import (
    ExecutionContext,
    MissionSpec,
    build_workflow,
    run_mission,
)
from tests.helpers import plain


def test_echo_copies_the_payload_key() -> None:
    result = run_mission("echo", ExecutionContext(initial_state={"msg": {"hi": [1]}}), {"payload_key": "msg"})
    assert plain(result) == {"msg": {"hi": [1]}, "echo": {"hi": [1]}}
    assert [step.id for step in result.executed_steps] == ["echo"]
    assert result.executed_steps[0].kind == "runtime"


def test_echo_of_an_absent_payload_key_fails_its_step() -> None:
    result = run_mission("echo", ExecutionContext(), {"payload_key": "missing"})
    assert result.status == "failed"
    assert result.error_message is not None and "missing" in result.error_message


def test_echo_without_payload_key_echoes_the_params() -> None:
    params = {"a": 1, "b": [True, None], "c": {"d": "e"}}
    result = run_mission("echo", ExecutionContext(initial_state={"x": 0}), params)
    assert plain(result) == {"x": 0, "echo": params}
    assert isinstance(result.final_state["echo"], Mapping)
    assert plain(run_mission("echo", ExecutionContext())) == {"echo": {}}


def test_echo_plans_one_step() -> None:
    copying = build_workflow(MissionSpec("echo", {"payload_key": "msg"}))
    assert copying.id == "echo"
    assert [step.to_dict() for step in copying.steps] == [
        {"id": "echo", "kind": "runtime", "payload": {"operation": "copy", "source": "msg", "target": "echo"}}
    ]
    setting = build_workflow(MissionSpec("echo", {"a": [1]}))
    assert [step.to_dict() for step in setting.steps] == [
        {"id": "echo", "kind": "runtime", "payload": {"operation": "set", "key": "echo", "value": {"a": [1]}}}
    ]
