"""`MissionCall`: frozen at the boundary, plain JSON both ways, bad documents named by their field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pyrsistent import PMap

from stepfold.errors import InvalidValueError
from stepfold.mission_call import MissionCall
from stepfold.state import State

APPROVE = {"daily-confirm-priorities": {"approved": True}}
DAILY_STATE = json.loads(
    (Path(__file__).resolve().parent.parent / "examples" / "daily_state.json").read_text(encoding="utf-8")
)


def test_mission_call_freezes_its_inputs_at_the_boundary() -> None:
    params: dict[str, object] = {"date": "2026-11-24", "tags": ["a"]}
    call = MissionCall("daily_loop", params, {"tasks": []}, APPROVE)
    params["date"] = "changed"
    assert call.params["date"] == "2026-11-24"
    assert isinstance(call.params, PMap) and isinstance(call.state, State) and isinstance(call.inputs, PMap)
    assert call == MissionCall("daily_loop", {"tags": ["a"], "date": "2026-11-24"}, {"tasks": []}, APPROVE)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (("daily_loop", {}, {"tasks": [{"due": float("nan")}]}), "state.tasks[0].due: nan is not allowed"),
        (("echo", {"n": 2**60}), "params.n: integer"),
        (("echo", {}, {}, {"step": {1, 2}}), "inputs.step"),
        (("",), "mission: expected a non-empty mission name"),
    ],
)
def test_mission_call_refuses_values_outside_the_domain_naming_the_path(
    arguments: tuple[object, ...], message: str
) -> None:
    with pytest.raises(ValueError) as caught:
        MissionCall(*arguments)
    assert message in str(caught.value)


def test_mission_call_round_trips_through_plain_json() -> None:
    call = MissionCall("daily_loop", {"date": "2026-11-24"}, DAILY_STATE, APPROVE)
    assert MissionCall.from_dict(json.loads(json.dumps(call.to_dict()))) == call
    assert MissionCall.from_dict({"mission": "echo"}) == MissionCall("echo")


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"mission": "echo", "stat": {}}, "unexpected keys ['stat']"),
        ({"params": {}}, "call.mission: missing (the name of a registered mission)"),
        ([1], "expected an object, got list"),
        ({"mission": "echo", "params": [1]}, "call.params: expected a mapping"),
    ],
)
def test_mission_call_from_dict_names_what_is_wrong(document: object, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        MissionCall.from_dict(document)
    assert message in str(caught.value)


# In-process ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ([1], "call: expected an object, got list"),
        (
            {"mission": "echo", "x": 1},
            "call: unexpected keys ['x']; expected only ['inputs', 'mission', 'params', 'state']",
        ),
        ({}, "call.mission: missing (the name of a registered mission)"),
        ({"params": {}}, "call.mission: missing (the name of a registered mission)"),
        ({"mission": 3}, "call.mission: expected a non-empty mission name, got 3"),
        ({"mission": ""}, "call.mission: expected a non-empty mission name, got ''"),
        ({"mission": "echo", "state": [1]}, "call.state: expected a mapping with string keys, got list"),
        ({"mission": "echo", "params": 3}, "call.params: expected a mapping with string keys, got int"),
        (
            {"mission": "echo", "state": {"a": [float("inf")]}},
            "call.state.a[0]: inf is not allowed (only finite numbers)",
        ),
        ({"mission": "echo", "inputs": {"s": {1: 2}}}, "call.inputs.s: mapping keys must be strings, got int 1"),
    ],
)
def test_from_dict_refuses_a_call_naming_what_is_wrong(document: object, message: str) -> None:
    with pytest.raises(InvalidValueError) as info:
        MissionCall.from_dict(document)
    assert str(info.value) == message
