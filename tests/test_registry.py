"""`MISSION_REGISTRY`, `register_mission`, `run_mission` and the `Mission` helpers: missions by name, looked up at call time."""

from __future__ import annotations

import pytest
from pyrsistent import pmap

import stepfold
import stepfold.builder
import stepfold.engine
import stepfold.registry
from stepfold import (
    DEFAULT_OPERATIONS,
    AntiFailurePlanningError,
    EnvelopeViolation,
    ExecutionContext,
    InvalidValueError,
    Mission,
    MissionSpec,
    Params,
    Policy,
    State,
    StepfoldError,
    StepSpec,
    UnknownMissionError,
    WorkflowDefinition,
    build_workflow,
    register_mission,
    run_mission,
    run_workflow,
    thaw,
)
from stepfold.missions.base import int_param, param
from stepfold.registry import MISSION_REGISTRY, mission_operations
from tests.helpers import plain, six_noops


def greet(state: State, step: StepSpec) -> State:
    """A user's own operation: greet `payload["name"]`."""
    return state.set("greeting", f"hello {step.payload['name']}")


def build_greeting(params: Params) -> WorkflowDefinition:
    """A user's own mission: one step running the user's own `greet` operation."""
    name = params.get("name", "world")
    return WorkflowDefinition(id="greeting", steps=[StepSpec("greet", "runtime", {"operation": "greet", "name": name})])


def test_run_mission_refuses_a_builder_beyond_the_policy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(stepfold.registry.MISSION_REGISTRY, "big", six_noops)
    with pytest.raises(AntiFailurePlanningError):
        run_mission("big", ExecutionContext())


def test_mission_registry_is_one_plain_dict() -> None:
    assert type(MISSION_REGISTRY) is dict
    assert stepfold.MISSION_REGISTRY is MISSION_REGISTRY
    assert {"daily_loop", "echo", "run_tests"} <= set(MISSION_REGISTRY)


def test_run_mission_reads_the_registry_at_call_time(monkeypatch: pytest.MonkeyPatch) -> None:
    def replacement(params: Params) -> WorkflowDefinition:
        return WorkflowDefinition(
            id="echo", steps=[StepSpec("stub", "runtime", {"operation": "set", "key": "stubbed", "value": True})]
        )

    monkeypatch.setitem(MISSION_REGISTRY, "echo", replacement)
    result = run_mission("echo", ExecutionContext(), {"payload_key": "x"})
    assert plain(result) == {"stubbed": True}
    assert [step.id for step in result.executed_steps] == ["stub"]
    assert thaw(result.workflow.metadata["params"]) == {"payload_key": "x"}


def test_run_mission_unknown_name_lists_the_available_names() -> None:
    with pytest.raises(UnknownMissionError) as caught:
        run_mission("nope", ExecutionContext())
    assert isinstance(caught.value, LookupError)
    assert isinstance(caught.value, StepfoldError)
    message = str(caught.value)
    assert "nope" in message
    for name in MISSION_REGISTRY:
        assert name in message


def test_unknown_mission_error_lists_names_added_at_runtime(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(MISSION_REGISTRY, "zz_extra", six_noops)
    with pytest.raises(UnknownMissionError, match="zz_extra"):
        run_mission("nope", ExecutionContext())


def test_an_entry_that_is_not_a_builder_is_refused_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(MISSION_REGISTRY, "zz_number", 5)
    with pytest.raises(
        InvalidValueError, match=r"^mission 'zz_number': MISSION_REGISTRY holds 5 \(int\), not a builder"
    ):
        run_mission("zz_number", ExecutionContext())


def test_an_unknown_name_of_a_megabyte_is_not_echoed() -> None:
    with pytest.raises(UnknownMissionError) as caught:
        run_mission("n" * 1_000_000, ExecutionContext())
    assert len(str(caught.value)) < 2_000


def test_register_mission_adds_a_mission_with_its_own_operation() -> None:
    assert "greeting" not in MISSION_REGISTRY
    try:
        register_mission("greeting", build_greeting, operations={"greet": greet})
        assert "greeting" in MISSION_REGISTRY
        result = run_mission("greeting", ExecutionContext(initial_state={"a": 1}), {"name": "ada"})
        assert plain(result) == {"a": 1, "greeting": "hello ada"}
        assert thaw(result.workflow.metadata["params"]) == {"name": "ada"}
        # The mission's operation is the mission's, not a global one.
        assert "greet" not in DEFAULT_OPERATIONS
        with pytest.raises(EnvelopeViolation, match="greet"):
            run_workflow(build_workflow(MissionSpec("greeting")), ExecutionContext())
        with pytest.raises(InvalidValueError, match="greeting"):
            register_mission("greeting", build_greeting)
    finally:
        MISSION_REGISTRY.pop("greeting", None)
    assert "greeting" not in MISSION_REGISTRY
    with pytest.raises(UnknownMissionError):
        run_mission("greeting", ExecutionContext())


def test_param_names_a_missing_required_param() -> None:
    assert param(pmap({"a": 1}), "a") == 1
    assert param(pmap(), "a", None) is None
    with pytest.raises(InvalidValueError) as info:
        param(pmap(), "a")
    assert str(info.value) == "params.a: missing"


@pytest.mark.parametrize(
    ("operations", "message"),
    [
        (3, "operations: expected a mapping of names to operations, got int"),
        ({"op": 3}, "operations['op']: expected a callable under a string name"),
        ({1: greet}, "operations[1]: expected a callable under a string name"),
    ],
)
def test_a_mission_refuses_operations_that_are_not_callables_by_name(operations: object, message: str) -> None:
    with pytest.raises(InvalidValueError) as info:
        Mission(build_greeting, operations)
    assert str(info.value) == message


@pytest.mark.parametrize(
    ("name", "builder", "message"),
    [
        ("", build_greeting, "mission name: expected a non-empty string, got ''"),
        (3, build_greeting, "mission name: expected a non-empty string, got 3"),
        ("greeting", "not callable", "mission 'greeting': builder must be callable, got str"),
    ],
)
def test_register_mission_refuses_a_bad_name_or_builder(name: object, builder: object, message: str) -> None:
    with pytest.raises(InvalidValueError) as info:
        register_mission(name, builder)  # type: ignore[arg-type]
    assert str(info.value) == message
    assert "" not in MISSION_REGISTRY and "greeting" not in MISSION_REGISTRY


def test_register_mission_keeps_the_operations_a_mission_brings() -> None:
    try:
        registered = register_mission("greeting", Mission(build_greeting, {"greet": greet}))
        assert registered.operations == {"greet": greet}
        assert mission_operations("greeting")["greet"] is greet
        result = run_mission("greeting", ExecutionContext(), {"name": "ada"})
        assert plain(result) == {"greeting": "hello ada"}
    finally:
        MISSION_REGISTRY.pop("greeting", None)


def test_run_mission_runs_with_the_operations_and_policy_it_is_given(monkeypatch: pytest.MonkeyPatch) -> None:
    def build_batch(params: Params) -> WorkflowDefinition:
        return WorkflowDefinition(
            id="batch", steps=[StepSpec(f"s{i}", "batch", {"operation": "greet", "name": "x"}) for i in range(6)]
        )

    monkeypatch.setitem(MISSION_REGISTRY, "batch", build_batch)
    policy = Policy(max_steps=6, allowed_kinds={"batch"})
    result = run_mission("batch", ExecutionContext(), policy=policy, operations=DEFAULT_OPERATIONS.set("greet", greet))
    assert plain(result) == {"greeting": "hello x"}
    assert len(result.executed_steps) == 6


def _noop_handler(call: object) -> object:
    return None


@pytest.mark.usefixtures("registry_restored")
def test_register_mission_merges_what_a_mission_brings_with_what_is_given() -> None:
    def other(state: State, step: StepSpec) -> State:
        return state

    brought = Mission(build_greeting, {"greet": greet}, effects={"api.call": _noop_handler})
    registered = register_mission("greeting", brought, operations={"other": other}, effects={"api.more": _noop_handler})
    assert dict(registered.operations) == {"greet": greet, "other": other}
    assert sorted(registered.effects) == ["api.call", "api.more"]
    assert registered.effects["api.more"].handler is _noop_handler
    assert MISSION_REGISTRY["greeting"] is registered
    with pytest.raises(InvalidValueError, match=r"^mission 'greeting' is already registered; pass replace=True"):
        register_mission("greeting", build_greeting)
    replaced = register_mission("greeting", build_greeting, replace=True)
    assert replaced.operations == pmap() and replaced.effects == pmap()


def test_a_mission_takes_its_builder_by_the_name_design_gives_it() -> None:
    """`Mission(builder, operations, effects=...)`: `builder=` works, and `build` stays as the builder's older name."""
    mission = Mission(builder=build_greeting, operations={"greet": greet})
    assert mission == Mission(build_greeting, {"greet": greet})
    assert mission.builder is build_greeting and mission.build is build_greeting
    assert mission.description == (build_greeting.__doc__ or "").strip().splitlines()[0]


@pytest.mark.usefixtures("registry_restored")
def test_lookup_mission_gives_a_plain_builder_as_a_mission() -> None:
    MISSION_REGISTRY["plain"] = build_greeting
    found = stepfold.registry.lookup_mission("plain")
    assert isinstance(found, Mission) and found.build is build_greeting and found.operations == pmap()
    brought = register_mission("greeting", Mission(build_greeting, {"greet": greet}))
    assert stepfold.registry.lookup_mission("greeting") is brought
    with pytest.raises(UnknownMissionError):
        stepfold.registry.lookup_mission("nowhere")


@pytest.mark.usefixtures("registry_restored")
def test_mission_operations_adds_the_missions_own_to_the_base_and_wins_a_clash() -> None:
    def mine(state: State, step: StepSpec) -> State:
        return state

    register_mission("greeting", Mission(build_greeting, {"greet": greet, "noop": mine}))
    table = mission_operations("greeting")
    assert table["greet"] is greet and table["noop"] is mine and table["set"] is DEFAULT_OPERATIONS["set"]
    assert set(table) == set(DEFAULT_OPERATIONS) | {"greet"}
    small = mission_operations("greeting", {"set": DEFAULT_OPERATIONS["set"]})
    assert dict(small) == {"set": DEFAULT_OPERATIONS["set"], "greet": greet, "noop": mine}
    MISSION_REGISTRY["plain"] = build_greeting
    assert mission_operations("plain") is DEFAULT_OPERATIONS  # nothing of its own: the base as it is
    assert dict(mission_operations("plain", {"set": greet})) == {"set": greet}


@pytest.mark.usefixtures("registry_restored")
def test_operations_for_finds_a_stored_runs_operations_by_its_mission() -> None:
    register_mission("greeting", Mission(build_greeting, {"greet": greet}))
    built = build_workflow(MissionSpec("greeting", {"name": "ada"}))
    assert built.metadata["mission"] == "greeting"
    assert stepfold.registry.operations_for(built)["greet"] is greet
    assert dict(stepfold.registry.operations_for(built, {})) == {"greet": greet}
    unregistered = WorkflowDefinition(id="w", steps=built.steps, metadata={"mission": "gone"})
    assert stepfold.registry.operations_for(unregistered) == DEFAULT_OPERATIONS
    not_a_name = WorkflowDefinition(id="w", steps=built.steps, metadata={"mission": 3})
    assert dict(stepfold.registry.operations_for(not_a_name, {"set": greet})) == {"set": greet}
    bare = WorkflowDefinition(id="w", steps=built.steps)
    assert "greet" not in stepfold.registry.operations_for(bare)


@pytest.mark.parametrize(
    ("effects", "message"),
    [
        (3, "effects: expected a mapping of effect names to Effects, got int"),
        ({"": _noop_handler}, "effects: effect names are non-empty strings, got ''"),
        ({1: _noop_handler}, "effects: effect names are non-empty strings, got 1"),
        ({"api.call": 3}, "effects['api.call']: expected an Effect or a handler function, got 3"),
    ],
)
def test_a_mission_refuses_effects_that_are_not_named_handlers(effects: object, message: str) -> None:
    with pytest.raises(InvalidValueError) as info:
        Mission(build_greeting, effects=effects)
    assert str(info.value) == message


def test_a_missions_description_is_its_builders_first_docstring_line_unless_given() -> None:
    def undocumented(params: Params) -> WorkflowDefinition:
        return build_greeting(params)

    def documented(params: Params) -> WorkflowDefinition:
        """
        Greets someone.

        More about it.
        """
        return build_greeting(params)

    assert (
        Mission(build_greeting).description
        == "A user's own mission: one step running the user's own `greet` operation."
    )
    assert Mission(documented).description == "Greets someone."
    assert Mission(undocumented).description == ""
    assert Mission(documented, description="mine").description == "mine"


def test_int_param_accepts_its_minimum_and_refuses_below() -> None:
    assert int_param(pmap({"n": 2}), "n", 0, minimum=2) == 2
    assert int_param(pmap(), "n", 7) == 7
    with pytest.raises(InvalidValueError, match=r"^params\.n: expected an int >= 2, got 1$"):
        int_param(pmap({"n": 1}), "n", 0, minimum=2)
    with pytest.raises(InvalidValueError, match=r"^params\.n: expected an int >= 0, got True$"):
        int_param(pmap({"n": True}), "n", 0)


@pytest.mark.usefixtures("registry_restored")
def test_the_mission_api_refuses_a_policy_or_table_of_the_wrong_type_before_anything_runs() -> None:
    """Every path to a run (missions, batches, suites) passes `check_workflow`, which names a policy that is not one;
    the mission API names operation and effect tables that are not mappings, and registers nothing."""
    for call, message in [
        (lambda: build_workflow(MissionSpec("echo"), policy="x"), "policy: expected a Policy, got str"),  # type: ignore[arg-type]
        (lambda: run_mission("echo", policy="x"), "policy: expected a Policy, got str"),  # type: ignore[arg-type]
        (
            lambda: run_mission("echo", operations=[1]),  # type: ignore[arg-type]
            "operations: expected a mapping of names to operations, got list",
        ),
        (
            lambda: register_mission("odd", build_greeting, operations=[1]),  # type: ignore[arg-type]
            "operations: expected a mapping of names to operations, got list",
        ),
        (
            lambda: register_mission("odd", build_greeting, effects=[1]),  # type: ignore[arg-type]
            "effects: expected a mapping of effect names to Effects, got list",
        ),
        (
            lambda: mission_operations("echo", base=None),  # type: ignore[arg-type]
            "operations: expected a mapping of names to operations, got NoneType",
        ),
    ]:
        with pytest.raises(InvalidValueError) as info:
            call()  # type: ignore[no-untyped-call]
        assert str(info.value) == message
    assert "odd" not in MISSION_REGISTRY
