"""`drive`: fold a run, perform each effect it waits for, resume with the outcome, until it is done or needs a person."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Protocol

from pyrsistent import pmap

from stepfold.builder import MissionSpec, build_workflow
from stepfold.effect import Effect, EffectCall, as_effect, effect_arguments, effect_key
from stepfold.effects.perform import perform
from stepfold.effects.table import DEFAULT_EFFECTS, mission_effects
from stepfold.engine import check_run, recorded_policy, resume, run_workflow
from stepfold.errors import AlreadyResumedError, EnvelopeViolation, InvalidValueError
from stepfold.lineage import SUSPENDED
from stepfold.operations import DEFAULT_OPERATIONS
from stepfold.operations.base import Operation
from stepfold.policy import TIER2_POLICY, Policy
from stepfold.registry import mission_operations
from stepfold.result import WAITING_EFFECT, OrchestrationResult
from stepfold.values import Params
from stepfold.workflow import ExecutionContext, StepSpec, WorkflowDefinition

__all__ = ["drive", "drive_mission", "RunSink", "check_effects", "next_call"]


class RunSink(Protocol):
    """Where `drive` saves each result (a `SQLiteStore`, or anything with this `save`)."""

    def save(self, result: OrchestrationResult, *, resumed_from: str | None = None, fork: bool = False) -> str:
        """Save the result (which continues the run `resumed_from`, if given); return its run id."""
        ...

    def continuation(self, run_id: str) -> str | None:
        """The run that resumed the saved run `run_id`, or None."""
        ...


def _effects_table(effects: object) -> dict[str, Effect]:
    if not isinstance(effects, Mapping):
        raise InvalidValueError(
            f"effects: expected a mapping of effect names to Effects or handlers, got {type(effects).__name__}"
        )
    return {str(name): as_effect(effect, f"effects[{name!r}]") for name, effect in effects.items()}


def check_effects(workflow: WorkflowDefinition, effects: Mapping[str, object], *, start: int = 0) -> None:
    """`EnvelopeViolation` naming the step and the effect when an effect step (from `start` on) has no handler."""
    known = sorted(effects)
    for index, step in enumerate(workflow.steps[start:], start):
        if step.effect is not None and step.effect not in effects:
            raise EnvelopeViolation(
                f"workflow {workflow.id!r} step {step.id!r} (steps[{index}]): no handler for effect "
                f"{step.effect!r}; effects with a handler: {known}"
            )


def next_call(result: OrchestrationResult) -> EffectCall:
    """The call for the effect a suspended result waits for (attempt 1); `InvalidValueError` if it waits for none."""
    if result.status != SUSPENDED or result.waiting_for != WAITING_EFFECT:
        raise InvalidValueError(f"run {result.id!r} is {result.status} and does not wait for an effect")
    step: StepSpec = result.workflow.steps[len(result.lineage.entries)]
    assert step.effect is not None
    arguments: Params = effect_arguments(step.payload)
    return EffectCall(
        result.id, step.id, step.effect, arguments, result.final_state, effect_key(result.receipt.head, step.id)
    )


def drive(
    workflow_or_result: WorkflowDefinition | OrchestrationResult,
    ctx: ExecutionContext | None = None,
    *,
    effects: Mapping[str, Effect | Callable[[EffectCall], object]],
    policy: Policy | None = None,
    operations: Mapping[str, Operation] = DEFAULT_OPERATIONS,
    store: RunSink | None = None,
    fork: bool = False,
    sleep: Callable[[float], None] = time.sleep,
) -> OrchestrationResult:
    """Run a workflow (or continue a result), performing every effect it waits for, in step order.

    Checks the whole run first, performing nothing when a check fails: the
    policy (`policy`, default `TIER2_POLICY`; a result continues under the
    policy it recorded), the operations, the inputs, and that every effect
    step not yet run has a handler in `effects` (else `EnvelopeViolation`
    naming step and effect). Then folds; at each effect step, performs the effect (retries,
    backoff and timeout from its `Effect`), resumes with the outcome and, when
    `store` is given, saves the result (the run waiting for the effect is
    saved before it is performed, and each continuation after, linked to the
    run it resumed; the result returned is saved too). Continuing a stored
    result is its one continuation unless `fork` (`AlreadyResumedError`
    before anything is performed otherwise); a fresh run may re-drive
    positions other runs reached.
    Returns when the run completes, fails, or waits for a person. A
    handler's failure is a failed outcome, never an exception out of `drive`.

    Delivery is at least once: a process that dies after an effect ran but
    before its outcome was saved performs it again on the next drive, with
    the same `EffectCall.key`.
    """
    table = _effects_table(effects)
    if store is not None and not all(callable(getattr(store, name, None)) for name in ("save", "continuation")):
        raise InvalidValueError(
            f"store: expected None or a run store (save and continuation, as SQLiteStore has), got {type(store).__name__}"
        )
    fresh = isinstance(workflow_or_result, WorkflowDefinition)
    if isinstance(workflow_or_result, WorkflowDefinition):
        context = ExecutionContext() if ctx is None else ctx
        ran_under = TIER2_POLICY if policy is None else policy
        check_run(workflow_or_result, context, policy=ran_under, operations=operations)
        check_effects(workflow_or_result, table)
        result = run_workflow(workflow_or_result, context, policy=ran_under, operations=operations)
    elif isinstance(workflow_or_result, OrchestrationResult):
        if ctx is not None:
            raise InvalidValueError("ctx: a result carries its own context; give ctx only with a workflow")
        result = workflow_or_result
        ran_under = recorded_policy(result, policy)
        check_run(result.workflow, result.context, policy=ran_under, operations=operations)
        check_effects(result.workflow, table, start=len(result.lineage.entries))
    else:
        raise InvalidValueError(
            f"workflow_or_result: expected a WorkflowDefinition or an OrchestrationResult, got {type(workflow_or_result).__name__}"
        )
    while result.status == SUSPENDED and result.waiting_for == WAITING_EFFECT:
        call = next_call(result)
        if store is not None:
            store.save(result)  # recorded before the effect is performed: a crash leaves a run to resume
            _refuse_a_second_continuation(store, result.run_id, fork=fork or fresh)
        outcome = perform(table[call.effect], call, sleep=sleep)
        continued = resume(result, {call.step_id: outcome}, policy=ran_under, operations=operations)
        if store is not None:
            _save_continuation(store, continued, result.run_id, fork=fork, fresh=fresh)
        result = continued
    if store is not None:
        store.save(result)
    return result


def _refuse_a_second_continuation(store: RunSink, run_id: str, *, fork: bool) -> None:
    """Before performing an effect for a stored run: refuse when the run was already continued (unless `fork`)."""
    other = store.continuation(run_id)
    if other is not None and not fork:
        raise AlreadyResumedError(
            f"run {run_id[:12]} was already resumed: its continuation is {other[:12]}; "
            "drive that run instead, or fork this one (fork=True) to continue it differently; nothing was performed"
        )


def _save_continuation(
    store: RunSink, continued: OrchestrationResult, previous: str, *, fork: bool, fresh: bool
) -> None:
    """Save `continued` as the continuation of `previous`; a fresh run that reached a position another run already
    continued records its own continuation as a fork of it instead of being refused."""
    try:
        store.save(continued, resumed_from=previous, fork=fork)
    except AlreadyResumedError:
        if not fresh:
            raise
        store.save(continued, resumed_from=previous, fork=True)


def drive_mission(
    name: str,
    ctx: ExecutionContext | None = None,
    params: Mapping[str, object] | None = None,
    *,
    policy: Policy = TIER2_POLICY,
    operations: Mapping[str, Operation] | None = None,
    effects: Mapping[str, Effect | Callable[[EffectCall], object]] | None = None,
    store: RunSink | None = None,
) -> OrchestrationResult:
    """`run_mission`, performing the mission's effects: build it with `params` and `drive` it on `ctx`.

    Operations are `operations` (default `DEFAULT_OPERATIONS`) plus the
    mission's own; effects are `effects` (default `DEFAULT_EFFECTS`) plus
    the mission's own.
    """
    workflow = build_workflow(MissionSpec(name, params), policy=policy)
    table = mission_operations(name, DEFAULT_OPERATIONS if operations is None else operations)
    performed = mission_effects(name, DEFAULT_EFFECTS if effects is None else pmap(_effects_table(effects)))
    return drive(workflow, ctx, effects=performed, policy=policy, operations=table, store=store)
