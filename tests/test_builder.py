"""`MissionSpec` and `build_workflow`: a mission name and params in, a checked workflow out; what each built-in builder plans."""

from __future__ import annotations

import pytest

import stepfold
import stepfold.builder
import stepfold.engine
import stepfold.registry
from stepfold import (
    AntiFailurePlanningError,
    AntiFailureViolation,
    ExecutionContext,
    InvalidValueError,
    MissionSpec,
    Params,
    Policy,
    State,
    StepfoldError,
    StepSpec,
    WorkflowDefinition,
    build_workflow,
    run_mission,
    thaw,
)
from stepfold.registry import MISSION_REGISTRY
from tests.helpers import six_noops


def test_mission_spec_freezes_its_params() -> None:
    source: dict[str, object] = {"list": [1, 2], "map": {"a": None}}
    spec = MissionSpec("echo", source)
    source["list"] = "changed"
    assert spec.params == {"list": [1, 2], "map": {"a": None}}
    assert MissionSpec("echo").params == {}
    assert MissionSpec("echo", None).params == {}
    assert spec == MissionSpec("echo", {"map": {"a": None}, "list": [1, 2]})


def test_mission_spec_refuses_params_outside_the_value_domain() -> None:
    with pytest.raises(InvalidValueError, match=r"params\.bad"):
        MissionSpec("echo", {"bad": {1, 2}})


@pytest.mark.parametrize(
    ("mission", "params"),
    [
        ("daily_loop", {"date": "2026-03-10", "max_priorities": 2}),
        ("daily_loop", {}),
        ("echo", {"payload_key": "x"}),
        ("echo", {"anything": [1, {"b": 2.5}]}),
        ("run_tests", {"paths": ["a", "b"]}),
    ],
)
def test_build_workflow_is_pure_and_deterministic(mission: str, params: dict[str, object]) -> None:
    first = build_workflow(MissionSpec(mission, params))
    second = build_workflow(MissionSpec(mission, dict(reversed(list(params.items())))))
    assert first == second
    assert first.digest == second.digest
    assert first.to_dict() == second.to_dict()


def test_build_workflow_keeps_every_param_including_ignored_ones() -> None:
    params = {"date": "2026-03-10", "colour": "blue", "nested": {"x": [1, None]}}
    workflow = build_workflow(MissionSpec("daily_loop", params))
    assert thaw(workflow.metadata["params"]) == params
    echo = build_workflow(MissionSpec("echo", {"payload_key": "k", "unused": True}))
    assert thaw(echo.metadata["params"]) == {"payload_key": "k", "unused": True}
    assert thaw(build_workflow(MissionSpec("run_tests")).metadata["params"]) == {}


def test_build_workflow_unknown_type_is_a_value_error_naming_the_known_types() -> None:
    with pytest.raises(ValueError) as caught:
        build_workflow(MissionSpec("no_such_mission"))
    message = str(caught.value)
    assert "no_such_mission" in message
    for known in ("daily_loop", "echo", "run_tests"):
        assert known in message
    assert isinstance(caught.value, StepfoldError)


def test_build_workflow_refuses_a_builder_beyond_the_policy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(stepfold.registry.MISSION_REGISTRY, "big", six_noops)
    with pytest.raises(AntiFailurePlanningError, match="big") as caught:
        build_workflow(MissionSpec("big"))
    assert isinstance(caught.value, AntiFailureViolation)
    assert "5" in str(caught.value)
    workflow = build_workflow(MissionSpec("big"), policy=Policy(max_steps=6))
    assert len(workflow.steps) == 6


def test_build_workflow_with_a_stricter_policy_refuses_daily_loop() -> None:
    with pytest.raises(AntiFailurePlanningError, match="daily_loop"):
        build_workflow(MissionSpec("daily_loop"), policy=Policy(max_steps=2))
    with pytest.raises(AntiFailurePlanningError):
        build_workflow(MissionSpec("daily_loop"), policy=Policy(max_human_steps=0))
    with pytest.raises(AntiFailurePlanningError):
        run_mission("daily_loop", ExecutionContext(), policy=Policy(max_steps=2))


def greet(state: State, step: StepSpec) -> State:
    """A user's own operation: greet `payload["name"]`."""
    return state.set("greeting", f"hello {step.payload['name']}")


def build_greeting(params: Params) -> WorkflowDefinition:
    """A user's own mission: one step running the user's own `greet` operation."""
    name = params.get("name", "world")
    return WorkflowDefinition(id="greeting", steps=[StepSpec("greet", "runtime", {"operation": "greet", "name": name})])


@pytest.mark.parametrize(
    ("mission", "params", "message"),
    [
        ("run_tests", {"pattern": 3}, "params.pattern: expected a file name pattern (a non-empty string), got 3"),
        ("run_tests", {"paths": "tests"}, "params.paths: expected a list of strings, got 'tests'"),
        ("run_tests", {"paths": ["tests", 1]}, "params.paths[1]: expected a string, got 1"),
        ("run_tests", {"paths": {"a": [1]}}, "params.paths: expected a list of strings, got {'a': [1]}"),
        ("run_tests", {"runner": "pytest"}, "params.runner: expected a list of strings, got 'pytest'"),
        ("echo", {"payload_key": 3}, "params.payload_key: expected a state key (a string), got 3"),
        ("echo", {"payload_key": None}, "params.payload_key: expected a state key (a string), got None"),
        ("daily_loop", {"date": 20260310}, 'params.date: expected a date "YYYY-MM-DD", got 20260310'),
        ("daily_loop", {"max_priorities": -1}, "params.max_priorities: expected an int >= 0, got -1"),
    ],
)
def test_builders_refuse_bad_params_with_an_exact_message(
    mission: str, params: dict[str, object], message: str
) -> None:
    with pytest.raises(InvalidValueError) as info:
        build_workflow(MissionSpec(mission, params))
    assert str(info.value) == message


@pytest.mark.parametrize(
    ("mission", "params"), [("daily_loop", {"date": "2026-03-10"}), ("echo", {"x": 1}), ("run_tests", {})]
)
def test_a_builder_called_directly_plans_what_build_workflow_returns_but_the_params(
    mission: str, params: dict[str, object]
) -> None:
    spec = MissionSpec(mission, params)
    direct = MISSION_REGISTRY[mission](spec.params)
    built = build_workflow(spec)
    assert direct.metadata == {"mission": mission}
    assert built.metadata == {"mission": mission, "params": params}
    assert (built.id, built.steps) == (direct.id, direct.steps)


def test_build_workflow_names_the_mission_in_the_metadata_whatever_the_builder_wrote(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(MISSION_REGISTRY, "alias", build_greeting)
    workflow = build_workflow(MissionSpec("alias", {"name": "x"}))
    assert workflow.id == "greeting"
    assert workflow.metadata == {"mission": "alias", "params": {"name": "x"}}


def test_build_workflow_refuses_a_builder_that_returns_no_workflow(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(MISSION_REGISTRY, "broken", lambda params: {"id": "x"})
    with pytest.raises(InvalidValueError) as info:
        build_workflow(MissionSpec("broken"))
    assert str(info.value) == "mission 'broken': its builder returned dict, not a WorkflowDefinition"
    with pytest.raises(InvalidValueError) as info:
        build_workflow({"type": "echo"})  # type: ignore[arg-type]
    assert str(info.value) == "spec: expected a MissionSpec, got dict"


@pytest.mark.parametrize(("mission_type", "shown"), [("", "''"), (3, "3"), (None, "None")])
def test_mission_spec_refuses_a_type_that_is_not_a_non_empty_string(mission_type: object, shown: str) -> None:
    with pytest.raises(InvalidValueError) as info:
        MissionSpec(mission_type)
    assert str(info.value) == f"mission type: expected a non-empty string, got {shown}"


# The built-workflow cache: keyed by content, bounded, least recently used out first -------------------------


class _Counting:
    """A builder that counts its calls."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, params: Params) -> WorkflowDefinition:
        self.calls += 1
        return WorkflowDefinition(id="counted", steps=[StepSpec("a", "runtime", {"operation": "noop", **params})])


class _Unhashable(_Counting):
    __hash__ = None  # type: ignore[assignment]


def test_the_same_mission_params_and_policy_build_once(monkeypatch: pytest.MonkeyPatch) -> None:
    builder = _Counting()
    monkeypatch.setitem(MISSION_REGISTRY, "counted", builder)
    first = build_workflow(MissionSpec("counted", {"n": 1}))
    assert build_workflow(MissionSpec("counted", {"n": 1})) is first and builder.calls == 1
    assert first.id == "counted" and thaw(first.metadata) == {"mission": "counted", "params": {"n": 1}}
    for other in ({"n": 1.0}, {"n": True}, {"n": 2}):
        assert build_workflow(MissionSpec("counted", other)) is not first
    assert build_workflow(MissionSpec("counted", {"n": 1}), policy=Policy(max_steps=3)) is not first
    assert builder.calls == 5
    replacement = _Counting()
    monkeypatch.setitem(MISSION_REGISTRY, "counted", replacement)
    assert build_workflow(MissionSpec("counted", {"n": 1})) == first and replacement.calls == 1


def test_a_builder_that_cannot_be_hashed_builds_every_time(monkeypatch: pytest.MonkeyPatch) -> None:
    builder = _Unhashable()
    monkeypatch.setitem(MISSION_REGISTRY, "counted", builder)
    first = build_workflow(MissionSpec("counted", {"n": 1}))
    again = build_workflow(MissionSpec("counted", {"n": 1}))
    assert again == first and again is not first and builder.calls == 2


def test_the_cache_keeps_the_last_BUILT_CACHE_workflows_used(monkeypatch: pytest.MonkeyPatch) -> None:
    builder = _Counting()
    monkeypatch.setitem(MISSION_REGISTRY, "counted", builder)
    size = stepfold.builder.BUILT_CACHE
    built = [build_workflow(MissionSpec("counted", {"n": n})) for n in range(size)]
    assert all(build_workflow(MissionSpec("counted", {"n": n})) is built[n] for n in range(size))  # all kept
    assert builder.calls == size
    assert build_workflow(MissionSpec("counted", {"n": 0})) is built[0]  # used last: kept at the next build
    build_workflow(MissionSpec("counted", {"n": size}))
    assert len(stepfold.builder._built) == size
    assert build_workflow(MissionSpec("counted", {"n": 0})) is built[0]
    assert build_workflow(MissionSpec("counted", {"n": 1})) is not built[1]  # the least recently used went out
