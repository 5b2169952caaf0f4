"""The fold: `run_workflow`, `resume` and `Orchestrator`.

Running a workflow checks everything first (policy, operations, inputs),
then folds its steps' operations over the state, recording each state in
the lineage and chaining each step into the receipt. A human step without
its input suspends the run; `resume` continues it, and the result is the
one a run given every input up front would have returned.
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs

from stepfold.errors import EnvelopeViolation, InvalidValueError, StepfoldError
from stepfold.lineage import COMPLETED, FAILED, SUSPENDED, Lineage, LineageEntry
from stepfold.operations import DEFAULT_OPERATIONS
from stepfold.operations.base import Operation
from stepfold.policy import TIER2_POLICY, Policy, check_workflow, step_operation
from stepfold.receipt import Receipt, input_digest
from stepfold.result import OrchestrationResult
from stepfold.state import State
from stepfold.values import Params, brief_repr, format_path, freeze_map, values_identical
from stepfold.workflow import HUMAN, ExecutionContext, StepSpec, WorkflowDefinition

__all__ = [
    "Orchestrator",
    "run_workflow",
    "resume",
    "check_run",
    "DEFAULT_OPERATIONS",
    "TIER2_POLICY",
    "Policy",
    "StepSpec",
    "WorkflowDefinition",
    "ExecutionContext",
    "OrchestrationResult",
]


def _check_arguments(
    workflow: object, context: object, policy: object, operations: object
) -> None:
    if not isinstance(workflow, WorkflowDefinition):
        raise InvalidValueError(f"workflow: expected a WorkflowDefinition, got {type(workflow).__name__}")
    if not isinstance(context, ExecutionContext):
        raise InvalidValueError(f"ctx: expected an ExecutionContext, got {type(context).__name__}")
    if not isinstance(policy, Policy):
        raise InvalidValueError(f"policy: expected a Policy, got {type(policy).__name__}")
    if not isinstance(operations, Mapping):
        raise InvalidValueError(
            f"operations: expected a mapping of names to operations, got {type(operations).__name__}"
        )


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
        name = step_operation(step.kind, step.operation)
        if name is not None and not callable(operations[name]):
            raise EnvelopeViolation(
                f"workflow {workflow.id!r} step {step.id!r}: operation {name!r} is not callable"
            )
    human = [step.id for step in workflow.steps if step.kind == HUMAN]
    for step_id in ctx.inputs:
        if step_id not in human:
            raise InvalidValueError(
                f"{format_path('inputs', [step_id])}: workflow {workflow.id!r} has no human step "
                f"{step_id!r}; human steps: {human}"
            )


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
    """
    context = ExecutionContext() if ctx is None else ctx
    check_run(workflow, context, policy=policy, operations=operations)
    lineage = Lineage(workflow.id, context.initial_state)
    receipt = Receipt(workflow.id, workflow.digest, context.initial_state.digest)
    return _fold(workflow, context, operations, lineage, receipt)


def resume(
    result: OrchestrationResult,
    inputs: Mapping[str, object],
    *,
    policy: Policy = TIER2_POLICY,
    operations: Mapping[str, Operation] = DEFAULT_OPERATIONS,
) -> OrchestrationResult:
    """Continue a suspended run with more human inputs; equal to a fresh run given all inputs up front.

    Raises `StepfoldError` for a result that is not suspended, and
    `InvalidValueError` for an input that contradicts one already recorded.
    """
    if not isinstance(result, OrchestrationResult):
        raise InvalidValueError(f"result: expected an OrchestrationResult, got {type(result).__name__}")
    if result.status != SUSPENDED:
        raise StepfoldError(
            f"run {result.id!r} is {result.status}; only a suspended run can be resumed"
        )
    given = freeze_map(inputs, path="inputs")
    merged = _merge_inputs(result.context.inputs, given)
    context = attrs.evolve(result.context, inputs=merged)
    check_run(result.workflow, context, policy=policy, operations=operations)
    return _fold(result.workflow, context, operations, result.lineage, result.receipt)


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
) -> OrchestrationResult:
    state = lineage.final_state
    for step in workflow.steps[len(lineage.entries):]:
        if step.kind == HUMAN:
            if step.id not in context.inputs:
                return OrchestrationResult(workflow, context, lineage, receipt, SUSPENDED)
            given = context.inputs[step.id]
            executed = StepSpec(step.id, step.kind, step.payload.set("input", given))
            took_input = True
        else:
            given, executed, took_input = None, step, False
        name = step_operation(step.kind, step.operation)
        assert name is not None  # check_run guarantees it
        outcome = _apply(operations[name], state, executed)
        digest_of_input = input_digest(given, given=took_input)
        if isinstance(outcome, str):
            message = f"step {step.id!r} (operation {name!r}) failed: {outcome}"
            lineage = lineage.append(LineageEntry(executed, given, state, FAILED))
            receipt = receipt.extend(step.id, step.digest, digest_of_input, state.digest, FAILED)
            return OrchestrationResult(workflow, context, lineage, receipt, FAILED, message)
        state = outcome
        lineage = lineage.append(LineageEntry(executed, given, state, COMPLETED))
        receipt = receipt.extend(step.id, step.digest, digest_of_input, state.digest, COMPLETED)
    return OrchestrationResult(workflow, context, lineage, receipt, COMPLETED)


def _apply(operation: Operation, state: State, step: StepSpec) -> State | str:
    """The operation's new state, or why it failed (exception type and message)."""
    try:
        after: object = operation(state, step)
    except Exception as exc:  # an operation's failure is data: it halts the run, never the caller
        return f"{type(exc).__name__}: {exc}"
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
