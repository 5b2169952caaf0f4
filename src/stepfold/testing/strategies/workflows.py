"""Strategies for runs: `step_specs`, `workflows`, `human_inputs`, `step_inputs`, `contexts`, `runs`.

Steps name a known operation with a payload it accepts; workflows are within
the policy; inputs are ones their steps can read (a person's input for a
human step, a recorded outcome for an effect step); every context passes
`check_run` for the workflow it was drawn for. Everything shrinks towards
fewer steps, `noop` and leaving inputs out.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from stepfold.errors import InvalidValueError
from stepfold.operations import DEFAULT_OPERATIONS
from stepfold.policy import RECORD, TIER2_POLICY, Policy, step_operation
from stepfold.state import State
from stepfold.testing.strategies.payloads import (
    EFFECT_OPERATIONS,
    HUMAN_OPERATIONS,
    PayloadStrategies,
    confirmations,
    effect_outcomes,
    effect_values,
    operation_payloads,
    with_operation,
)
from stepfold.testing.strategies.values import UNICODE, bounded
from stepfold.testing.strategies.values import states as _states
from stepfold.testing.strategies.values import values as _values
from stepfold.values import Params, Value, freeze_map
from stepfold.workflow import HUMAN, RUNTIME, ExecutionContext, StepSpec, WorkflowDefinition

__all__ = ["step_ids", "step_specs", "workflows", "human_inputs", "step_inputs", "contexts", "runs"]

_STEP_IDS = tuple(f"s{index}" for index in range(8))

_Choice = tuple[str, str | None, str | None]
"""(kind, operation named in the payload (None: a human step's implied `record`), effect named in the payload)."""


def step_ids(*, max_size: int = 8) -> SearchStrategy[str]:
    """Non-empty step ids: `s0`..`s7` or any valid Unicode text; shrinks to `"s0"`."""
    bounded("step_ids(max_size)", max_size, 1)
    return st.one_of(st.sampled_from(_STEP_IDS), st.text(UNICODE, min_size=1, max_size=max_size))


def _choices(
    operations: Collection[str],
    kinds: Collection[str],
    human_operations: Collection[str],
    effect_operations: Mapping[str, str],
) -> tuple[list[_Choice], list[_Choice]]:
    """The (kind, operation, effect) triples a generated step may have: steps that are not human first, then human ones."""
    names = sorted(operations, key=lambda name: (name != "noop", name))
    others = sorted(set(kinds) - {HUMAN}, key=lambda kind: (kind != RUNTIME, kind))
    plain: list[_Choice] = [
        (kind, name, None)
        for kind in others
        for name in names
        if name not in human_operations and name not in effect_operations
    ]
    if others:
        plain.extend((others[0], name, effect_operations[name]) for name in names if name in effect_operations)
    human: list[_Choice] = []
    if HUMAN in kinds:
        if RECORD in operations:
            human.append((HUMAN, None, None))
        human.extend((HUMAN, name, None) for name in names if name in human_operations and name != RECORD)
    return plain, human


def _payloads_for(
    choice: _Choice,
    payloads: PayloadStrategies,
    names: SearchStrategy[str] | None,
    items: SearchStrategy[Value] | None,
) -> SearchStrategy[Params]:
    kind, operation, effect = choice
    name = RECORD if operation is None else operation
    if name in payloads:
        strategy = payloads[name].map(with_operation(name))
    else:
        strategy = operation_payloads(name, keys=names, values=items)
    if effect is not None:
        return strategy.map(lambda payload: payload.discard("input").set("effect", effect))
    if kind != HUMAN:
        return strategy
    # The engine supplies a human step's input from the context; a step never carries its own.
    if operation is None:
        return strategy.map(lambda payload: payload.discard("input").discard("operation"))
    return strategy.map(lambda payload: payload.discard("input"))


@st.composite
def _steps(
    draw: st.DrawFn,
    choices: list[_Choice],
    ids: SearchStrategy[str],
    payloads: PayloadStrategies,
    names: SearchStrategy[str] | None,
    items: SearchStrategy[Value] | None,
) -> StepSpec:
    choice = draw(st.sampled_from(choices))
    payload = draw(_payloads_for(choice, payloads, names, items))
    return StepSpec(draw(ids), choice[0], payload)


def step_specs(
    operations: Collection[str] = DEFAULT_OPERATIONS,
    *,
    kinds: Collection[str] = (RUNTIME, HUMAN),
    human_operations: Collection[str] = HUMAN_OPERATIONS,
    effect_operations: Mapping[str, str] = EFFECT_OPERATIONS,
    ids: SearchStrategy[str] | None = None,
    payloads: PayloadStrategies | None = None,
    keys: SearchStrategy[str] | None = None,
    values: SearchStrategy[Value] | None = None,
) -> SearchStrategy[StepSpec]:
    """Valid steps naming one of `operations`, with a payload that operation accepts; human and effect steps included.

    `operations` is an operation table or a collection of names. Operations
    in `human_operations` appear only in human steps (and a human step may
    name none, running `record`); those in `effect_operations` (operation ->
    effect name) only in effect steps naming that effect; the others only in
    steps of the other `kinds`. `payloads` gives the arguments of your own
    operations by name (the built-in ones have theirs); an operation without
    one gets `{}`.
    """
    plain, human = _choices(operations, kinds, human_operations, effect_operations)
    if not plain and not human:
        raise InvalidValueError(
            f"step_specs: no step is possible with operations {sorted(operations)} and kinds {sorted(kinds)}"
        )
    return _steps(plain + human, step_ids() if ids is None else ids, payloads or {}, keys, values)


@st.composite
def _workflows(
    draw: st.DrawFn,
    plain: list[_Choice],
    human: list[_Choice],
    sizes: tuple[int, int],
    max_human_steps: int,
    ids: SearchStrategy[str],
    step_id_strategy: SearchStrategy[str],
    payloads: PayloadStrategies,
    names: SearchStrategy[str] | None,
    items: SearchStrategy[Value] | None,
) -> WorkflowDefinition:
    count = draw(st.integers(*sizes))
    chosen_ids = draw(st.lists(step_id_strategy, min_size=count, max_size=count, unique=True))
    humans_left = max_human_steps
    steps = []
    for step_id in chosen_ids:
        pool = plain + (human if humans_left > 0 else [])
        choice = draw(st.sampled_from(pool))
        if choice[0] == HUMAN:
            humans_left -= 1
        steps.append(StepSpec(step_id, choice[0], draw(_payloads_for(choice, payloads, names, items))))
    return WorkflowDefinition(id=draw(ids), steps=steps)


def workflows(
    policy: Policy = TIER2_POLICY,
    operations: Collection[str] = DEFAULT_OPERATIONS,
    *,
    min_steps: int = 0,
    max_steps: int | None = None,
    human_operations: Collection[str] = HUMAN_OPERATIONS,
    effect_operations: Mapping[str, str] = EFFECT_OPERATIONS,
    ids: SearchStrategy[str] | None = None,
    step_ids: SearchStrategy[str] | None = None,
    payloads: PayloadStrategies | None = None,
    keys: SearchStrategy[str] | None = None,
    values: SearchStrategy[Value] | None = None,
) -> SearchStrategy[WorkflowDefinition]:
    """Workflows that `policy` and `operations` accept: step count, human step count and kinds within it, unique step ids.

    `max_steps` defaults to the policy's (at most 10, to stay quick) and may
    not exceed it. Steps are drawn as `step_specs` draws them; effect steps
    appear only when the policy allows their effects.
    """
    ceiling = min(policy.max_steps, 10) if max_steps is None else max_steps
    bounded("workflows(max_steps)", ceiling, 0, policy.max_steps)
    allowed = policy.allowed_effects
    usable = {op: effect for op, effect in effect_operations.items() if allowed is None or effect in allowed}
    plain, human = _choices(operations, policy.allowed_kinds, human_operations, usable)
    plain = [choice for choice in plain if choice[1] not in effect_operations or choice[1] in usable]
    if not plain:
        ceiling = min(ceiling, policy.max_human_steps if human else 0)
    bounded("workflows(min_steps)", min_steps, 0, ceiling)
    return _workflows(
        plain,
        human,
        (min_steps, ceiling),
        policy.max_human_steps,
        st.sampled_from(["w", "flow", ""]) if ids is None else ids,
        _step_ids() if step_ids is None else step_ids,
        payloads or {},
        keys,
        values,
    )


_step_ids = step_ids


def _input_for(
    step: StepSpec, items: SearchStrategy[Value], outcomes: SearchStrategy[Params] | None
) -> SearchStrategy[Value]:
    operation = step_operation(step)
    if step.effect is not None:
        if outcomes is not None:
            return outcomes
        return effect_outcomes(effect_values(operation, items))
    if operation == "daily.confirm":  # the state the step will see is not known: priorities it cannot refuse
        return confirmations(())
    return items


def _inputs(
    workflow: WorkflowDefinition,
    wanted_steps: list[StepSpec],
    missing: bool,
    values: SearchStrategy[Value] | None,
    outcomes: SearchStrategy[Params] | None,
) -> SearchStrategy[Params]:
    items = _values() if values is None else values
    wanted = {step.id: _input_for(step, items, outcomes) for step in wanted_steps}
    strategy = st.fixed_dictionaries({}, optional=wanted) if missing else st.fixed_dictionaries(wanted)
    return strategy.map(lambda given: freeze_map(given, path="inputs"))


def human_inputs(
    workflow: WorkflowDefinition,
    *,
    missing: bool = True,
    values: SearchStrategy[Value] | None = None,
) -> SearchStrategy[Params]:
    """Inputs by step id for the workflow's human steps; with `missing`, some are left out (so runs suspend).

    Values come from `values()`, except for `daily.confirm`, which gets a
    decision it accepts. Shrinks towards leaving inputs out.
    """
    return _inputs(workflow, [s for s in workflow.steps if s.kind == HUMAN], missing, values, None)


def step_inputs(
    workflow: WorkflowDefinition,
    *,
    missing: bool = True,
    values: SearchStrategy[Value] | None = None,
    outcomes: SearchStrategy[Params] | None = None,
) -> SearchStrategy[Params]:
    """Inputs by step id for every step that takes one: `human_inputs` plus an outcome for each effect step.

    An effect step's outcome comes from `outcomes`, default
    `effect_outcomes(...)` of values its operation can read (successes and
    failures). With `missing`, some are left out (so runs suspend).
    """
    return _inputs(workflow, [s for s in workflow.steps if s.takes_input], missing, values, outcomes)


def contexts(
    workflow: WorkflowDefinition | None = None,
    *,
    states: SearchStrategy[State] | None = None,
    missing: bool = True,
    values: SearchStrategy[Value] | None = None,
) -> SearchStrategy[ExecutionContext]:
    """Contexts for `workflow`: an initial state from `states` and inputs from `step_inputs(workflow)`.

    Without a workflow, contexts with no inputs. Every context passes
    `check_run` for the workflow it was drawn for.
    """
    initial = _states() if states is None else states
    if workflow is None:
        return st.builds(ExecutionContext, initial)
    return st.builds(ExecutionContext, initial, step_inputs(workflow, missing=missing, values=values))


def runs(
    policy: Policy = TIER2_POLICY,
    operations: Collection[str] = DEFAULT_OPERATIONS,
    *,
    human_operations: Collection[str] = HUMAN_OPERATIONS,
    effect_operations: Mapping[str, str] = EFFECT_OPERATIONS,
    payloads: PayloadStrategies | None = None,
    states: SearchStrategy[State] | None = None,
    missing: bool = True,
) -> SearchStrategy[tuple[WorkflowDefinition, ExecutionContext]]:
    """A workflow from `workflows(policy, operations, ...)` paired with a context drawn for it by `contexts`."""

    def with_context(workflow: WorkflowDefinition) -> SearchStrategy[tuple[WorkflowDefinition, ExecutionContext]]:
        return contexts(workflow, states=states, missing=missing).map(lambda ctx: (workflow, ctx))

    return workflows(
        policy, operations, human_operations=human_operations, effect_operations=effect_operations, payloads=payloads
    ).flatmap(with_context)
