"""Laws of the fold: determinism, non-mutation, lineage prefixes, checks before running, resume."""

from __future__ import annotations

import copy
from collections.abc import Mapping

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stepfold import (
    DEFAULT_OPERATIONS,
    TIER2_POLICY,
    AntiFailureViolation,
    EnvelopeViolation,
    ExecutionContext,
    InvalidValueError,
    OrchestrationResult,
    Orchestrator,
    Policy,
    State,
    StepfoldError,
    StepSpec,
    WorkflowDefinition,
    canonical_json,
    fork,
    resume,
    run_workflow,
    thaw,
    verify,
)
from stepfold.operations import Operation
from tests.strategies import human_workflows, plain_states, plain_values, runtime_workflows


def _inputs_for(workflow: WorkflowDefinition, values: list[object]) -> dict[str, object]:
    humans = [step.id for step in workflow.steps if step.kind == "human"]
    return dict(zip(humans, values))


@given(runtime_workflows(), plain_states)
def test_fold_is_deterministic(workflow: WorkflowDefinition, state: dict[str, object]) -> None:
    first = run_workflow(workflow, ExecutionContext(initial_state=state))
    second = run_workflow(workflow, ExecutionContext(initial_state=state))
    assert first.to_dict() == second.to_dict()
    assert first.receipt.head == second.receipt.head


@given(human_workflows(), plain_states, st.lists(plain_values, min_size=2, max_size=2))
def test_inputs_are_never_mutated(workflow: WorkflowDefinition, state: dict[str, object], values: list[object]) -> None:
    inputs = _inputs_for(workflow, values)
    metadata: dict[str, object] = {"tags": ["a", {"b": [1]}]}
    snapshot = copy.deepcopy((state, inputs, metadata))
    context = ExecutionContext(initial_state=state, inputs=inputs, metadata=metadata)
    result = run_workflow(workflow, context)
    # Mutating what came back must not reach what went in, and running must not have touched it.
    result.to_dict()["final_state"]["x"] = "changed"  # type: ignore[index]
    assert (state, inputs, metadata) == snapshot
    assert context.initial_state == snapshot[0]


@given(runtime_workflows(), plain_states)
def test_lineage_entry_is_the_state_after_that_prefix(workflow: WorkflowDefinition, state: dict[str, object]) -> None:
    result = run_workflow(workflow, ExecutionContext(initial_state=state))
    for index, entry in enumerate(result.lineage.entries):
        prefix = WorkflowDefinition(id=workflow.id, steps=workflow.steps[: index + 1])
        partial = run_workflow(prefix, ExecutionContext(initial_state=state))
        assert entry.state == partial.final_state
        assert entry.state.to_dict() == partial.final_state.to_dict()


def _recording_operations(calls: list[str]) -> Mapping[str, Operation]:
    def spy(name: str, operation: Operation) -> Operation:
        def wrapped(state: State, step: StepSpec) -> State:
            calls.append(name)
            return operation(state, step)

        return wrapped

    return {name: spy(name, op) for name, op in DEFAULT_OPERATIONS.items()}


@st.composite
def violating_workflows(draw: st.DrawFn) -> tuple[WorkflowDefinition, type[StepfoldError]]:
    """A workflow that breaks exactly one rule, with the error it must raise."""
    base = list(draw(runtime_workflows(max_steps=4)).steps)
    rule = draw(st.sampled_from(["kind", "operation", "missing-operation", "too-many", "too-many-human"]))
    position = draw(st.integers(0, len(base)))
    if rule == "kind":
        base.insert(
            position, StepSpec("odd", draw(st.sampled_from(["batch", "", "Runtime", "robot"])), {"operation": "noop"})
        )
        expected: type[StepfoldError] = EnvelopeViolation
    elif rule == "operation":
        base.insert(
            position, StepSpec("typo", "runtime", {"operation": draw(st.sampled_from(["sett", "Noop", "nop", ""]))})
        )
        expected = EnvelopeViolation
    elif rule == "missing-operation":
        base.insert(position, StepSpec("bare", "runtime", {}))
        expected = EnvelopeViolation
    elif rule == "too-many":
        base += [StepSpec(f"extra{i}", "runtime", {"operation": "noop"}) for i in range(6 - len(base))]
        expected = AntiFailureViolation
    else:
        base = base[:2] + [StepSpec(f"h{i}", "human", {}) for i in range(3)]
        expected = AntiFailureViolation
    return WorkflowDefinition(id="bad", steps=base), expected


@given(violating_workflows(), plain_states)
def test_policy_violation_raises_before_any_operation(
    case: tuple[WorkflowDefinition, type[StepfoldError]], state: dict[str, object]
) -> None:
    workflow, expected = case
    calls: list[str] = []
    with pytest.raises(expected):
        run_workflow(workflow, ExecutionContext(initial_state=state), operations=_recording_operations(calls))
    assert calls == []


@given(human_workflows(), plain_states, st.lists(plain_values, min_size=2, max_size=2), st.data())
def test_resume_equals_upfront_inputs(
    workflow: WorkflowDefinition, state: dict[str, object], values: list[object], data: st.DataObject
) -> None:
    inputs = _inputs_for(workflow, values)
    upfront = run_workflow(workflow, ExecutionContext(initial_state=state, inputs=inputs))
    # Deliver the inputs in batches, any split, resuming after each suspension.
    order = data.draw(st.permutations(sorted(inputs)))
    cut = data.draw(st.integers(0, len(order)))
    result = run_workflow(workflow, ExecutionContext(initial_state=state, inputs={k: inputs[k] for k in order[:cut]}))
    remaining = {k: inputs[k] for k in order[cut:]}
    while result.status == "suspended":
        pending = result.pending_step_id
        assert pending is not None and pending in remaining
        result = resume(result, {pending: remaining.pop(pending)})
    if remaining:
        # A step failed before the run reached these human steps: nothing was left to resume.
        assert result.status == upfront.status == "failed"
        delivered = {k: v for k, v in inputs.items() if k not in remaining}
        upfront = run_workflow(workflow, ExecutionContext(initial_state=state, inputs=delivered))
    assert result.to_dict() == upfront.to_dict()
    assert result.receipt.head == upfront.receipt.head


def test_failed_step_halts_the_run() -> None:
    workflow = WorkflowDefinition(
        id="w",
        steps=[
            StepSpec("a", "runtime", {"operation": "set", "key": "k", "value": 1}),
            StepSpec("b", "runtime", {"operation": "increment", "key": "k", "by": "x"}),
            StepSpec("c", "runtime", {"operation": "set", "key": "never", "value": 1}),
        ],
    )
    result = run_workflow(workflow)
    assert (result.status, result.success, result.failed_step_id) == ("failed", False, "b")
    assert [s.id for s in result.executed_steps] == ["a", "b"]
    assert result.final_state == {"k": 1}
    assert result.lineage.entries[-1].state == result.final_state
    assert result.error_message is not None
    assert "'b'" in result.error_message and "'increment'" in result.error_message
    assert "OperationError" in result.error_message and "'by'" in result.error_message


def test_human_step_suspends_without_input() -> None:
    workflow = WorkflowDefinition(
        id="w",
        steps=[
            StepSpec("a", "runtime", {"operation": "set", "key": "k", "value": 1}),
            StepSpec("ask", "human", {}),
            StepSpec("b", "runtime", {"operation": "copy", "source": "ask", "target": "copied"}),
        ],
    )
    suspended = run_workflow(workflow)
    assert (suspended.status, suspended.success, suspended.pending_step_id) == ("suspended", True, "ask")
    assert [s.id for s in suspended.executed_steps] == ["a"]
    done = resume(suspended, {"ask": None})
    assert done.status == "completed"
    assert done.final_state == {"k": 1, "ask": None, "copied": None}
    assert done.executed_steps[1].payload["input"] is None
    assert done.lineage.entries[1].input is None and done.lineage.entries[1].took_input


def test_resume_refuses_a_run_that_is_not_suspended() -> None:
    result = run_workflow(WorkflowDefinition(id="w", steps=[StepSpec("a", "runtime", {"operation": "noop"})]))
    with pytest.raises(StepfoldError, match="completed; only a suspended run"):
        resume(result, {})


def test_resume_refuses_to_change_a_recorded_input() -> None:
    workflow = WorkflowDefinition(id="w", steps=[StepSpec("h1", "human", {}), StepSpec("h2", "human", {})])
    first = run_workflow(workflow, ExecutionContext(inputs={"h1": 1}))
    assert first.pending_step_id == "h2"
    with pytest.raises(InvalidValueError, match=r"inputs.h1: step .h1. already has the input"):
        resume(first, {"h1": 2, "h2": 3})
    assert resume(first, {"h1": 1, "h2": 3}).status == "completed"


def test_unknown_input_step_is_refused_before_running() -> None:
    workflow = WorkflowDefinition(id="w", steps=[StepSpec("ask", "human", {})])
    with pytest.raises(
        InvalidValueError,
        match=r"inputs.aks: workflow 'w' has no human or effect step 'aks'; steps that take an input: \[.ask.\]",
    ):
        run_workflow(workflow, ExecutionContext(inputs={"aks": True}))


def test_orchestrator_binds_policy_and_operations() -> None:
    def shout(state: State, step: StepSpec) -> State:
        return state.set("shout", "HEY")

    orchestrator = Orchestrator(policy=Policy(max_steps=1), operations=DEFAULT_OPERATIONS.set("shout", shout))
    workflow = WorkflowDefinition(id="w", steps=[StepSpec("s", "runtime", {"operation": "shout"})])
    assert orchestrator.run_workflow(workflow, ExecutionContext()).final_state == {"shout": "HEY"}
    with pytest.raises(AntiFailureViolation):
        orchestrator.run_workflow(
            WorkflowDefinition(id="w", steps=[workflow.steps[0], StepSpec("t", "runtime", {"operation": "noop"})])
        )
    assert Orchestrator().policy == TIER2_POLICY


def test_ids_agree() -> None:
    result = run_workflow(WorkflowDefinition(name="named", steps=[]))
    assert result.id == result.lineage.workflow_id == result.receipt.id == "named"
    assert result.receipt.head == result.receipt.genesis


def test_lineage_shares_structure_between_states() -> None:
    big = State({f"k{i}": {"i": i} for i in range(1000)})
    steps = [StepSpec(f"s{i}", "runtime", {"operation": "increment", "key": "n"}) for i in range(5)]
    result = run_workflow(WorkflowDefinition(id="w", steps=steps), ExecutionContext(initial_state=big))
    values = [entry.state["k500"] for entry in result.lineage.entries]
    assert all(value is big["k500"] for value in values)


def test_bad_arguments_name_what_was_wrong() -> None:
    with pytest.raises(InvalidValueError, match="workflow: expected a WorkflowDefinition, got dict"):
        run_workflow({"id": "w"}, ExecutionContext())  # type: ignore[arg-type]
    with pytest.raises(InvalidValueError, match="ctx: expected an ExecutionContext, got dict"):
        run_workflow(WorkflowDefinition(id="w"), {"a": 1})  # type: ignore[arg-type]


def test_bad_policy_or_operations_arguments_are_refused_with_an_exact_message() -> None:
    workflow = WorkflowDefinition(id="w")
    with pytest.raises(InvalidValueError) as info:
        run_workflow(workflow, ExecutionContext(), policy={"max_steps": 1})  # type: ignore[arg-type]
    assert str(info.value) == "policy: expected a Policy, got dict"
    with pytest.raises(InvalidValueError) as info:
        run_workflow(workflow, ExecutionContext(), operations=[("noop", None)])  # type: ignore[arg-type]
    assert str(info.value) == "operations: expected a mapping of names to operations, got list"


@pytest.mark.parametrize(
    ("step", "name"),
    [(StepSpec("s", "runtime", {"operation": "loud"}), "loud"), (StepSpec("s", "human", {}), "record")],
)
def test_an_operation_that_is_not_callable_is_refused_before_running(step: StepSpec, name: str) -> None:
    workflow = WorkflowDefinition(id="w", steps=[step])
    with pytest.raises(EnvelopeViolation) as info:
        run_workflow(
            workflow,
            ExecutionContext(inputs={"s": 1} if step.kind == "human" else {}),
            operations=DEFAULT_OPERATIONS.set(name, "loud"),  # type: ignore[arg-type]
        )
    assert str(info.value) == f"workflow 'w' step 's': operation {name!r} is not callable"


def _six_steps_with_a_human() -> WorkflowDefinition:
    steps = [StepSpec(f"s{i}", "runtime", {"operation": "noop"}) for i in range(5)]
    return WorkflowDefinition(id="w", steps=[*steps, StepSpec("h", "human", {})])


def test_resume_continues_under_the_recorded_policy() -> None:
    policy = Policy(max_steps=6)
    suspended = run_workflow(_six_steps_with_a_human(), policy=policy)
    assert suspended.pending_step_id == "h" and suspended.policy == policy
    done = resume(suspended, {"h": 1})  # no policy given: the one the run recorded
    assert done.final_state == {"h": 1} and done.policy == policy
    assert resume(suspended, {"h": 1}, policy=policy).to_dict() == done.to_dict()
    with pytest.raises(InvalidValueError) as info:
        resume(suspended, {"h": 1}, policy=TIER2_POLICY)
    assert "which its receipt binds; it continues under that policy" in str(info.value)


def test_resume_refuses_what_is_not_a_result_or_inputs_that_are_not_a_mapping() -> None:
    with pytest.raises(InvalidValueError) as info:
        resume({"status": "suspended"}, {})  # type: ignore[arg-type]
    assert str(info.value) == "result: expected an OrchestrationResult, got dict"
    suspended = run_workflow(WorkflowDefinition(id="w", steps=[StepSpec("h", "human", {})]))
    with pytest.raises(InvalidValueError) as info:
        resume(suspended, [("h", 1)])  # type: ignore[arg-type]
    assert str(info.value) == "inputs: expected a mapping with string keys, got list"
    with pytest.raises(InvalidValueError) as info:
        resume(suspended, {"h": {1}})
    assert str(info.value) == "inputs.h: a set is not allowed (use a list)"


def _record_twice(state: State, step: StepSpec) -> State:
    """A replacement for `record`: stores the input under the step id, twice over."""
    return state.set(step.id, [step.payload["input"], step.payload["input"]])


def test_orchestrator_runs_and_resumes_with_its_own_policy_and_operations() -> None:
    operations = DEFAULT_OPERATIONS.set("record", _record_twice)
    orchestrator = Orchestrator(policy=Policy(max_steps=6), operations=operations)
    suspended = orchestrator.run_workflow(_six_steps_with_a_human(), ExecutionContext(initial_state={"a": 1}))
    assert suspended.status == "suspended" and suspended.final_state == {"a": 1}
    done = orchestrator.resume(suspended, {"h": 2})
    assert done.final_state == {"a": 1, "h": [2, 2]}
    assert done.to_dict() == resume(suspended, {"h": 2}, policy=Policy(max_steps=6), operations=operations).to_dict()
    with pytest.raises(InvalidValueError, match="it continues under that policy"):
        Orchestrator().resume(suspended, {"h": 2})


# fork: the run as it was just before a step that takes an input ------------------------------------------

_FORKABLE = WorkflowDefinition(
    id="forkable",
    steps=[
        StepSpec("a", "runtime", {"operation": "set", "key": "k", "value": 1}),
        StepSpec("h", "human", {}),
        StepSpec("b", "runtime", {"operation": "increment", "key": "n"}),
        StepSpec("h2", "human", {}),
    ],
)


def _forkable(inputs: dict[str, object], workflow: WorkflowDefinition = _FORKABLE) -> OrchestrationResult:
    return run_workflow(workflow, ExecutionContext(initial_state={"n": 0}, inputs=inputs))


def test_a_fork_is_the_run_suspended_before_its_step_and_resumes_as_a_fresh_run() -> None:
    done = _forkable({"h": 1, "h2": 2})
    forked = fork(done, "h")
    assert (forked.status, forked.pending_step_id, forked.error_message, forked.policy) == (
        "suspended",
        "h",
        None,
        done.policy,
    )
    assert dict(forked.context.inputs) == {} and len(forked.lineage.entries) == 1 and len(forked.receipt.links) == 1
    assert forked.receipt.head == done.receipt.links[0].hash
    again = resume(forked, {"h": 5, "h2": 2})
    assert again.to_dict() == _forkable({"h": 5, "h2": 2}).to_dict()
    later = fork(done, "h2")
    assert thaw(later.context.inputs) == {"h": 1} and len(later.lineage.entries) == 3


def test_a_suspended_run_forks_at_its_pending_step_but_not_beyond() -> None:
    waiting = _forkable({})
    assert fork(waiting, "h").to_dict() == waiting.to_dict()
    with pytest.raises(InvalidValueError) as info:
        fork(waiting, "h2")
    assert str(info.value) == "fork: run 'forkable' never reached step 'h2' (it suspended after 1 of 4 steps)"


def test_a_failed_run_forks_up_to_the_step_that_failed() -> None:
    steps = list(_FORKABLE.steps)
    steps[2] = StepSpec("b", "runtime", {"operation": "fail", "reason": "no"})
    failing = WorkflowDefinition(id="forkable", steps=steps)
    failed = _forkable({"h": 1, "h2": 2}, failing)
    assert failed.status == "failed" and len(failed.lineage.entries) == 3
    assert fork(failed, "h").pending_step_id == "h"
    with pytest.raises(InvalidValueError) as info:
        fork(failed, "h2")
    assert str(info.value) == "fork: run 'forkable' never reached step 'h2' (it failed after 3 of 4 steps)"


def test_a_completed_run_forks_at_its_last_step() -> None:
    steps = [*_FORKABLE.steps[:3], StepSpec("h2", "human", {})]
    last = WorkflowDefinition(id="forkable", steps=[*steps[:2], steps[3]])
    done = _forkable({"h": 1, "h2": 2}, last)
    assert fork(done, "h2").pending_step_id == "h2"


@pytest.mark.parametrize(
    ("subject", "step_id", "message"),
    [
        ({"not": "a result"}, "h", "result: expected an OrchestrationResult, got dict"),
        (None, "ghost", "fork: workflow 'forkable' has no step 'ghost'; steps: ['a', 'h', 'b', 'h2']"),
        (
            None,
            "b",
            "fork: step 'b' is neither a human nor an effect step, so there is no input to change; "
            "steps that take one: ['h', 'h2']",
        ),
    ],
)
def test_fork_refuses_what_it_cannot_fork_naming_it(subject: object, step_id: str, message: str) -> None:
    with pytest.raises(InvalidValueError) as info:
        fork(_forkable({"h": 1, "h2": 2}) if subject is None else subject, step_id)  # type: ignore[arg-type]
    assert str(info.value) == message


class _Unprintable(Exception):
    def __str__(self) -> str:
        raise RuntimeError("no")


def test_an_operations_failure_is_recorded_in_words_a_record_can_keep() -> None:
    """A message with a lone surrogate, one that cannot be printed, one of megabytes: the run fails its step, and
    its result encodes, saves and verifies like any other."""
    workflow = WorkflowDefinition(id="w", steps=[StepSpec("a", "runtime", {"operation": "odd"})])
    for raised, reason in [
        (ValueError("bad \ud800"), "ValueError: bad \\ud800"),
        (_Unprintable(), "_Unprintable: (a _Unprintable whose message cannot be printed)"),
        (ValueError("x" * 3_000_000), "ValueError: " + "x" * 2000 + "… (2998000 more characters)"),
    ]:

        def odd(state: State, step: StepSpec, raised: Exception = raised) -> State:
            raise raised

        operations = DEFAULT_OPERATIONS.set("odd", odd)
        result = run_workflow(workflow, operations=operations)
        assert result.error_message == f"step 'a' (operation 'odd') failed: {reason}"
        canonical_json(result.to_dict())  # UTF-8 JSON, as the store and export write it
        assert verify(result, operations=operations).ok
