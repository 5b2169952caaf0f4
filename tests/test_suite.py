"""Scenarios and suites: chained missions and a deterministic digest, whatever the executor."""

from __future__ import annotations

import concurrent.futures
import hashlib
import json
import multiprocessing
from pathlib import Path

import pytest

from stepfold import MISSION_REGISTRY, Mission, State, StepSpec, WorkflowDefinition, canonical_json, thaw
from stepfold.errors import StepfoldError, UnknownMissionError
from stepfold.mission_call import MissionCall
from stepfold.suite import Scenario, Suite, run_suite

ROOT = Path(__file__).resolve().parent.parent
DAILY_STATE = json.loads((ROOT / "examples" / "daily_state.json").read_text(encoding="utf-8"))
APPROVE = {"daily-confirm-priorities": {"approved": True}}

WEEK = Scenario("week", DAILY_STATE, [("daily_loop", {"date": f"2026-11-{day}"}, APPROVE) for day in (24, 25, 26)])
WAITS = Scenario(
    "waits", DAILY_STATE, [("daily_loop", {"date": "2026-11-24"}), ("daily_loop", {"date": "2026-11-25"}, APPROVE)]
)
ECHO = Scenario("echo", {"x": 1}, ["echo", ("echo", {"payload_key": "x"})])
SUITE = Suite("daily", [WEEK, WAITS, ECHO])


# Values ---------------------------------------------------------------------------


def test_a_scenario_freezes_its_inputs_at_the_boundary() -> None:
    state: dict[str, object] = {"tasks": []}
    params: dict[str, object] = {"date": "2026-11-24"}
    scenario = Scenario("s", state, [("daily_loop", params, APPROVE), "echo", MissionCall("echo", {"a": 1})])
    state["tasks"] = "changed"
    params["date"] = "changed"
    assert isinstance(scenario.initial_state, State) and scenario.initial_state.to_dict() == {"tasks": []}
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
