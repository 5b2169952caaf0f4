"""The built-in operations, one step at a time: what each does, and how each fails its step.

Every operation is a pure `(State, StepSpec) -> State`; run through the fold,
an operation that raises or returns something other than a `State` fails its
step with a message naming the step, the operation and the cause.
"""

from __future__ import annotations

from collections.abc import Mapping

import pytest
from hypothesis import given
from hypothesis import strategies as st

import stepfold
from stepfold import (
    DEFAULT_OPERATIONS,
    EnvelopeViolation,
    ExecutionContext,
    OrchestrationResult,
    Policy,
    State,
    StepSpec,
    WorkflowDefinition,
    canonical_json,
    thaw,
    run_workflow,
)
from stepfold.operations import Operation
from tests.strategies import daily_states, ops_steps, plain_values, small_keys, states

MAX_SAFE = 2**53 - 1


# Helpers ---------------------------------------------------------------------------------------


def run_one(
    payload: Mapping[str, object],
    state: Mapping[str, object] | None = None,
    *,
    step_id: str = "s",
    kind: str = "runtime",
    operations: Mapping[str, Operation] = DEFAULT_OPERATIONS,
    policy: Policy = stepfold.TIER2_POLICY,
    inputs: Mapping[str, object] | None = None,
) -> OrchestrationResult:
    """Run a one-step workflow over `state`."""
    workflow = WorkflowDefinition(id="one", steps=[StepSpec(step_id, kind, payload)])
    ctx = ExecutionContext(initial_state=state or {}, inputs=inputs or {})
    return run_workflow(workflow, ctx, policy=policy, operations=operations)


def final(result: OrchestrationResult) -> dict[str, object]:
    """The final state of a run that must have completed, as plain data."""
    assert result.status == "completed", result.error_message
    assert result.success
    assert result.failed_step_id is None
    assert result.error_message is None
    return result.final_state.to_dict()


def assert_step_failed(
    result: OrchestrationResult,
    step_id: str,
    operation: str,
    cause: str,
    *fragments: str,
) -> str:
    """The run failed at `step_id`, and its message names the step, the operation, the cause's type and `fragments`."""
    assert result.status == "failed"
    assert result.success is False
    assert result.failed_step_id == step_id
    assert result.pending_step_id is None
    message = result.error_message
    assert message is not None
    assert repr(step_id) in message, message
    assert repr(operation) in message, message
    assert f"{cause}:" in message, message
    for fragment in fragments:
        assert fragment in message, message
    return message


def call(name: str, state: Mapping[str, object], payload: Mapping[str, object], step_id: str = "s") -> State:
    """Call a built-in operation directly, as the plain function it is."""
    return DEFAULT_OPERATIONS[name](State(state), StepSpec(step_id, "runtime", {"operation": name, **payload}))


# noop ------------------------------------------------------------------------------------------


def test_noop_leaves_the_state_unchanged() -> None:
    state = State({"a": 1, "b": [True, None]})
    after = DEFAULT_OPERATIONS["noop"](state, StepSpec("s", "runtime", {"operation": "noop"}))
    assert after == state
    assert after.digest == state.digest
    result = run_one({"operation": "noop"}, {"a": 1})
    assert final(result) == {"a": 1}
    assert [step.id for step in result.executed_steps] == ["s"]


# fail ------------------------------------------------------------------------------------------


def test_fail_halts_the_run_with_its_reason() -> None:
    workflow = WorkflowDefinition(
        id="w",
        steps=[
            StepSpec("before", "runtime", {"operation": "set", "key": "a", "value": 1}),
            StepSpec("boom", "runtime", {"operation": "fail", "reason": "the sky fell"}),
            StepSpec("after", "runtime", {"operation": "set", "key": "b", "value": 2}),
        ],
    )
    result = run_workflow(workflow, ExecutionContext(initial_state={"z": 0}))
    assert_step_failed(result, "boom", "fail", "OperationError", "the sky fell")
    assert [step.id for step in result.executed_steps] == ["before", "boom"]
    assert result.final_state == {"z": 0, "a": 1}
    assert "b" not in result.final_state
    assert result.lineage.entries[-1].status == "failed"
    assert result.lineage.entries[-1].state == result.final_state


def test_fail_without_a_reason_still_fails() -> None:
    result = run_one({"operation": "fail"}, {"a": 1}, step_id="f")
    assert_step_failed(result, "f", "fail", "OperationError")
    assert result.final_state == {"a": 1}


def test_fail_as_a_function_raises() -> None:
    with pytest.raises(Exception, match="no good"):
        call("fail", {}, {"reason": "no good"})


# set -------------------------------------------------------------------------------------------


def test_set_binds_a_new_key() -> None:
    assert final(run_one({"operation": "set", "key": "k", "value": {"x": [1, 2.5]}})) == {"k": {"x": [1, 2.5]}}


def test_set_overwrites_an_existing_key() -> None:
    assert final(run_one({"operation": "set", "key": "k", "value": None}, {"k": 1, "j": 2})) == {"k": None, "j": 2}


def test_set_without_a_key_fails() -> None:
    result = run_one({"operation": "set", "value": 1}, {"a": 1}, step_id="setter")
    assert_step_failed(result, "setter", "set", "OperationError", "key")
    assert result.final_state == {"a": 1}


# delete ----------------------------------------------------------------------------------------


def test_delete_removes_a_key() -> None:
    assert final(run_one({"operation": "delete", "key": "a"}, {"a": 1, "b": 2})) == {"b": 2}


def test_delete_of_an_absent_key_is_a_noop() -> None:
    state = State({"a": 1})
    after = DEFAULT_OPERATIONS["delete"](state, StepSpec("s", "runtime", {"operation": "delete", "key": "zz"}))
    assert after == state and after.digest == state.digest
    assert final(run_one({"operation": "delete", "key": "zz"}, {"a": 1})) == {"a": 1}


# merge -----------------------------------------------------------------------------------------


def test_merge_sets_every_entry_of_a_mapping() -> None:
    result = run_one({"operation": "merge", "values": {"a": 10, "c": [3]}}, {"a": 1, "b": 2})
    assert final(result) == {"a": 10, "b": 2, "c": [3]}


def test_merge_of_an_empty_mapping_changes_nothing() -> None:
    assert final(run_one({"operation": "merge", "values": {}}, {"a": 1})) == {"a": 1}


@pytest.mark.parametrize("values", [[1, 2], "ab", 3, None])
def test_merge_of_a_non_mapping_fails(values: object) -> None:
    result = run_one({"operation": "merge", "values": values}, {"a": 1}, step_id="m")
    assert_step_failed(result, "m", "merge", "OperationError", "values", "mapping")
    assert result.final_state == {"a": 1}


# increment -------------------------------------------------------------------------------------


def test_increment_starts_from_zero() -> None:
    assert final(run_one({"operation": "increment", "key": "n"})) == {"n": 1}


def test_increment_by_defaults_to_one() -> None:
    assert final(run_one({"operation": "increment", "key": "n"}, {"n": 41})) == {"n": 42}


def test_increment_by_a_given_amount() -> None:
    assert final(run_one({"operation": "increment", "key": "n", "by": -5}, {"n": 2})) == {"n": -3}


def test_increment_with_floats() -> None:
    assert final(run_one({"operation": "increment", "key": "x", "by": 0.25}, {"x": 1.5})) == {"x": 1.75}
    assert final(run_one({"operation": "increment", "key": "x", "by": 0.5})) == {"x": 0.5}
    assert final(run_one({"operation": "increment", "key": "x", "by": 2}, {"x": 0.5})) == {"x": 2.5}


@pytest.mark.parametrize("current", ["5", True, False, None, [1], {"a": 1}])
def test_increment_of_a_wrong_type_value_fails(current: object) -> None:
    result = run_one({"operation": "increment", "key": "n"}, {"n": current}, step_id="inc")
    assert_step_failed(result, "inc", "increment", "OperationError", "state.n", "not a number")
    assert result.final_state == {"n": current}


@pytest.mark.parametrize("by", ["1", True, None, [1]])
def test_increment_by_a_non_number_fails(by: object) -> None:
    result = run_one({"operation": "increment", "key": "n", "by": by}, {"n": 1}, step_id="inc")
    assert_step_failed(result, "inc", "increment", "OperationError", "by")
    assert result.final_state == {"n": 1}


def test_increment_up_to_the_largest_safe_integer_succeeds() -> None:
    assert final(run_one({"operation": "increment", "key": "n"}, {"n": MAX_SAFE - 1})) == {"n": MAX_SAFE}
    assert final(run_one({"operation": "increment", "key": "n", "by": -1}, {"n": -MAX_SAFE + 1})) == {"n": -MAX_SAFE}


@pytest.mark.parametrize(("start", "by"), [(MAX_SAFE, 1), (-MAX_SAFE, -1), (MAX_SAFE, MAX_SAFE)])
def test_increment_beyond_the_safe_integers_fails_cleanly(start: int, by: int) -> None:
    result = run_one({"operation": "increment", "key": "n", "by": by}, {"n": start}, step_id="inc")
    assert_step_failed(result, "inc", "increment", "InvalidValueError", "state.n", str(start + by))
    assert result.final_state == {"n": start}


def test_increment_overflowing_a_float_fails_cleanly() -> None:
    result = run_one({"operation": "increment", "key": "x", "by": 1.7e308}, {"x": 1.7e308}, step_id="inc")
    assert_step_failed(result, "inc", "increment", "InvalidValueError", "state.x")
    assert result.final_state == {"x": 1.7e308}


# append ----------------------------------------------------------------------------------------


def test_append_starts_from_an_empty_list() -> None:
    assert final(run_one({"operation": "append", "key": "xs", "value": {"a": 1}})) == {"xs": [{"a": 1}]}


def test_append_adds_at_the_end() -> None:
    assert final(run_one({"operation": "append", "key": "xs", "value": None}, {"xs": [1, "b"]})) == {
        "xs": [1, "b", None]
    }


@pytest.mark.parametrize("current", ["abc", 3, None, {"a": 1}, True])
def test_append_to_a_non_list_fails(current: object) -> None:
    result = run_one({"operation": "append", "key": "xs", "value": 1}, {"xs": current}, step_id="app")
    assert_step_failed(result, "app", "append", "OperationError", "state.xs", "not a list")
    assert result.final_state == {"xs": current}


# copy ------------------------------------------------------------------------------------------


def test_copy_copies_source_to_target() -> None:
    result = run_one({"operation": "copy", "source": "a", "target": "b"}, {"a": [1, {"x": 2}], "b": "old"})
    assert final(result) == {"a": [1, {"x": 2}], "b": [1, {"x": 2}]}


def test_copy_from_an_absent_source_fails() -> None:
    result = run_one({"operation": "copy", "source": "nope", "target": "b"}, {"a": 1}, step_id="cp")
    assert_step_failed(result, "cp", "copy", "OperationError", "state.nope")
    assert result.final_state == {"a": 1}


def test_copy_of_a_null_source_copies_null() -> None:
    assert final(run_one({"operation": "copy", "source": "a", "target": "b"}, {"a": None})) == {"a": None, "b": None}


# record: a human step without an operation -----------------------------------------------------


def test_human_step_without_operation_records_its_input_under_its_id() -> None:
    result = run_one({}, {"a": 1}, step_id="ask", kind="human", inputs={"ask": {"answer": [1, 2]}})
    assert final(result) == {"a": 1, "ask": {"answer": [1, 2]}}
    (executed,) = result.executed_steps
    assert thaw(executed.payload["input"]) == {"answer": [1, 2]}


def test_human_step_without_operation_records_into_the_named_key() -> None:
    result = run_one({"into": "answer"}, step_id="ask", kind="human", inputs={"ask": "yes"})
    assert final(result) == {"answer": "yes"}


def test_human_input_none_counts_as_given() -> None:
    result = run_one({}, step_id="ask", kind="human", inputs={"ask": None})
    assert final(result) == {"ask": None}
    assert result.pending_step_id is None


def test_human_step_without_input_suspends() -> None:
    result = run_one({}, {"a": 1}, step_id="ask", kind="human")
    assert result.status == "suspended"
    assert result.success
    assert result.pending_step_id == "ask"
    assert result.executed_steps == ()
    assert result.final_state == {"a": 1}


def test_record_as_a_function() -> None:
    record = DEFAULT_OPERATIONS["record"]
    after = record(State({}), StepSpec("h", "human", {"input": 5}))
    assert after == {"h": 5}
    after = record(State({}), StepSpec("h", "human", {"into": "k", "input": None}))
    assert after == {"k": None}


# operations that misbehave ---------------------------------------------------------------------


def divide_by_zero(state: State, step: StepSpec) -> State:
    """An operation that raises something other than a stepfold error."""
    return state.set("ratio", 1 // len(state))


def returns_a_dict(state: State, step: StepSpec) -> State:
    """An operation breaking its contract: a plain dict instead of a State."""
    return {"a": 1}  # type: ignore[return-value]


def returns_none(state: State, step: StepSpec) -> State:
    """An operation that forgot to return."""
    return None  # type: ignore[return-value]


def _two_step_run(name: str, operation: Operation) -> OrchestrationResult:
    workflow = WorkflowDefinition(
        id="w",
        steps=[
            StepSpec("bad", "runtime", {"operation": name}),
            StepSpec("after", "runtime", {"operation": "set", "key": "b", "value": 2}),
        ],
    )
    operations = DEFAULT_OPERATIONS.set(name, operation)
    return run_workflow(workflow, ExecutionContext(), operations=operations)


def test_an_operation_that_raises_fails_its_step() -> None:
    result = _two_step_run("ratio", divide_by_zero)
    assert_step_failed(result, "bad", "ratio", "ZeroDivisionError", "division")
    assert [step.id for step in result.executed_steps] == ["bad"]
    assert result.final_state == {}


@pytest.mark.parametrize(("operation", "type_name"), [(returns_a_dict, "dict"), (returns_none, "NoneType")])
def test_an_operation_returning_a_non_state_fails_its_step(operation: Operation, type_name: str) -> None:
    result = _two_step_run("liar", operation)
    assert_step_failed(result, "bad", "liar", "TypeError", type_name, "State")
    assert [step.id for step in result.executed_steps] == ["bad"]
    assert result.final_state == {}


# kinds -----------------------------------------------------------------------------------------


def test_a_policy_allowed_kind_runs_like_a_runtime_step() -> None:
    policy = Policy(allowed_kinds={"runtime", "human", "batch"})
    payload = {"operation": "set", "key": "k", "value": 1}
    batch = run_one(payload, {"a": 0}, kind="batch", policy=policy)
    runtime = run_one(payload, {"a": 0}, kind="runtime", policy=policy)
    assert final(batch) == final(runtime) == {"a": 0, "k": 1}
    assert batch.executed_steps[0].kind == "batch"
    assert "input" not in batch.executed_steps[0].payload


def test_a_kind_outside_the_policy_never_runs() -> None:
    with pytest.raises(EnvelopeViolation, match="batch"):
        run_one({"operation": "set", "key": "k", "value": 1}, kind="batch")


def test_a_failing_batch_step_fails_like_a_runtime_step() -> None:
    policy = Policy(allowed_kinds={"runtime", "human", "batch"})
    result = run_one({"operation": "copy", "source": "x", "target": "y"}, kind="batch", policy=policy, step_id="b")
    assert_step_failed(result, "b", "copy", "OperationError", "state.x")


# purity ----------------------------------------------------------------------------------------


def _snapshot(state: State, step: StepSpec) -> tuple[bytes, dict[str, object], str, dict[str, object], str]:
    return (canonical_json(state), state.to_dict(), state.digest, step.to_dict(), step.digest)


colliding_states = st.dictionaries(small_keys, plain_values, max_size=6).map(State)
"""States over the keys `ops_steps` uses, so operations meet existing values of every type."""


@given(st.one_of(states, colliding_states), ops_steps(0))
def test_operations_never_mutate_their_inputs(state: State, step: StepSpec) -> None:
    before = _snapshot(state, step)
    assert step.operation is not None
    try:
        after = DEFAULT_OPERATIONS[step.operation](state, step)
    except Exception:  # a failing operation must not have touched its inputs either
        after = None
    assert _snapshot(state, step) == before
    if after is not None:
        assert isinstance(after, State)


@given(daily_states())
def test_daily_operations_never_mutate_their_inputs(plain: dict[str, object]) -> None:
    state = State(plain)
    steps = [
        StepSpec("a", "runtime", {"operation": "daily.summarise", "date": "2026-03-01"}),
        StepSpec("b", "runtime", {"operation": "daily.prioritise", "max_priorities": 2}),
        StepSpec("c", "human", {"operation": "daily.confirm", "input": {"approved": True}}),
        StepSpec("d", "runtime", {"operation": "daily.log"}),
    ]
    for step in steps:
        before = _snapshot(state, step)
        assert step.operation is not None
        after = DEFAULT_OPERATIONS[step.operation](state, step)
        assert _snapshot(state, step) == before
        state = after
