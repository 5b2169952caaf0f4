"""Scenarios and suites: chained missions, a deterministic digest, and golden receipts that name the first divergent step."""

from __future__ import annotations

import concurrent.futures
import hashlib
import json
import multiprocessing
from collections.abc import Iterator
from pathlib import Path

import pytest
from pyrsistent import PMap

from stepfold import MISSION_REGISTRY, Mission, State, StepSpec, WorkflowDefinition, canonical_json, thaw
from stepfold.errors import InvalidDocumentError, StepfoldError, UnknownMissionError
from stepfold.executors import MissionCall
from stepfold.suite import (
    GOLDEN_FORMAT,
    GoldenDivergence,
    Scenario,
    Suite,
    compare_golden,
    golden_document,
    golden_json,
    run_suite,
)

ROOT = Path(__file__).resolve().parent.parent
DAILY_STATE = json.loads((ROOT / "examples" / "daily_state.json").read_text(encoding="utf-8"))
APPROVE = {"daily-confirm-priorities": {"approved": True}}

WEEK = Scenario("week", DAILY_STATE, [("daily_loop", {"date": f"2026-11-{day}"}, APPROVE) for day in (24, 25, 26)])
WAITS = Scenario(
    "waits", DAILY_STATE, [("daily_loop", {"date": "2026-11-24"}), ("daily_loop", {"date": "2026-11-25"}, APPROVE)]
)
ECHO = Scenario("echo", {"x": 1}, ["echo", ("echo", {"payload_key": "x"})])
SUITE = Suite("daily", [WEEK, WAITS, ECHO])


@pytest.fixture
def registry_restored() -> Iterator[None]:
    before = dict(MISSION_REGISTRY)
    yield
    MISSION_REGISTRY.clear()
    MISSION_REGISTRY.update(before)


# Values ---------------------------------------------------------------------------


def test_a_scenario_freezes_its_inputs_at_the_boundary() -> None:
    state: dict[str, object] = {"tasks": []}
    params: dict[str, object] = {"date": "2026-11-24"}
    scenario = Scenario("s", state, [("daily_loop", params, APPROVE), "echo", MissionCall("echo", {"a": 1})])
    state["tasks"] = "changed"
    params["date"] = "changed"
    assert isinstance(scenario.initial_state, PMap) and thaw(scenario.initial_state) == {"tasks": []}
    assert scenario.missions == (
        MissionCall("daily_loop", {"date": "2026-11-24"}, {}, APPROVE),
        MissionCall("echo"),
        MissionCall("echo", {"a": 1}),
    )


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Scenario("s", {"a": float("inf")}, ["echo"]), "initial_state.a: inf is not allowed"),
        (lambda: Scenario("s", {}, [("echo", {"n": float("nan")})]), "missions[0].params.n: nan is not allowed"),
        (
            lambda: Scenario("s", {}, [MissionCall("echo", {}, {"a": 1})]),
            "give the state as the scenario's initial_state",
        ),
        (lambda: Scenario("s", {}, []), "a scenario needs at least one mission"),
        (lambda: Scenario("s", {}, [42]), "missions[0]: expected (mission, params, inputs)"),
        (lambda: Scenario("", {}, ["echo"]), "scenario name: expected a non-empty string"),
        (lambda: Suite("x", [ECHO, ECHO]), "the name 'echo' is already taken"),
        (lambda: Suite("x", []), "a suite needs at least one scenario"),
        (lambda: Suite("x", ["echo"]), "scenarios[0]: expected a Scenario, got str"),
    ],
)
def test_bad_scenarios_and_suites_are_refused_naming_what_is_wrong(make: object, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        make()  # type: ignore[operator]
    assert message in str(caught.value)


# Running ----------------------------------------------------------------------------


def test_each_mission_starts_from_the_previous_missions_final_state() -> None:
    week = run_suite(SUITE).scenario("week")
    first, second, third = week.results
    assert second.lineage.initial_state == first.final_state
    assert third.lineage.initial_state == second.final_state
    log = thaw(third.final_state["log"])
    assert isinstance(log, list)
    assert [entry["date"] for entry in log] == ["2026-11-24", "2026-11-25", "2026-11-26"]
    assert week.status == "completed" and week.skipped == ()


def test_a_scenario_stops_at_its_first_mission_that_does_not_complete() -> None:
    result = run_suite(SUITE)
    waits = result.scenario("waits")
    assert [r.status for r in waits.results] == ["suspended"]
    assert waits.status == "suspended" and waits.skipped == (WAITS.missions[1],)
    assert not result.ok
    with pytest.raises(IndexError, match="mission 1 did not run"):
        result.result("waits", 1)
    assert run_suite(Suite("ok", [WEEK, ECHO])).ok


def test_the_digest_is_sha256_of_the_documented_encoding() -> None:
    result = run_suite(SUITE)
    body = [
        [outcome.name, [[call.mission, r.receipt.head] for call, r in zip(outcome.scenario.missions, outcome.results)]]
        for outcome in result.scenarios
    ]
    assert result.digest == hashlib.sha256(canonical_json(["stepfold/suite/1", body])).hexdigest()
    assert result.heads()["week"]["2:daily_loop"] == result.result("week", 2).receipt.head
    assert list(result.heads()["echo"]) == ["0:echo", "1:echo"]


def test_the_digest_is_deterministic_and_ignores_the_suites_name() -> None:
    assert run_suite(SUITE).digest == run_suite(Suite("renamed", SUITE.scenarios)).digest


def test_the_digest_changes_when_any_receipt_does() -> None:
    changed = Scenario("echo", {"x": 2}, ECHO.missions)
    assert run_suite(Suite("daily", [WEEK, WAITS, changed])).digest != run_suite(SUITE).digest


@pytest.mark.parametrize("kind", ["thread", "process"])
def test_results_are_identical_whatever_the_executor(kind: str) -> None:
    here = run_suite(SUITE)
    pool: concurrent.futures.Executor = (
        concurrent.futures.ThreadPoolExecutor(3) if kind == "thread" else concurrent.futures.ProcessPoolExecutor(2)
    )
    with pool:
        there = run_suite(SUITE, pool)
    assert there.digest == here.digest
    assert [[r.to_dict() for r in s.results] for s in there.scenarios] == [
        [r.to_dict() for r in s.results] for s in here.scenarios
    ]


def test_every_mission_is_checked_before_anything_runs(registry_restored: None) -> None:
    ran: list[str] = []

    def count(state: State, step: StepSpec) -> State:
        ran.append(step.id)
        return state

    MISSION_REGISTRY["counted"] = Mission(
        lambda params: WorkflowDefinition(id="counted", steps=[StepSpec("count", "runtime", {"operation": "count"})]),
        operations={"count": count},
    )
    suite = Suite("checked", [Scenario("first", {}, ["counted"]), Scenario("second", {}, ["counted", ("nope", {})])])
    with pytest.raises(UnknownMissionError) as caught:
        run_suite(suite)
    assert ran == []
    assert "in suite 'checked', scenario 'second', mission '1:nope'" in caught.value.__notes__
    run_suite(Suite("fine", [Scenario("first", {}, ["counted"])]))
    assert ran == ["count"]


def test_a_mission_registered_at_run_time_is_not_found_by_a_fresh_worker_and_the_error_says_why(
    registry_restored: None,
) -> None:
    MISSION_REGISTRY["counted"] = Mission(
        lambda params: WorkflowDefinition(id="counted", steps=[StepSpec("count", "runtime", {"operation": "noop"})])
    )
    suite = Suite("local", [Scenario("first", {}, ["counted"])])
    assert run_suite(suite).ok
    with concurrent.futures.ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        with pytest.raises(StepfoldError) as caught:
            run_suite(suite, pool)
    assert str(caught.value).startswith(
        "scenario 'first' could not run in the executor: UnknownMissionError: unknown mission 'counted'"
    )
    assert "registered through entry points or at import" in str(caught.value)


def test_inputs_for_steps_a_mission_lacks_are_refused_before_anything_runs() -> None:
    suite = Suite("typo", [Scenario("s", {}, [("daily_loop", {}, {"daily-confirm": {"approved": True}})])])
    with pytest.raises(ValueError, match="no human or effect step 'daily-confirm'"):
        run_suite(suite)


# Golden receipts ---------------------------------------------------------------------


def test_a_run_equals_its_own_golden_document_read_back_from_its_text() -> None:
    result = run_suite(SUITE)
    text = golden_json(golden_document(result))
    golden = json.loads(text)
    assert compare_golden(golden, result) == ()
    assert golden["format"] == GOLDEN_FORMAT and golden["digest"] == result.digest
    week = golden["scenarios"]["week"]
    assert list(week) == ["0:daily_loop", "1:daily_loop", "2:daily_loop"]
    assert week["0:daily_loop"]["head"] == result.result("week", 0).receipt.head
    assert [link["step"] for link in week["0:daily_loop"]["links"]] == [
        "daily-summarise-yesterday",
        "daily-generate-priorities",
        "daily-confirm-priorities",
        "daily-log-summary",
    ]
    assert '{"step": "daily-log-summary", "status": "completed", "hash": ' in text  # one link per line


def _daily_with(**operations: object) -> Mission:
    from stepfold.missions.daily_loop import build_daily_loop

    return Mission(build_daily_loop, operations=operations)


def test_a_changed_operation_is_named_as_the_first_divergent_step(monkeypatch: pytest.MonkeyPatch) -> None:
    golden = golden_document(run_suite(SUITE))

    def prioritise_nothing(state: State, step: StepSpec) -> State:
        return state.set("priorities", [])

    monkeypatch.setitem(MISSION_REGISTRY, "daily_loop", _daily_with(**{"daily.prioritise": prioritise_nothing}))
    divergences = compare_golden(golden, run_suite(SUITE))
    assert [(d.scenario, d.mission, d.step_id, d.step_index) for d in divergences] == [
        ("week", "0:daily_loop", "daily-generate-priorities", 1),
        ("waits", "0:daily_loop", "daily-generate-priorities", 1),
    ]
    assert str(divergences[0]) == (
        "scenario 'week', mission '0:daily_loop': first divergent step 'daily-generate-priorities' (index 1): "
        "its link differs: its operation now produces a different state (and 2 later mission(s) of this scenario differ)"
    )


def test_a_step_that_now_fails_says_so() -> None:
    golden = golden_document(run_suite(SUITE))
    failing = Scenario("week", {"tasks": [{"id": "a", "priority": "high"}]}, WEEK.missions)
    (divergence,) = [d for d in compare_golden(golden, run_suite(Suite("daily", [failing, WAITS, ECHO])))]
    assert divergence.mission == "0:daily_loop" and divergence.step_id == "daily-summarise-yesterday"
    assert "the initial state differs" in divergence.reason


def test_a_changed_human_input_is_named_at_its_step() -> None:
    golden = golden_document(run_suite(SUITE))
    other = Scenario(
        "week",
        DAILY_STATE,
        [
            ("daily_loop", {"date": "2026-11-24"}, APPROVE),
            ("daily_loop", {"date": "2026-11-25"}, {"daily-confirm-priorities": {"priorities": ["t1"]}}),
            ("daily_loop", {"date": "2026-11-26"}, APPROVE),
        ],
    )
    (divergence,) = compare_golden(golden, run_suite(Suite("daily", [other, WAITS, ECHO])))
    assert (divergence.mission, divergence.step_id, divergence.step_index) == (
        "1:daily_loop",
        "daily-confirm-priorities",
        2,
    )
    assert divergence.reason.startswith(
        "its link differs: its human input, or the state its operation produces, changed"
    )


def test_changed_params_are_named_as_a_changed_workflow() -> None:
    golden = golden_document(run_suite(SUITE))
    other = Scenario("echo", {"x": 1}, ["echo", ("echo", {"payload_key": "x", "extra": 1})])
    (divergence,) = compare_golden(golden, run_suite(Suite("daily", [WEEK, WAITS, other])))
    assert (divergence.mission, divergence.step_id) == ("1:echo", "echo")
    assert divergence.reason.startswith("the workflow differs")


def test_a_run_that_now_stops_earlier_or_later_is_named() -> None:
    golden = golden_document(run_suite(SUITE))
    now_waits = Scenario("week", DAILY_STATE, [("daily_loop", {"date": "2026-11-24"}), *WEEK.missions[1:]])
    (divergence,) = compare_golden(golden, run_suite(Suite("daily", [now_waits, WAITS, ECHO])))
    assert (divergence.mission, divergence.step_id, divergence.step_index) == (
        "0:daily_loop",
        "daily-confirm-priorities",
        2,
    )
    assert (
        "ran in the golden run but does not now (the run is now suspended at 'daily-confirm-priorities')"
        in divergence.reason
    )
    now_runs = Scenario("waits", DAILY_STATE, [("daily_loop", {"date": "2026-11-24"}, APPROVE), WAITS.missions[1]])
    (divergence,) = compare_golden(golden, run_suite(Suite("daily", [WEEK, now_runs, ECHO])))
    assert (divergence.mission, divergence.step_id) == ("0:daily_loop", "daily-confirm-priorities")
    assert "runs now but did not in the golden run (which was suspended)" in divergence.reason


def test_added_removed_and_renamed_scenarios_and_missions_are_named() -> None:
    golden = golden_document(run_suite(SUITE))
    shorter = Scenario("echo", {"x": 1}, ["echo"])
    extra = Scenario("new", {}, ["echo"])
    divergences = compare_golden(golden, run_suite(Suite("daily", [WEEK, shorter, extra])))
    assert divergences == (
        GoldenDivergence(
            "echo",
            "1:echo",
            None,
            None,
            "the mission ran in the golden run but not now (the scenario now stops at mission '0:echo', which is completed)",
        ),
        GoldenDivergence("new", None, None, None, "the scenario is new: it is not in the golden file"),
        GoldenDivergence("waits", None, None, None, "the scenario is in the golden file but not in the suite"),
    )
    swapped = Scenario("echo", {"x": 1}, ["echo", "daily_loop"])
    (divergence,) = compare_golden(golden, run_suite(Suite("daily", [WEEK, WAITS, swapped])))
    assert divergence.mission == "1:daily_loop" and "the golden run has mission '1:echo' here" in divergence.reason


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda g: g.update(format="other"), "golden.format: expected 'stepfold/golden/1'"),
        (lambda g: g.update(scenarios=[]), "golden.scenarios: expected an object"),
        (
            lambda g: g["scenarios"]["echo"]["0:echo"].pop("head"),
            "golden.scenarios.echo.0:echo.head: expected a string",
        ),
        (lambda g: g["scenarios"]["echo"]["0:echo"]["links"][0].update(hash=1), "links[0].hash: expected a string"),
    ],
)
def test_an_unreadable_golden_document_names_the_field(edit: object, message: str) -> None:
    result = run_suite(SUITE)
    golden = json.loads(golden_json(golden_document(result)))
    edit(golden)  # type: ignore[operator]
    with pytest.raises(InvalidDocumentError) as caught:
        compare_golden(golden, result)
    assert message in str(caught.value)
