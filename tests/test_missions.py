"""Missions: `MissionSpec`, `build_workflow`, the registry, `run_mission`, and the built-in missions."""

from __future__ import annotations

import importlib
from collections.abc import Mapping

import pytest
from hypothesis import given
from pyrsistent import pmap

import stepfold
import stepfold.builder
import stepfold.engine
import stepfold.registry
from stepfold import (
    DEFAULT_OPERATIONS,
    AntiFailurePlanningError,
    AntiFailureViolation,
    EnvelopeViolation,
    ExecutionContext,
    InvalidInputError,
    InvalidValueError,
    Mission,
    MissionSpec,
    OrchestrationResult,
    Params,
    Policy,
    State,
    StepfoldError,
    StepSpec,
    UnknownMissionError,
    WorkflowDefinition,
    build_workflow,
    register_mission,
    resume,
    run_mission,
    run_workflow,
    thaw,
)
from stepfold.missions.base import param
from stepfold.registry import MISSION_REGISTRY, mission_operations
from tests.strategies import daily_params, daily_states

CONFIRM = "daily-confirm-priorities"
DAILY_IDS = ["daily-summarise-yesterday", "daily-generate-priorities", CONFIRM, "daily-log-summary"]


# Helpers ---------------------------------------------------------------------------------------


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


# Module surface --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("module", "names"),
    [
        (
            "stepfold.engine",
            [
                "Orchestrator",
                "run_workflow",
                "resume",
                "DEFAULT_OPERATIONS",
                "TIER2_POLICY",
                "Policy",
                "StepSpec",
                "WorkflowDefinition",
                "ExecutionContext",
                "OrchestrationResult",
            ],
        ),
        ("stepfold.builder", ["MissionSpec", "build_workflow"]),
        ("stepfold.registry", ["MISSION_REGISTRY", "run_mission", "UnknownMissionError"]),
    ],
)
def test_documented_modules_export_their_names(module: str, names: list[str]) -> None:
    loaded = importlib.import_module(module)
    for name in names:
        assert hasattr(loaded, name), f"{module}.{name}"
        assert getattr(loaded, name) is getattr(stepfold, name), f"{module}.{name} is not stepfold.{name}"
        exported = getattr(loaded, "__all__", None)
        if exported is not None:
            assert name in exported, f"{name} missing from {module}.__all__"


def test_everything_in_all_is_importable() -> None:
    assert stepfold.__all__
    assert len(set(stepfold.__all__)) == len(stepfold.__all__)
    for name in stepfold.__all__:
        namespace: dict[str, object] = {}
        exec(f"from stepfold import {name}", namespace)
        assert namespace[name] is getattr(stepfold, name)


# MissionSpec -----------------------------------------------------------------------------------


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


# build_workflow --------------------------------------------------------------------------------


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


def test_run_mission_refuses_a_builder_beyond_the_policy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(stepfold.registry.MISSION_REGISTRY, "big", six_noops)
    with pytest.raises(AntiFailurePlanningError):
        run_mission("big", ExecutionContext())


def test_build_workflow_with_a_stricter_policy_refuses_daily_loop() -> None:
    with pytest.raises(AntiFailurePlanningError, match="daily_loop"):
        build_workflow(MissionSpec("daily_loop"), policy=Policy(max_steps=2))
    with pytest.raises(AntiFailurePlanningError):
        build_workflow(MissionSpec("daily_loop"), policy=Policy(max_human_steps=0))
    with pytest.raises(AntiFailurePlanningError):
        run_mission("daily_loop", ExecutionContext(), policy=Policy(max_steps=2))


# The registry ----------------------------------------------------------------------------------


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


def greet(state: State, step: StepSpec) -> State:
    """A user's own operation: greet `payload["name"]`."""
    return state.set("greeting", f"hello {step.payload['name']}")


def build_greeting(params: Params) -> WorkflowDefinition:
    """A user's own mission: one step running the user's own `greet` operation."""
    name = params.get("name", "world")
    return WorkflowDefinition(id="greeting", steps=[StepSpec("greet", "runtime", {"operation": "greet", "name": name})])


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


# daily_loop ------------------------------------------------------------------------------------


def test_daily_loop_has_four_steps_one_human() -> None:
    workflow = build_workflow(MissionSpec("daily_loop"))
    assert [step.id for step in workflow.steps] == DAILY_IDS
    assert [step.kind for step in workflow.steps] == ["runtime", "runtime", "human", "runtime"]
    assert workflow.steps[2].operation == "daily.confirm"
    for step in workflow.steps:
        assert step.operation in DEFAULT_OPERATIONS


SUMMARY_STATE: dict[str, object] = {
    "tasks": [task("a", done=True), task("b"), task("c", done=True), task("d"), task("e")],
    "journal": [
        {"date": "2026-03-09", "text": "one"},
        {"date": "2026-03-10", "text": "today"},
        {"date": "2026-03-09", "text": "two"},
        {"date": "2026-03-08", "text": "older"},
        {"date": "2026-02-28", "text": "end of february"},
    ],
}


def test_daily_summary_counts_tasks_and_yesterdays_journal() -> None:
    state = plain(daily(SUMMARY_STATE, {"date": "2026-03-10"}, {"approved": True}))
    assert state["summary"] == {"done": 2, "open": 3, "journal_entries": 2}


def test_daily_summary_yesterday_crosses_month_boundaries() -> None:
    state = plain(daily(SUMMARY_STATE, {"date": "2026-03-01"}, {"approved": True}))
    assert state["summary"] == {"done": 2, "open": 3, "journal_entries": 1}


def test_daily_summary_without_a_date_counts_every_journal_entry() -> None:
    state = plain(daily(SUMMARY_STATE, {}, {"approved": True}))
    assert state["summary"] == {"done": 2, "open": 3, "journal_entries": 5}


def test_daily_priorities_rank_by_priority_descending() -> None:
    assert priorities_of([task("a", 1), task("b", 3), task("c", 2)]) == ["b", "c", "a"]


def test_daily_priorities_break_priority_ties_by_due_ascending_null_last() -> None:
    tasks = [task("a", 1, None), task("b", 1, "2026-03-05"), task("c", 1, "2026-03-02"), task("d", 2, None)]
    assert priorities_of(tasks, {"max_priorities": 4}) == ["d", "c", "b", "a"]


def test_daily_priorities_break_remaining_ties_by_id_ascending() -> None:
    tasks = [task("c", 1, "2026-03-05"), task("a", 1, "2026-03-05"), task("b", 1, "2026-03-05")]
    assert priorities_of(tasks) == ["a", "b", "c"]
    tasks = [task("z"), task("x"), task("y")]
    assert priorities_of(tasks) == ["x", "y", "z"]


def test_daily_priorities_skip_done_tasks_and_keep_the_top_three_by_default() -> None:
    tasks = [task("done", 9, done=True), task("a", 5), task("b", 4), task("c", 3), task("d", 2), task("e", 1)]
    assert priorities_of(tasks) == ["a", "b", "c"]


@pytest.mark.parametrize(("limit", "expected"), [(0, []), (1, ["a"]), (5, ["a", "b"])])
def test_daily_priorities_honour_max_priorities(limit: int, expected: list[str]) -> None:
    assert priorities_of([task("b", 1), task("a", 2)], {"max_priorities": limit}) == expected


def test_daily_loop_suspends_at_the_human_step() -> None:
    result = daily({"tasks": [task("a", 1)]}, {"date": "2026-03-10"}, decide=False)
    assert result.status == "suspended"
    assert result.success is True
    assert result.pending_step_id == CONFIRM
    assert result.failed_step_id is None
    assert [step.id for step in result.executed_steps] == DAILY_IDS[:2]
    state = result.final_state.to_dict()
    assert state["priorities"] == ["a"]
    assert "confirmed_priorities" not in state
    assert "log" not in state


def test_daily_loop_resumed_equals_a_run_given_the_input_up_front() -> None:
    state = {"tasks": [task("a", 1), task("b", 2)], "journal": [{"date": "2026-03-09", "text": "x"}]}
    params = {"date": "2026-03-10"}
    suspended = daily(state, params, decide=False)
    resumed = resume(suspended, {CONFIRM: {"priorities": ["a"]}})
    fresh = daily(state, params, {"priorities": ["a"]})
    assert resumed.to_dict() == fresh.to_dict()
    assert resumed.receipt.head == fresh.receipt.head


def test_daily_confirm_approved_keeps_the_list() -> None:
    state = plain(daily({"tasks": [task("a", 2), task("b", 1)]}, {}, {"approved": True}))
    assert state["confirmed_priorities"] == ["a", "b"]


def test_daily_confirm_priorities_replaces_the_list() -> None:
    tasks = [task("a", 3), task("b", 2), task("c", 1), task("d", 0)]
    state = plain(daily({"tasks": tasks}, {}, {"priorities": ["d", "a"]}))
    assert state["priorities"] == ["a", "b", "c"]
    assert state["confirmed_priorities"] == ["d", "a"]


@pytest.mark.parametrize("bad_id", ["finished", "ghost"])
def test_daily_confirm_of_a_task_that_is_not_open_is_refused_naming_it(bad_id: str) -> None:
    tasks = [task("a", 1), task("finished", 2, done=True)]
    with pytest.raises(InvalidInputError) as info:
        daily({"tasks": tasks}, {}, {"priorities": ["a", bad_id]})
    message = str(info.value)
    assert bad_id in message
    assert CONFIRM in message and "daily.confirm" in message and "input.priorities[1]" in message
    suspended = daily({"tasks": tasks}, {}, decide=False)
    with pytest.raises(InvalidInputError):
        resume(suspended, {CONFIRM: {"priorities": ["a", bad_id]}})
    assert suspended.status == "suspended" and suspended.pending_step_id == CONFIRM


def test_daily_confirm_not_approved_confirms_none() -> None:
    # Documented choice: {"approved": false} confirms no priorities (and the day is still logged).
    state = plain(daily({"tasks": [task("a", 1)]}, {"date": "2026-03-10"}, {"approved": False}))
    assert state["priorities"] == ["a"]
    assert state["confirmed_priorities"] == []
    assert state["log"] == [
        {"date": "2026-03-10", "summary": {"done": 0, "open": 1, "journal_entries": 0}, "priorities": []}
    ]


@pytest.mark.parametrize("decision", [None, "yes", {}, {"approved": "yes"}, {"priorities": "a"}])
def test_daily_confirm_refuses_a_malformed_decision(decision: object) -> None:
    with pytest.raises(InvalidInputError) as info:
        daily({"tasks": [task("a", 1)]}, {}, decision)
    assert str(info.value).startswith(
        "inputs[\"daily-confirm-priorities\"]: step 'daily-confirm-priorities' (operation 'daily.confirm') refused the input"
    )


def test_daily_log_appends_date_summary_and_confirmed_priorities() -> None:
    state = {"tasks": [task("a", 2), task("b", 1), task("c", 0, done=True)], "log": [{"earlier": True}]}
    final = plain(daily(state, {"date": "2026-03-10"}, {"priorities": ["b"]}))
    assert final["log"] == [
        {"earlier": True},
        {"date": "2026-03-10", "summary": {"done": 1, "open": 2, "journal_entries": 0}, "priorities": ["b"]},
    ]


def test_daily_loop_works_on_an_empty_state() -> None:
    final = plain(daily({}, {}, {"approved": True}))
    summary = {"done": 0, "open": 0, "journal_entries": 0}
    assert final == {
        "summary": summary,
        "priorities": [],
        "confirmed_priorities": [],
        "log": [{"date": None, "summary": summary, "priorities": []}],
    }


@pytest.mark.parametrize(
    ("params", "path"),
    [
        ({"date": "2026-13-01"}, "params.date"),
        ({"date": "2026-02-30"}, "params.date"),
        ({"date": "10/03/2026"}, "params.date"),
        ({"date": 20260310}, "params.date"),
        ({"max_priorities": -1}, "params.max_priorities"),
        ({"max_priorities": "3"}, "params.max_priorities"),
        ({"max_priorities": True}, "params.max_priorities"),
        ({"max_priorities": 2.0}, "params.max_priorities"),
    ],
)
def test_daily_loop_bad_params_are_refused_before_running(params: dict[str, object], path: str) -> None:
    with pytest.raises(InvalidValueError, match=path.replace(".", r"\.")):
        build_workflow(MissionSpec("daily_loop", params))
    with pytest.raises(InvalidValueError, match=path.replace(".", r"\.")):
        daily({}, params, {"approved": True})


def test_daily_loop_malformed_task_fails_the_first_step_naming_its_path() -> None:
    tasks = [task("a", 1), {"id": "b", "title": "b", "priority": "high", "due": None, "done": False}]
    result = daily({"tasks": tasks}, {}, {"approved": True})
    assert result.status == "failed"
    assert result.failed_step_id == DAILY_IDS[0]
    assert [step.id for step in result.executed_steps] == DAILY_IDS[:1]
    message = result.error_message
    assert message is not None
    assert "state.tasks[1].priority" in message
    assert result.final_state == {"tasks": tasks}


@given(daily_states(), daily_params)
def test_daily_loop_is_deterministic(state: dict[str, object], params: dict[str, object]) -> None:
    first = daily(state, params, {"approved": True})
    second = daily(state, params, {"approved": True})
    assert first.to_dict() == second.to_dict()
    final = plain(first)

    tasks = state["tasks"]
    assert isinstance(tasks, list)
    by_id = {t["id"]: t for t in tasks}
    open_ids = {t["id"] for t in tasks if not t["done"]}
    limit = params.get("max_priorities", 3)
    assert isinstance(limit, int)
    priorities = final["priorities"]
    assert isinstance(priorities, list)

    def rank(task_id: object) -> tuple[object, ...]:
        t = by_id[task_id]
        return (-t["priority"], t["due"] is None, t["due"] or "", t["id"])

    assert len(priorities) == min(limit, len(open_ids))
    assert len(set(priorities)) == len(priorities)
    assert set(priorities) <= open_ids
    ranks = [rank(p) for p in priorities]
    assert ranks == sorted(ranks)
    if priorities:
        worst_chosen = ranks[-1]
        for left_out in open_ids - set(priorities):
            assert rank(left_out) > worst_chosen
    assert final["confirmed_priorities"] == priorities
    summary = final["summary"]
    assert isinstance(summary, dict)
    assert summary["done"] + summary["open"] == len(tasks)
    assert summary["open"] == len(open_ids)


# echo ------------------------------------------------------------------------------------------


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


# run_tests -------------------------------------------------------------------------------------


# The built-in builders: the workflows they plan ------------------------------------------------


def test_daily_loop_plans_these_steps() -> None:
    dated = build_workflow(MissionSpec("daily_loop", {"date": "2026-03-10", "max_priorities": 2}))
    assert dated.id == "daily_loop"
    assert [step.to_dict() for step in dated.steps] == [
        {"id": DAILY_IDS[0], "kind": "runtime", "payload": {"operation": "daily.summarise", "date": "2026-03-10"}},
        {"id": DAILY_IDS[1], "kind": "runtime", "payload": {"operation": "daily.prioritise", "max_priorities": 2}},
        {"id": CONFIRM, "kind": "human", "payload": {"operation": "daily.confirm"}},
        {"id": DAILY_IDS[3], "kind": "runtime", "payload": {"operation": "daily.log", "date": "2026-03-10"}},
    ]
    undated = build_workflow(MissionSpec("daily_loop"))
    assert [step.payload for step in undated.steps] == [
        {"operation": "daily.summarise"},
        {"operation": "daily.prioritise", "max_priorities": 3},
        {"operation": "daily.confirm"},
        {"operation": "daily.log"},
    ]


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


@pytest.mark.parametrize(
    ("mission", "params", "message"),
    [
        ("run_tests", {"pattern": 3}, "params.pattern: expected a file name pattern (a non-empty string), got 3"),
        ("run_tests", {"paths": "tests"}, "params.paths: expected a list of strings, got 'tests'"),
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


def test_run_tests_refuses_a_list_param_holding_something_else_than_strings() -> None:
    with pytest.raises(InvalidValueError, match=r"^params\.runner: expected a list of strings, got "):
        build_workflow(MissionSpec("run_tests", {"runner": ["pytest", 1]}))


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


# Mission helpers and registration --------------------------------------------------------------


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
