"""The `daily_loop` mission: summarise yesterday, rank priorities, a person confirms them, log the day."""

from __future__ import annotations

import pytest
from hypothesis import given

from stepfold import (
    DEFAULT_OPERATIONS,
    InvalidInputError,
    InvalidValueError,
    MissionSpec,
    build_workflow,
    resume,
)
from tests.helpers import CONFIRM, DAILY_IDS, daily, plain, priorities_of, task
from tests.strategies import daily_params, daily_states

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


def test_daily_loop_has_four_steps_one_human() -> None:
    workflow = build_workflow(MissionSpec("daily_loop"))
    assert [step.id for step in workflow.steps] == DAILY_IDS
    assert [step.kind for step in workflow.steps] == ["runtime", "runtime", "human", "runtime"]
    assert workflow.steps[2].operation == "daily.confirm"
    for step in workflow.steps:
        assert step.operation in DEFAULT_OPERATIONS


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


@pytest.mark.parametrize(
    ("decision", "says"),
    [
        ({"approved": False, "priorities": ["a"]}, 'input: give "approved" or "priorities", not both'),
        ({"approved": True, "priorities": ["a"]}, 'input: give "approved" or "priorities", not both'),
        ({"approved": True, "note": "ok"}, "input: unexpected keys ['note']"),
        ({"priorities": ["a"], "comment": 1, "by": "me"}, "input: unexpected keys ['by', 'comment']"),
    ],
)
def test_daily_confirm_refuses_a_decision_of_another_shape_naming_what_is_extra(decision: object, says: str) -> None:
    # An explicit rejection next to a list must never be recorded as that list confirmed.
    suspended = daily({"tasks": [task("a", 1)]}, {}, decide=False)
    with pytest.raises(InvalidInputError) as info:
        resume(suspended, {CONFIRM: decision})
    assert says in str(info.value)
    assert suspended.status == "suspended" and suspended.pending_step_id == CONFIRM


def test_daily_summary_on_the_first_day_there_is_counts_no_journal_entry() -> None:
    journal = [{"date": "0001-01-01", "text": "today"}, {"date": "", "text": "undated"}]
    state = plain(daily({"tasks": [task("a", 1)], "journal": journal}, {"date": "0001-01-01"}, {"approved": True}))
    assert state["summary"] == {"done": 0, "open": 1, "journal_entries": 0}


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
