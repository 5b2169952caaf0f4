"""`stepfold.transfer`: a worker's packed result rebuilds into exactly the run, and nothing else is accepted."""

from __future__ import annotations

import pickle

import pytest
from hypothesis import given, reject
from hypothesis import strategies as st

from stepfold import ExecutionContext, OrchestrationResult, Policy, StepSpec, WorkflowDefinition, run_workflow
from stepfold.errors import InvalidInputError
from stepfold.policy import TIER2_POLICY
from stepfold.testing.strategies import runs
from stepfold.transfer import TransferError, dumps, loads, pack, unpack
from stepfold.values import MAX_DEPTH, freeze
from tests.strategies import results

WIDE = Policy(max_steps=10, max_human_steps=4)


def _across(result: OrchestrationResult) -> object:
    """What the caller receives of `result` from another process: the packed result, pickled and read back."""
    return pickle.loads(pickle.dumps(pack(result), protocol=pickle.HIGHEST_PROTOCOL))


@given(results())
def test_unpack_of_pack_is_the_same_run(result: OrchestrationResult) -> None:
    rebuilt = unpack(_across(result), result.context, result.policy)
    assert rebuilt.to_dict() == result.to_dict()
    assert rebuilt.run_id == result.run_id


@given(runs(WIDE))
def test_unpack_of_pack_is_the_same_run_with_effects_and_failures(
    run: tuple[WorkflowDefinition, ExecutionContext],
) -> None:
    workflow, context = run
    try:
        result = run_workflow(workflow, context, policy=WIDE)
    except InvalidInputError:  # a person's input the step refuses: no run, nothing to transfer
        reject()
    assert unpack(_across(result), context, WIDE).to_dict() == result.to_dict()


def _daily() -> OrchestrationResult:
    steps = [
        StepSpec("count", "runtime", {"operation": "increment", "key": "n"}),
        StepSpec("ask", "human", {"operation": "record", "into": "answer"}),
        StepSpec("again", "runtime", {"operation": "increment", "key": "n"}),
    ]
    context = ExecutionContext(initial_state={"n": 1}, inputs={"ask": {"ok": True}})
    return run_workflow(WorkflowDefinition(id="three", steps=steps), context)


def test_a_pickled_workflow_carries_no_digest() -> None:
    result = _daily()
    assert result.workflow.digest  # computed here
    workflow = pickle.loads(pickle.dumps(result.workflow))
    assert "digest" not in workflow.__getstate__() and workflow.digest == result.workflow.digest


def _edited(packed: object, index: int, value: object) -> tuple[object, ...]:
    assert isinstance(packed, tuple)
    return (*packed[:index], value, *packed[index + 1 :])


def test_a_damaged_accumulator_is_refused() -> None:
    result = _daily()
    packed = pack(result)
    status, written, removed, accumulator = packed[4][0]
    assert accumulator is not None
    damaged = bytes([accumulator[0] ^ 1]) + accumulator[1:]
    entries = ((status, written, removed, damaged), *packed[4][1:])
    with pytest.raises(TransferError, match="does not rebuild into the run its id names"):
        unpack(_edited(packed, 4, entries), result.context, result.policy)


def test_a_changed_step_is_refused() -> None:
    result = _daily()
    packed = pack(result)
    steps = list(result.workflow.steps)
    steps[0] = StepSpec("count", "runtime", {"operation": "increment", "key": "m"})
    forged = WorkflowDefinition(id=result.workflow.id, steps=steps, metadata=result.workflow.metadata)
    with pytest.raises(TransferError, match="does not rebuild"):
        unpack(_edited(packed, 3, forged), result.context, result.policy)


def test_a_status_or_message_its_steps_contradict_is_refused() -> None:
    """The status and error message cross too, unbound by the head: held to what the steps give, as a document's are."""
    done = _daily()
    failing = WorkflowDefinition(id="f", steps=[StepSpec("a", "runtime", {"operation": "fail", "reason": "no"})])
    failed = run_workflow(failing)
    for result, index, value, message in [
        (done, 1, "suspended", "result.status: 'suspended' disagrees with the lineage, which gives 'completed'"),
        (done, 2, "step 'count' failed", "result.error_message: \"step 'count' failed\" on a completed run"),
        (failed, 2, None, "result.error_message: None is not what step 'a' failed with"),
    ]:
        with pytest.raises(TransferError, match="does not read back") as caught:
            unpack(_edited(_across(result), index, value), result.context, result.policy)
        assert message in str(caught.value)


def test_a_result_from_another_initial_state_or_policy_is_refused() -> None:
    result = _daily()
    packed = _across(result)
    with pytest.raises(TransferError, match="does not rebuild"):
        unpack(packed, ExecutionContext(initial_state={"n": 2}, inputs=result.context.inputs), result.policy)
    with pytest.raises(TransferError, match="does not rebuild"):
        unpack(packed, result.context, Policy(max_steps=6))
    assert unpack(packed, result.context, TIER2_POLICY).to_dict() == result.to_dict()


@pytest.mark.parametrize(
    ("packed", "message"),
    [
        (None, "not a packed result"),
        (("a", "b"), "not a packed result"),
        (("id", "done", None, WorkflowDefinition(id="w"), ()), "status: expected one of"),
        (("id", "completed", 3, "workflow", ()), "message 3"),
        (("id", "completed", None, "workflow", ()), "holds str, not a workflow"),
        (("id", "completed", None, WorkflowDefinition(id="w"), (("completed", (), (), b"x"),)), "1 entries for 0"),
    ],
)
def test_a_malformed_packed_result_is_refused_by_name(packed: object, message: str) -> None:
    with pytest.raises(TransferError, match=message):
        unpack(packed, ExecutionContext(), TIER2_POLICY)


@given(st.binary(min_size=0, max_size=64))
def test_a_short_accumulator_is_refused(accumulator: bytes) -> None:
    result = _daily()
    packed = pack(result)
    status, written, removed, _ = packed[4][0]
    entries = ((status, written, removed, accumulator), *packed[4][1:])
    with pytest.raises(TransferError, match="does not read back"):
        unpack(_edited(packed, 4, entries), result.context, result.policy)


def _refusal(packed: object, context: ExecutionContext) -> str:
    with pytest.raises(TransferError) as caught:
        unpack(packed, context, TIER2_POLICY)
    return str(caught.value)


def test_each_refusal_says_exactly_what_was_wrong() -> None:
    result = _daily()
    packed = pack(result)
    first, *rest = packed[4]
    assert _refusal([1], ExecutionContext()) == "a worker's result is list, not a packed result"
    assert _refusal(("id", "completed", 3, "w", ()), ExecutionContext()) == (
        "a worker's result has status 'completed', message 3"
    )
    running = _edited(packed, 4, (("running", *first[1:]), *rest))
    assert _refusal(running, result.context) == "step 'count': status 'running' is not an executed step's"
    assert _refusal(packed, ExecutionContext(initial_state={"n": 1})) == "step 'ask' ran without its input"
    short = _edited(packed, 4, ((*first[:3], b"x"), *rest))
    assert _refusal(short, result.context) == (
        "a worker's result does not read back: InvalidValueError: state: expected a 2048-byte accumulator, got 1"
    )
    assert _refusal(_edited(packed, 0, "f" * 64), result.context) == (
        "a worker's result for workflow 'three' does not rebuild into the run its id names "
        f"('fffffffffffffffff...ffffffffffffffffff'; rebuilt {result.run_id[:12]}): it was damaged on the way, "
        "or made by other code"
    )


def test_the_transfer_pickle_reads_back_the_same_result() -> None:
    result = run_workflow(
        WorkflowDefinition("w", [StepSpec("s", "runtime", {"operation": "set", "key": "k", "value": {"a": [1]}})])
    )
    rebuilt = unpack(loads(dumps(pack(result))), result.context, result.policy)
    assert rebuilt.to_dict() == result.to_dict() and rebuilt.run_id == result.run_id


def test_the_transfer_pickle_carries_a_value_nested_as_deep_as_allowed() -> None:
    deep: object = 1
    for _ in range(MAX_DEPTH // 2 - 1):  # a list and a map per turn: just inside the depth freeze allows
        deep = [{"k": deep}]
    frozen = freeze(deep)
    assert loads(dumps(frozen)) == frozen


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ("text", "a worker's answer is str, not the bytes a worker writes"),
        (b"", "a worker's answer does not unpickle: EOFError"),
        (dumps([1])[:-3], "a worker's answer does not unpickle: UnpicklingError"),
    ],
)
def test_an_answer_that_does_not_unpickle_is_refused_by_name(answer: object, message: str) -> None:
    with pytest.raises(TransferError, match=f"^{message}"):
        loads(answer)
