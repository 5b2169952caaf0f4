"""`stepfold.worker`, the one protocol: what `work` returns reads back into exactly what `run_chain` returns here."""

from __future__ import annotations

import concurrent.futures
import json
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stepfold import State
from stepfold.mission_call import MissionCall
from stepfold.policy import TIER2_POLICY
from stepfold.transfer import loads
from stepfold.worker import ChainError, Task, read_outcome, run_chain, submit_chains, task_of, work

DAILY = State(json.loads((Path(__file__).resolve().parent.parent / "examples" / "daily_state.json").read_text()))
APPROVE = {"daily-confirm-priorities": {"approved": True}}


def _calls(dates: list[int], approve: bool) -> list[MissionCall]:
    return [
        MissionCall("daily_loop", {"date": f"2026-11-{day:02d}"}, None, APPROVE if approve else None) for day in dates
    ]


def _work(task: Task) -> list[object]:
    """What the caller reads of a worker's answer to `task` (the bytes cross as any executor moves them)."""
    answer = loads(pickle.loads(pickle.dumps(work(task))))
    assert isinstance(answer, list)
    return answer


@settings(max_examples=20)
@given(st.lists(st.integers(1, 28), min_size=1, max_size=3), st.booleans())
def test_work_read_back_equals_run_chain(dates: list[int], approve: bool) -> None:
    calls = _calls(dates, approve)
    (outcome,) = _work(task_of([(DAILY, calls)], TIER2_POLICY))
    read = read_outcome(outcome, (DAILY, calls), TIER2_POLICY)
    here = run_chain(DAILY, calls, TIER2_POLICY)
    assert not isinstance(read, ChainError)
    assert [r.to_dict() for r in read] == [r.to_dict() for r in here]


def test_a_worker_of_another_transfer_format_fails_every_chain_by_name() -> None:
    _, states, chains, policy = task_of([(DAILY, _calls([1], True)), (DAILY, _calls([2], True))], TIER2_POLICY)
    outcomes = _work(("stepfold/transfer/0", states, chains, policy))
    assert len(outcomes) == 2
    for outcome in outcomes:
        error = read_outcome(outcome, (DAILY, _calls([1], True)), TIER2_POLICY)
        assert isinstance(error, ChainError) and "install the same stepfold version on both sides" in error.message


def test_a_chain_that_cannot_run_is_its_error_and_the_others_run() -> None:
    bad = [MissionCall("no-such-mission")]
    outcomes = _work(task_of([(DAILY, bad), (DAILY, _calls([3], True))], TIER2_POLICY))
    first = read_outcome(outcomes[0], (DAILY, bad), TIER2_POLICY)
    assert isinstance(first, ChainError) and first.error_type == "UnknownMissionError"
    second = read_outcome(outcomes[1], (DAILY, _calls([3], True)), TIER2_POLICY)
    assert not isinstance(second, ChainError) and second[0].status == "completed"


def test_a_result_read_against_another_chain_is_refused() -> None:
    (outcome,) = _work(task_of([(DAILY, _calls([4], True))], TIER2_POLICY))
    other = read_outcome(outcome, (State({"tasks": []}), _calls([4], True)), TIER2_POLICY)
    assert isinstance(other, ChainError) and other.error_type == "TransferError"


def test_what_is_not_an_outcome_is_refused() -> None:
    malformed: list[object] = [None, ("results",) + ("x",) * 5, ("nonsense",), {"results": []}]
    for outcome in malformed:
        error = read_outcome(outcome, (DAILY, _calls([5], True)), TIER2_POLICY)
        assert isinstance(error, ChainError) and error.error_type == "TransferError"


def test_a_thread_pool_returns_the_objects_themselves() -> None:
    calls = _calls([6], True)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        submitted = submit_chains(pool, [(DAILY, calls)], TIER2_POLICY)
        (outcome,) = submitted.outcomes()
    assert not submitted.packed and not isinstance(outcome, ChainError)
    assert outcome[0].context.initial_state is DAILY


def test_a_state_shared_by_many_calls_is_sent_once_per_task() -> None:
    copies = [(State(DAILY.to_dict()), _calls([day], True)) for day in (7, 8, 9)]
    _, states, chains, _ = task_of(copies, TIER2_POLICY)
    assert len(states) == 1 and [slot for slot, _ in chains] == [0, 0, 0]


def test_a_pickled_state_is_its_entries_and_accumulator() -> None:
    import pickle

    state = DAILY.set("extra", [1, 2])
    again = pickle.loads(pickle.dumps(state))
    assert again == state and again.digest == state.digest and again.accumulator == state.accumulator
    assert again.set("more", 1).digest == state.set("more", 1).digest


def test_every_many_run_entry_point_refuses_an_executor_or_policy_that_is_not_one_before_running() -> None:
    """`run_many`, `run_as_completed`, `run_in_order` and `run_suite` share one check (`worker.check_arguments`)."""
    from stepfold import Policy, run_as_completed, run_in_order, run_many
    from stepfold.errors import InvalidValueError
    from stepfold.suite import Scenario, Suite, run_suite
    from stepfold.worker import check_arguments

    calls = [MissionCall("echo")]
    suite = Suite("s", [Scenario("a", {}, [("echo", {}, {})])])
    number: Any = 3  # what an untyped caller passes
    text: Any = "x"
    executor_message = (
        "executor: expected None or an executor with submit (a concurrent.futures.Executor, a Dask client's "
        "get_executor()), got int"
    )
    cases: list[tuple[Callable[[], object], str]] = [
        (lambda: run_many(calls, executor=number), executor_message),
        (lambda: run_as_completed(calls, executor=number), executor_message),
        (lambda: run_in_order(calls, executor=number), executor_message),
        (lambda: run_suite(suite, executor=number), executor_message),
        (lambda: run_many(calls, policy=text), "policy: expected a Policy, got str"),
    ]
    for call, message in cases:
        with pytest.raises(InvalidValueError) as info:
            call()
        assert str(info.value) == message
    check_arguments(None, Policy())  # what every default is
