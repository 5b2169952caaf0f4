"""Golden receipts: a suite run's receipts in a file, and the first divergent scenario, mission and step named."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stepfold import MISSION_REGISTRY, Mission, State, StepSpec
from stepfold.errors import InvalidDocumentError
from stepfold.golden import GOLDEN_FORMAT, GoldenDivergence, compare_golden, golden_document, golden_json
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
            "golden.scenarios.echo.0:echo.head: missing",
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


def test_golden_functions_refuse_what_is_not_a_suite_result() -> None:
    from typing import Any

    from stepfold.errors import InvalidValueError

    number: Any = 3  # what an untyped caller passes
    for call in (lambda: golden_document(number), lambda: compare_golden({}, number)):
        with pytest.raises(
            InvalidValueError, match=r"^result: expected a SuiteResult \(what run_suite returns\), got int$"
        ):
            call()
