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
    InvalidInputError,
    OperationError,
    OrchestrationResult,
    Policy,
    State,
    StepfoldError,
    StepSpec,
    WorkflowDefinition,
    canonical_json,
    run_workflow,
    thaw,
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


# Exact failure messages ------------------------------------------------------------------------


def refusal(
    name: str,
    state: Mapping[str, object],
    payload: Mapping[str, object],
    kind: str = "runtime",
    error: type[StepfoldError] = OperationError,
) -> str:
    """The `OperationError` (or `error`) message of a built-in operation called directly."""
    with pytest.raises(error) as info:
        DEFAULT_OPERATIONS[name](State(state), StepSpec("s", kind, {"operation": name, **payload}))
    return str(info.value)


@pytest.mark.parametrize(
    ("name", "state", "payload", "message"),
    [
        ("set", {}, {"key": 3, "value": 1}, "payload 'key' must be a string, got int 3"),
        ("set", {}, {"value": 1}, "payload needs 'key'"),
        ("delete", {}, {"key": ["a"]}, "payload 'key' must be a string, got a list"),
        ("merge", {}, {"values": [1, 2]}, "payload 'values' must be a mapping, got a list"),
        ("merge", {}, {"values": "ab"}, "payload 'values' must be a mapping, got str 'ab'"),
        ("increment", {"n": "5"}, {"key": "n"}, "state.n is str '5', not a number"),
        ("increment", {"n": {"a": 1}}, {"key": "n"}, "state.n is a mapping, not a number"),
        ("increment", {"n": True}, {"key": "n"}, "state.n is bool True, not a number"),
        ("increment", {}, {"key": "n", "by": "1"}, "payload 'by' must be a number, got str '1'"),
        ("increment", {}, {"key": "n", "by": False}, "payload 'by' must be a number, got bool False"),
        ("append", {"l": "abc"}, {"key": "l", "value": 1}, "state.l is str 'abc', not a list"),
        ("append", {"a b": {}}, {"key": "a b", "value": 1}, 'state["a b"] is a mapping, not a list'),
        ("copy", {}, {"source": "src", "target": "t"}, "state.src does not exist, nothing to copy"),
        ("copy", {"src": 1}, {"source": "src", "target": None}, "payload 'target' must be a string, got NoneType None"),
    ],
)
def test_builtin_operations_fail_with_an_exact_message(
    name: str, state: dict[str, object], payload: dict[str, object], message: str
) -> None:
    assert refusal(name, state, payload) == message


def test_fail_without_a_reason_says_it_failed_on_purpose() -> None:
    assert refusal("fail", {}, {}) == "failed on purpose (operation 'fail')"
    result = run_one({"operation": "fail"}, step_id="f")
    assert (
        result.error_message
        == "step 'f' (operation 'fail') failed: OperationError: failed on purpose (operation 'fail')"
    )


def test_fail_with_a_reason_that_is_not_a_string_shows_it_as_canonical_json() -> None:
    assert refusal("fail", {}, {"reason": {"code": 3, "why": ["é", None]}}) == '{"code":3,"why":["é",null]}'
    assert refusal("fail", {}, {"reason": 1.0}) == "1"
    assert refusal("fail", {}, {"reason": "plain text"}) == "plain text"


# testplan: the run_tests mission's operations --------------------------------------------------


def test_tests_discover_records_the_paths_and_the_pattern() -> None:
    after = call("tests.discover", {"other": 1}, {"paths": ["a", "b"], "pattern": "check_*.py"})
    assert after.to_dict() == {"other": 1, "tests": {"paths": ["a", "b"], "pattern": "check_*.py"}}


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"paths": "tests", "pattern": "*"}, "payload 'paths' must be a list of strings, got str 'tests'"),
        ({"paths": ["a", 1], "pattern": "*"}, "payload 'paths' must be a list of strings, got a list"),
        ({"paths": ["a"]}, "payload needs 'pattern'"),
        ({"paths": ["a"], "pattern": 3}, "payload 'pattern' must be a string, got int 3"),
    ],
)
def test_tests_discover_refuses_a_bad_payload(payload: dict[str, object], message: str) -> None:
    assert refusal("tests.discover", {}, payload) == message


def test_tests_execute_plans_the_runner_followed_by_the_paths() -> None:
    after = call("tests.execute", {"tests": {"paths": ["a", "b"], "pattern": "*"}}, {"runner": ["pytest", "-x"]})
    assert after.to_dict() == {"tests": {"paths": ["a", "b"], "pattern": "*", "command": ["pytest", "-x", "a", "b"]}}


@pytest.mark.parametrize(
    ("state", "payload", "message"),
    [
        ({}, {"runner": ["pytest"]}, "state.tests.paths: missing; run tests.discover first"),
        ({"tests": {"pattern": "*"}}, {"runner": ["pytest"]}, "state.tests.paths: missing; run tests.discover first"),
        ({"tests": [1]}, {"runner": ["pytest"]}, "state.tests: expected a mapping, got a list"),
        (
            {"tests": {"paths": ["a"]}},
            {"runner": "pytest"},
            "payload 'runner' must be a list of strings, got str 'pytest'",
        ),
        (
            {"tests": {"paths": ["a"]}},
            {"runner": ["pytest", 1]},
            "payload 'runner' must be a list of strings, got a list",
        ),
    ],
)
def test_tests_execute_refuses_a_missing_plan_or_a_bad_runner(
    state: dict[str, object], payload: dict[str, object], message: str
) -> None:
    assert refusal("tests.execute", state, payload) == message


@pytest.mark.parametrize(
    ("tests", "report"),
    [
        ({}, {"status": "planned"}),
        ({"paths": ["a"]}, {"status": "planned"}),
        ({"results": {"failed": 0, "passed": 3}}, {"status": "passed", "results": {"failed": 0, "passed": 3}}),
        ({"results": {"passed": 3}}, {"status": "passed", "results": {"passed": 3}}),
        ({"results": {"failed": 2}}, {"status": "failed", "results": {"failed": 2}}),
    ],
)
def test_tests_report_is_planned_until_results_say_passed_or_failed(
    tests: dict[str, object], report: dict[str, object]
) -> None:
    after = call("tests.report", {"tests": tests}, {})
    assert after.to_dict() == {"tests": {**tests, "report": report}}


def test_tests_report_without_a_plan_is_planned() -> None:
    assert call("tests.report", {}, {}).to_dict() == {"tests": {"report": {"status": "planned"}}}


@pytest.mark.parametrize(
    ("results", "shown"),
    [([1], "a list"), ({"failed": "2"}, "a mapping"), ({"failed": 1.5}, "a mapping"), ("ok", "str 'ok'")],
)
def test_tests_report_refuses_results_without_an_int_failed_count(results: object, shown: str) -> None:
    message = refusal("tests.report", {"tests": {"results": results}}, {})
    assert message == f"state.tests.results: expected a mapping with an int 'failed', got {shown}"


# testrun: what the run_tests mission's effects found and ran, recorded, then judged ---------------------


_RUN = {"exit_code": 0, "passed": 2, "failed": 0, "errors": 0, "skipped": None}


def test_tests_discovered_records_what_was_looked_for_and_found() -> None:
    payload = {"paths": ["t"], "pattern": "test_*.py", "input": ["t/test_a.py"]}
    after = call("tests.discovered", {"other": 1}, payload)
    assert after.to_dict() == {"other": 1, "tests": {"paths": ["t"], "pattern": "test_*.py", "files": ["t/test_a.py"]}}


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"paths": "t", "pattern": "p", "input": []}, "payload 'paths' must be a list of strings, got str 't'"),
        ({"paths": ["t", 1], "pattern": "p", "input": []}, "payload 'paths' must be a list of strings, got a list"),
        ({"paths": ["t"], "input": []}, "payload needs 'pattern'"),
        ({"paths": ["t"], "pattern": "p", "input": "x"}, "the discovered files must be a list of paths, got str 'x'"),
        (
            {"paths": ["t"], "pattern": "p", "input": ["a", 2]},
            "the discovered files must be a list of paths, got a list",
        ),
    ],
)
def test_tests_discovered_refuses_what_is_not_paths(payload: dict[str, object], message: str) -> None:
    assert refusal("tests.discovered", {}, payload) == message


def test_tests_ran_records_the_run_beside_the_discovery() -> None:
    after = call("tests.ran", {"tests": {"files": []}}, {"input": _RUN})
    assert after.to_dict() == {"tests": {"files": [], "run": _RUN}}
    assert call("tests.ran", {}, {"input": {"exit_code": 3}}).to_dict() == {"tests": {"run": {"exit_code": 3}}}


@pytest.mark.parametrize(
    ("state", "run", "message"),
    [
        ({}, {"exit_code": True}, "the test run must be a mapping with an int 'exit_code', got a mapping"),
        ({}, {"exit_code": "0"}, "the test run must be a mapping with an int 'exit_code', got a mapping"),
        ({}, {"passed": 1}, "the test run must be a mapping with an int 'exit_code', got a mapping"),
        ({}, [1], "the test run must be a mapping with an int 'exit_code', got a list"),
        ({}, {"exit_code": 0, "passed": True}, "the test run's 'passed' must be a count or null, got bool True"),
        ({}, {"exit_code": 0, "errors": -1}, "the test run's 'errors' must be a count or null, got int -1"),
        ({}, {"exit_code": 0, "skipped": 1.0}, "the test run's 'skipped' must be a count or null, got float 1.0"),
        ({}, {"exit_code": 0, "failed": "x"}, "the test run's 'failed' must be a count or null, got str 'x'"),
        ({"tests": 3}, {"exit_code": 0}, "state.tests: expected a mapping, got int 3"),
    ],
)
def test_tests_ran_refuses_a_run_that_is_not_counts(state: dict[str, object], run: object, message: str) -> None:
    assert refusal("tests.ran", state, {"input": run}) == message


@pytest.mark.parametrize(
    ("run", "report"),
    [
        (_RUN, {"status": "passed", "passed": 2, "failed": 0, "errors": 0, "skipped": None}),
        ({"exit_code": 0}, {"status": "passed", "passed": None, "failed": None, "errors": None, "skipped": None}),
    ],
)
def test_tests_verdict_passes_a_run_that_exited_0_without_failures(
    run: dict[str, object], report: dict[str, object]
) -> None:
    after = call("tests.verdict", {"tests": {"run": run}}, {})
    assert after.to_dict() == {"tests": {"run": run, "report": report}}


@pytest.mark.parametrize(
    ("state", "message"),
    [
        (
            {"tests": {"run": {**_RUN, "exit_code": 1, "failed": 1}}},
            "the tests did not pass: 2 passed, 1 failed, 0 errors; the runner exited with 1",
        ),
        (
            {"tests": {"run": {**_RUN, "errors": 1}}},
            "the tests did not pass: 2 passed, 0 failed, 1 errors; the runner exited with 0",
        ),
        ({"tests": {"run": {"exit_code": 2}}}, "the tests did not pass: no counts; the runner exited with 2"),
        ({"tests": {}}, "state.tests.run: missing; tests-execute records the test run first"),
        ({}, "state.tests.run: missing; tests-execute records the test run first"),
        ({"tests": {"run": 5}}, "state.tests.run: missing; tests-execute records the test run first"),
        ({"tests": []}, "state.tests: expected a mapping, got a list"),
        (
            {"tests": {"run": {"exit_code": 0, "failed": "x"}}},
            "the test run's 'failed' must be a count or null, got str 'x'",
        ),
    ],
)
def test_tests_verdict_fails_a_run_that_did_not_pass_saying_why(state: dict[str, object], message: str) -> None:
    assert refusal("tests.verdict", state, {}) == message


def test_tests_verdict_counts_skipped_tests_as_no_failure() -> None:
    report = call("tests.verdict", {"tests": {"run": {"exit_code": 0, "skipped": 4}}}, {}).to_dict()["tests"]
    assert report == {
        "run": {"exit_code": 0, "skipped": 4},
        "report": {"status": "passed", "passed": None, "failed": None, "errors": None, "skipped": 4},
    }


# daily: the daily loop's operations, called directly -------------------------------------------


@pytest.mark.parametrize(
    ("name", "state", "message"),
    [
        ("daily.summarise", {"tasks": "x"}, "state.tasks: expected a list, got str 'x'"),
        ("daily.summarise", {"journal": {"a": 1}}, "state.journal: expected a list, got a mapping"),
        ("daily.log", {"log": 3}, "state.log: expected a list, got int 3"),
        ("daily.summarise", {"tasks": [7]}, "state.tasks[0]: expected a task mapping, got int 7"),
        (
            "daily.summarise",
            {"tasks": [{"title": "x"}]},
            "state.tasks[0].id: expected a string or int id, got NoneType None",
        ),
        ("daily.summarise", {"tasks": [{"id": True}]}, "state.tasks[0].id: expected a string or int id, got bool True"),
        ("daily.summarise", {"tasks": [{"id": 1.5}]}, "state.tasks[0].id: expected a string or int id, got float 1.5"),
        (
            "daily.summarise",
            {"tasks": [{"id": "a"}, {"id": "b"}, {"id": "a"}]},
            "state.tasks[2].id: 'a' is already the id of state.tasks[0]",
        ),
        (
            "daily.summarise",
            {"tasks": [{"id": 1, "priority": "high"}]},
            "state.tasks[0].priority: expected a number, got str 'high'",
        ),
        (
            "daily.summarise",
            {"tasks": [{"id": 1, "priority": False}]},
            "state.tasks[0].priority: expected a number, got bool False",
        ),
        (
            "daily.summarise",
            {"tasks": [{"id": 1, "due": "soon"}]},
            "state.tasks[0].due: expected a date \"YYYY-MM-DD\", got str 'soon'",
        ),
        (
            "daily.summarise",
            {"tasks": [{"id": 1, "due": "2026-02-30"}]},
            "state.tasks[0].due: expected a date \"YYYY-MM-DD\", got str '2026-02-30'",
        ),
        (
            "daily.summarise",
            {"tasks": [{"id": 1, "done": 1}]},
            "state.tasks[0].done: expected true or false, got int 1",
        ),
        (
            "daily.summarise",
            {"journal": [{"date": "x"}, "note"]},
            "state.journal[1]: expected a journal entry mapping, got str 'note'",
        ),
    ],
)
def test_daily_operations_name_the_path_of_a_malformed_state(name: str, state: dict[str, object], message: str) -> None:
    assert refusal(name, state, {}) == message


@pytest.mark.parametrize(
    ("date", "shown"),
    [("10/03/2026", "str '10/03/2026'"), ("2026-13-01", "str '2026-13-01'"), (20260310, "int 20260310")],
)
def test_daily_operations_refuse_a_payload_date_that_is_not_a_day(date: object, shown: str) -> None:
    for name in ("daily.summarise", "daily.log"):
        assert refusal(name, {}, {"date": date}) == f"payload 'date': expected a date \"YYYY-MM-DD\", got {shown}"


def test_daily_task_fields_default_to_priority_zero_open_and_no_due_date() -> None:
    tasks = [{"id": "a"}, {"id": "b", "priority": 1}, {"id": "c", "priority": -1}, {"id": "d", "due": "2026-01-01"}]
    summary = call("daily.summarise", {"tasks": tasks}, {}).to_dict()["summary"]
    assert summary == {"done": 0, "open": 4, "journal_entries": 0}
    priorities = call("daily.prioritise", {"tasks": tasks}, {"max_priorities": 4}).to_dict()["priorities"]
    assert priorities == ["b", "d", "a", "c"]  # a (priority 0, no due date) ranks after d (priority 0, due)


def test_daily_prioritise_keeps_three_when_the_payload_does_not_say() -> None:
    tasks = [{"id": name, "priority": rank} for rank, name in enumerate("abcde")]
    assert call("daily.prioritise", {"tasks": tasks}, {}).to_dict()["priorities"] == ["e", "d", "c"]


def test_daily_prioritise_ranks_int_ids_before_string_ids_each_ascending() -> None:
    tasks = [{"id": "b"}, {"id": 10}, {"id": "a"}, {"id": 2}]
    assert call("daily.prioritise", {"tasks": tasks}, {"max_priorities": 4}).to_dict()["priorities"] == [
        2,
        10,
        "a",
        "b",
    ]


@pytest.mark.parametrize(
    ("limit", "shown"),
    [(-1, "int -1"), (True, "bool True"), ("3", "str '3'"), (2.0, "float 2.0"), (None, "NoneType None")],
)
def test_daily_prioritise_refuses_a_limit_that_is_not_a_non_negative_int(limit: object, shown: str) -> None:
    message = refusal("daily.prioritise", {}, {"max_priorities": limit})
    assert message == f"payload 'max_priorities' must be a non-negative int, got {shown}"


@pytest.mark.parametrize(
    ("decision", "message"),
    [
        ("yes", 'input must be {"approved": true|false} or {"priorities": [task ids]}, got str \'yes\''),
        ({}, 'input must be {"approved": true|false} or {"priorities": [task ids]}, got a mapping'),
        ({"other": 1}, 'input must be {"approved": true|false} or {"priorities": [task ids]}, got a mapping'),
        ({"approved": "yes"}, "input.approved: expected true or false, got str 'yes'"),
        ({"priorities": "a"}, "input.priorities: expected a list of task ids, got str 'a'"),
        ({"priorities": ["a", "a"]}, "input.priorities[1]: 'a' is listed twice"),
        ({"priorities": [True]}, "input.priorities[0]: True is not an open task; open tasks: ['1', 'a']"),
        ({"priorities": ["z"]}, "input.priorities[0]: 'z' is not an open task; open tasks: ['1', 'a']"),
    ],
)
def test_daily_confirm_refuses_a_malformed_decision_with_an_exact_message(decision: object, message: str) -> None:
    state = {"tasks": [{"id": "a"}, {"id": 1}, {"id": "done", "done": True}], "priorities": ["a"]}
    assert refusal("daily.confirm", state, {"input": decision}, kind="human", error=InvalidInputError) == message


def test_daily_log_without_confirmed_priorities_logs_none() -> None:
    after = call("daily.log", {"summary": {"done": 0}}, {"date": "2026-03-10"})
    assert after.to_dict()["log"] == [{"date": "2026-03-10", "summary": {"done": 0}, "priorities": []}]
