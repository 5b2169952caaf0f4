"""The fold: `run_workflow`, `resume` and `Orchestrator`.

Running a workflow checks everything first (policy, operations, inputs),
then folds its steps' operations over the state, recording each state in
the lineage and chaining each step into the receipt. A human step without
its input, or an effect step without its recorded outcome, suspends the
run; `resume` continues it, and the result is the one a run given every
input up front would have returned. The core never performs an effect:
`stepfold.effects.drive` (the shell) does, and resumes with the outcome.
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs

from stepfold.errors import AntiFailureViolation, EnvelopeViolation, InvalidInputError, InvalidValueError, StepfoldError
from stepfold.failure import effect_failed, operation_failed
from stepfold.frozen import thaw, values_identical
from stepfold.lineage import COMPLETED, FAILED, SUSPENDED, Lineage, LineageEntry
from stepfold.messages import brief_repr, exception_text, format_path
from stepfold.operations import DEFAULT_OPERATIONS
from stepfold.operations.base import Operation, require_operations
from stepfold.outcome import read_outcome
from stepfold.policy import TIER2_POLICY, Policy, check_workflow, step_operation
from stepfold.receipt import Receipt, input_digest
from stepfold.result import OrchestrationResult
from stepfold.state import State
from stepfold.values import Params, Value, freeze, freeze_map
from stepfold.workflow import HUMAN, ExecutionContext, StepSpec, WorkflowDefinition

__all__ = [
    "Orchestrator",
    "run_workflow",
    "resume",
    "check_run",
    "fork",
    "recorded_policy",
    "replay",
    "step_as_run",
    "AntiFailureViolation",
    "EnvelopeViolation",
    "DEFAULT_OPERATIONS",
    "TIER2_POLICY",
    "Policy",
    "StepSpec",
    "WorkflowDefinition",
    "ExecutionContext",
    "OrchestrationResult",
]


def _check_arguments(workflow: object, context: object, policy: object, operations: object) -> None:
    if not isinstance(workflow, WorkflowDefinition):
        raise InvalidValueError(f"workflow: expected a WorkflowDefinition, got {type(workflow).__name__}")
    if not isinstance(context, ExecutionContext):
        raise InvalidValueError(f"ctx: expected an ExecutionContext, got {type(context).__name__}")
    if not isinstance(policy, Policy):
        raise InvalidValueError(f"policy: expected a Policy, got {type(policy).__name__}")
    require_operations(operations)


def check_run(
    workflow: WorkflowDefinition,
    ctx: ExecutionContext,
    *,
    policy: Policy = TIER2_POLICY,
    operations: Mapping[str, Operation] = DEFAULT_OPERATIONS,
) -> None:
    """Every check a run makes before its first step: arguments, policy, operations and inputs.

    Raises `EnvelopeViolation`, `AntiFailureViolation` or `InvalidValueError`; returns None when the run may start.
    """
    _check_arguments(workflow, ctx, policy, operations)
    check_workflow(workflow, policy, operations)
    for step in workflow.steps:
        name = step_operation(step)
        if name is not None and not callable(operations[name]):
            raise EnvelopeViolation(f"workflow {workflow.id!r} step {step.id!r}: operation {name!r} is not callable")
    takes = {step.id: step for step in workflow.steps if step.takes_input}
    for step_id, given in ctx.inputs.items():
        where = format_path("inputs", [step_id])
        taker = takes.get(step_id)
        if taker is None:
            raise InvalidValueError(
                f"{where}: workflow {workflow.id!r} has no human or effect step {brief_repr(step_id)}; "
                f"steps that take an input: {list(takes)}"
            )
        if taker.effect is not None:
            read_outcome(given, _outcome_path(taker))


def run_workflow(
    workflow: WorkflowDefinition,
    ctx: ExecutionContext | None = None,
    *,
    policy: Policy = TIER2_POLICY,
    operations: Mapping[str, Operation] = DEFAULT_OPERATIONS,
) -> OrchestrationResult:
    """Fold the workflow's steps over `ctx.initial_state`; nothing runs unless every check passes.

    Returns a completed, failed or suspended `OrchestrationResult`; raises
    only for a workflow or context that may not run at all.

    >>> tidy = WorkflowDefinition(id="tidy", steps=[
    ...     StepSpec("bump", "runtime", {"operation": "increment", "key": "count"}),
    ...     StepSpec("ask", "human", {"into": "answer"}),
    ... ])
    >>> first = run_workflow(tidy, ExecutionContext(initial_state={"count": 1}))
    >>> first.status, first.pending_step_id, first.waiting_for
    ('suspended', 'ask', 'human')
    >>> resume(first, {"ask": "yes"}).final_state
    State({'answer': 'yes', 'count': 2})
    """
    context = ExecutionContext() if ctx is None else ctx
    check_run(workflow, context, policy=policy, operations=operations)
    lineage = Lineage(workflow.id, context.initial_state)
    receipt = Receipt(workflow.id, workflow.digest, context.initial_state.digest, policy_digest=policy.digest)
    return _fold(workflow, context, operations, lineage, receipt, policy)


def resume(
    result: OrchestrationResult,
    inputs: Mapping[str, object],
    *,
    policy: Policy | None = None,
    operations: Mapping[str, Operation] = DEFAULT_OPERATIONS,
) -> OrchestrationResult:
    """Continue a suspended run with more inputs; equal to a fresh run given all inputs up front.

    The run continues under the policy it recorded (its receipt binds it);
    `policy`, when given, must be that policy (a format-1 result, which binds
    none, continues under `policy`, default `TIER2_POLICY`). Raises
    `StepfoldError` for a result that is not suspended, `InvalidValueError`
    for an input that contradicts one already recorded, and
    `InvalidInputError` for an input its step refuses (nothing is recorded).
    """
    if not isinstance(result, OrchestrationResult):
        raise InvalidValueError(f"result: expected an OrchestrationResult, got {type(result).__name__}")
    if result.status != SUSPENDED:
        raise StepfoldError(f"run {result.id!r} is {result.status}; only a suspended run can be resumed")
    ran_under = recorded_policy(result, policy)
    given = freeze_map(inputs, path="inputs")
    merged = _merge_inputs(result.context.inputs, given)
    context = attrs.evolve(result.context, inputs=merged)
    check_run(result.workflow, context, policy=ran_under, operations=operations)
    return _fold(result.workflow, context, operations, result.lineage, result.receipt, ran_under)


def replay(
    result: OrchestrationResult, *, operations: Mapping[str, Operation] = DEFAULT_OPERATIONS
) -> OrchestrationResult:
    """Run a result's workflow again, from its initial state with its recorded inputs, under its recorded policy.

    The replay's receipt has the same format as the record's (a format-1
    record is replayed into a format-1 chain), so the two compare link by
    link; this is the run `verify` compares a record with. Raises what
    `run_workflow` raises for a run that may not start.
    """
    if not isinstance(result, OrchestrationResult):
        raise InvalidValueError(f"result: expected an OrchestrationResult, got {type(result).__name__}")
    workflow, policy = result.workflow, result.policy
    context = ExecutionContext(result.lineage.initial_state, result.context.inputs, result.context.metadata)
    check_run(workflow, context, policy=policy, operations=operations)
    lineage = Lineage(workflow.id, context.initial_state)
    receipt = Receipt(
        workflow.id, workflow.digest, context.initial_state.digest, policy_digest=result.receipt.policy_digest
    )
    return _fold(workflow, context, operations, lineage, receipt, policy)


def recorded_policy(result: OrchestrationResult, policy: Policy | None = None) -> Policy:
    """The policy `result` continues under: the one its receipt binds (`policy`, if given, must equal it).

    A format-1 result binds none: it continues under `policy`, or the one it was read with.
    """
    if policy is not None and not isinstance(policy, Policy):
        raise InvalidValueError(f"policy: expected a Policy, got {type(policy).__name__}")
    if result.receipt.policy_digest is None:
        return result.policy if policy is None else policy
    if policy is not None and policy != result.policy:
        raise InvalidValueError(
            f"policy: run {result.id!r} was made under {result.policy.to_dict()}, which its receipt binds; "
            f"it continues under that policy, not {policy.to_dict()}"
        )
    return result.policy


def fork(result: OrchestrationResult, step_id: str) -> OrchestrationResult:
    """The run as it was just before the human or effect step `step_id`: suspended there, with that step's and later inputs dropped.

    Resuming the fork with another input gives exactly the run a fresh
    `run_workflow` with those inputs would (time travel: try another decision
    or outcome from that point, the original untouched). `InvalidValueError`
    for a step that takes no input, or that the run never reached.
    """
    if not isinstance(result, OrchestrationResult):
        raise InvalidValueError(f"result: expected an OrchestrationResult, got {type(result).__name__}")
    positions = {step.id: index for index, step in enumerate(result.workflow.steps)}
    if step_id not in positions:
        raise InvalidValueError(
            f"fork: workflow {result.id!r} has no step {brief_repr(step_id)}; steps: {list(positions)}"
        )
    index = positions[step_id]
    if not result.workflow.steps[index].takes_input:
        takers = [step.id for step in result.workflow.steps if step.takes_input]
        raise InvalidValueError(
            f"fork: step {step_id!r} is neither a human nor an effect step, so there is no input to change; "
            f"steps that take one: {takers}"
        )
    reached = len(result.lineage.entries) if result.status == SUSPENDED else len(result.lineage.entries) - 1
    if index > reached:
        raise InvalidValueError(
            f"fork: run {result.id!r} never reached step {step_id!r} (it {result.status} after "
            f"{len(result.lineage.entries)} of {len(result.workflow.steps)} steps)"
        )
    kept = {step_id_: value for step_id_, value in result.context.inputs.items() if positions[step_id_] < index}
    context = attrs.evolve(result.context, inputs=kept)
    lineage = result.lineage.truncated(index)
    return OrchestrationResult(
        result.workflow, context, lineage, result.receipt.truncated(index), SUSPENDED, None, result.policy
    )


def _merge_inputs(recorded: Params, given: Params) -> Params:
    merged = recorded
    for step_id, value in given.items():
        if step_id in recorded and not values_identical(recorded[step_id], value):
            raise InvalidValueError(
                f"{format_path('inputs', [step_id])}: step {step_id!r} already has the input "
                f"{brief_repr(recorded[step_id])}; a resumed run cannot change it"
            )
        merged = merged.set(step_id, value)
    return merged


def _fold(
    workflow: WorkflowDefinition,
    context: ExecutionContext,
    operations: Mapping[str, Operation],
    lineage: Lineage,
    receipt: Receipt,
    policy: Policy,
) -> OrchestrationResult:
    state = lineage.final_state
    for step in workflow.steps[len(lineage.entries) :]:
        if step.takes_input:
            if step.id not in context.inputs:
                return OrchestrationResult(workflow, context, lineage, receipt, SUSPENDED, None, policy)
            given = context.inputs[step.id]
            digest_of_input = input_digest(given, given=True)
            executed = step_as_run(step, given)
            if step.effect is not None:
                outcome = read_outcome(given, _outcome_path(step))
                if not outcome.ok:
                    message = effect_failed(step, outcome)
                    lineage = lineage.append(LineageEntry(executed, given, state, FAILED))
                    receipt = receipt.extend(step.id, step.digest, digest_of_input, state.digest, FAILED)
                    return OrchestrationResult(workflow, context, lineage, receipt, FAILED, message, policy)
        else:
            given, executed, digest_of_input = None, step, ""
        name = step_operation(step)
        assert name is not None  # check_run guarantees it
        after = _apply(operations[name], state, executed)
        if isinstance(after, InvalidInputError) and step.kind == HUMAN:
            raise InvalidInputError(
                f"{format_path('inputs', [step.id])}: step {step.id!r} (operation {name!r}) refused the input "
                f"{brief_repr(thaw(given))}: {exception_text(after)}; nothing was recorded"
            ) from None
        if not isinstance(after, State):
            reason = after if isinstance(after, str) else f"{type(after).__name__}: {exception_text(after)}"
            message = operation_failed(step, reason)
            lineage = lineage.append(LineageEntry(executed, given, state, FAILED))
            receipt = receipt.extend(step.id, step.digest, digest_of_input, state.digest, FAILED)
            return OrchestrationResult(workflow, context, lineage, receipt, FAILED, message, policy)
        state = after
        lineage = lineage.append(LineageEntry(executed, given, state, COMPLETED))
        receipt = receipt.extend(step.id, step.digest, digest_of_input, state.digest, COMPLETED)
    return OrchestrationResult(workflow, context, lineage, receipt, COMPLETED, None, policy)


def _outcome_path(step: StepSpec) -> str:
    return f"{format_path('inputs', [step.id])} (effect {step.effect!r})"


def step_as_run(step: StepSpec, given: Value) -> StepSpec:
    """The step as the fold runs it on its input `given` (`ctx.inputs[step.id]`).

    A human step runs with `payload["input"] = given`; an effect step with its
    outcome's value there, or as defined when the outcome failed (its operation
    does not run). An effect outcome of the wrong shape raises `InvalidValueError`.
    """
    if step.effect is None:
        return step.with_input(freeze(given))
    outcome = read_outcome(given, _outcome_path(step))
    return step.with_input(freeze(outcome.value)) if outcome.ok else step


def _apply(operation: Operation, state: State, step: StepSpec) -> State | InvalidInputError | str:
    """The operation's new state, its refusal of the step's input, or why it failed (exception type and message)."""
    try:
        after: object = operation(state, step)
    except InvalidInputError as refusal:
        return refusal
    except Exception as exc:  # an operation's failure is data: it halts the run, never the caller
        return f"{type(exc).__name__}: {exception_text(exc)}"
    if not isinstance(after, State):
        return f"TypeError: returned {type(after).__name__}, not a State"
    return after


@attrs.frozen
class Orchestrator:
    """A policy and an operation table bound together; `run_workflow` and `resume` use them."""

    policy: Policy = TIER2_POLICY
    operations: Mapping[str, Operation] = DEFAULT_OPERATIONS

    def run_workflow(self, workflow: WorkflowDefinition, ctx: ExecutionContext | None = None) -> OrchestrationResult:
        """`run_workflow(workflow, ctx, policy=self.policy, operations=self.operations)`."""
        return run_workflow(workflow, ctx, policy=self.policy, operations=self.operations)

    def resume(self, result: OrchestrationResult, inputs: Mapping[str, object]) -> OrchestrationResult:
        """`resume(result, inputs, policy=self.policy, operations=self.operations)`."""
        return resume(result, inputs, policy=self.policy, operations=self.operations)
