"""Hypothesis strategies for stepfold's values, states, steps, workflows and contexts.

Every strategy here produces only valid values: frozen I-JSON values that
`freeze` returns unchanged, States, steps naming a known operation with a
payload it accepts, workflows within the policy and contexts that pass
`check_run`. Sizes are small by default and every strategy shrinks towards
the simplest case (`None`, the key `"a"`, empty containers, `noop`, fewer
steps), so a failing test prints a minimal example.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Collection, Mapping

from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy
from pyrsistent import PMap, PVector, pmap, pvector

from stepfold.errors import InvalidValueError
from stepfold.operations import DEFAULT_OPERATIONS
from stepfold.policy import RECORD, TIER2_POLICY, Policy, step_operation
from stepfold.state import State
from stepfold.values import MAX_DEPTH, MAX_SAFE_INTEGER, Params, Value, freeze_map
from stepfold.workflow import HUMAN, RUNTIME, ExecutionContext, StepSpec, WorkflowDefinition

__all__ = [
    "COMMON_KEYS",
    "HUMAN_OPERATIONS",
    "PayloadStrategies",
    "keys",
    "scalars",
    "values",
    "states",
    "operation_payloads",
    "step_ids",
    "step_specs",
    "workflows",
    "human_inputs",
    "contexts",
    "runs",
]

COMMON_KEYS = ("a", "b", "c", "count", "log")
"""Key names `keys()` prefers, so generated states and steps touch the same keys often."""

HUMAN_OPERATIONS = frozenset({RECORD, "daily.confirm"})
"""Built-in operations that read a person's input (`payload["input"]`): generated only in human steps."""

_UNICODE = st.characters(codec="utf-8")  # every code point except lone surrogates
_STEP_IDS = tuple(f"s{index}" for index in range(8))
_TASK_IDS = tuple(f"t{index}" for index in range(8))
_MAX_VALUE_DEPTH = MAX_DEPTH // 2  # leaves room for the state, step and document levels around a value

PayloadStrategies = Mapping[str, SearchStrategy[Mapping[str, object]]]
"""Payload strategies by operation name: the arguments a user's own operation takes."""


def _bounded(name: str, value: int, low: int, high: int | None = None) -> int:
    if type(value) is not int or value < low or (high is not None and value > high):
        limit = f"an int >= {low}" if high is None else f"an int in [{low}, {high}]"
        raise InvalidValueError(f"{name}: expected {limit}, got {value!r}")
    return value


def keys(*, max_size: int = 8) -> SearchStrategy[str]:
    """State and mapping keys: one of `COMMON_KEYS` or any valid Unicode text (possibly empty); shrinks to `"a"`."""
    _bounded("keys(max_size)", max_size, 0)
    return st.one_of(st.sampled_from(COMMON_KEYS), st.text(_UNICODE, max_size=max_size))


def scalars(*, max_str_size: int = 8) -> SearchStrategy[Value]:
    """Every kind of scalar in the domain: None, bool, ints within +-(2**53 - 1), finite floats, valid Unicode text."""
    _bounded("scalars(max_str_size)", max_str_size, 0)
    return st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-MAX_SAFE_INTEGER, MAX_SAFE_INTEGER),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(_UNICODE, max_size=max_str_size),
    )


def _truncate(value: Value, depth: int) -> Value:
    """The value with every container nested deeper than `depth` (>= 1) dropped, so no leaf or item is added."""
    if isinstance(value, PVector):
        return pvector([_truncate(item, depth - 1) for item in value if depth > 1 or not _is_container(item)])
    if isinstance(value, PMap):
        return pmap(
            {key: _truncate(item, depth - 1) for key, item in value.items() if depth > 1 or not _is_container(item)}
        )
    return value


def _is_container(value: Value) -> bool:
    return isinstance(value, (PVector, PMap))


def values(
    *,
    max_depth: int = 3,
    max_leaves: int = 10,
    max_size: int = 4,
    keys: SearchStrategy[str] | None = None,
    scalars: SearchStrategy[Value] | None = None,
) -> SearchStrategy[Value]:
    """Frozen I-JSON values: scalars, PVectors and str-keyed PMaps, with bounded nesting, leaves and container sizes.

    `max_depth` bounds container nesting (0: scalars only), `max_leaves` the
    scalars in one value, `max_size` the items in one container. Built on
    `st.recursive`, so it shrinks towards scalars and small containers.
    """
    _bounded("values(max_depth)", max_depth, 0, _MAX_VALUE_DEPTH)
    _bounded("values(max_leaves)", max_leaves, 1)
    _bounded("values(max_size)", max_size, 0)
    leaves = _scalars() if scalars is None else scalars
    if max_depth == 0:
        return leaves
    names = _keys() if keys is None else keys

    def containers(children: SearchStrategy[Value]) -> SearchStrategy[Value]:
        return st.one_of(
            st.lists(children, max_size=max_size).map(_to_pvector),
            st.dictionaries(names, children, max_size=max_size).map(_to_pmap),
        )

    def limit_depth(value: Value) -> Value:
        return _truncate(value, max_depth)

    return st.recursive(leaves, containers, max_leaves=max_leaves).map(limit_depth)


def _to_pvector(items: list[Value]) -> Value:
    return pvector(items)


def _to_pmap(entries: dict[str, Value]) -> Value:
    return pmap(entries)


_keys = keys
_scalars = scalars
_values = values


def states(
    *,
    min_size: int = 0,
    max_size: int = 6,
    keys: SearchStrategy[str] | None = None,
    values: SearchStrategy[Value] | None = None,
) -> SearchStrategy[State]:
    """States of `min_size`..`max_size` entries with keys from `keys()` and values from `values()`."""
    _bounded("states(min_size)", min_size, 0)
    _bounded("states(max_size)", max_size, min_size)
    return st.dictionaries(
        _keys() if keys is None else keys,
        _values() if values is None else values,
        min_size=min_size,
        max_size=max_size,
    ).map(State)


def _dates() -> SearchStrategy[str]:
    return st.dates(datetime.date(2000, 1, 1), datetime.date(2099, 12, 31)).map(datetime.date.isoformat)


def _confirmations() -> SearchStrategy[Value]:
    """Inputs `daily.confirm` accepts: `{"approved": bool}` or `{"priorities": [task ids]}`."""
    return st.one_of(
        st.fixed_dictionaries({"approved": st.booleans()}),
        st.fixed_dictionaries({"priorities": st.lists(st.sampled_from(_TASK_IDS), max_size=3, unique=True)}),
    ).map(lambda decision: freeze_map(decision, path="input"))


def _builtin_arguments(
    operation: str, names: SearchStrategy[str], items: SearchStrategy[Value]
) -> SearchStrategy[dict[str, object]] | None:
    """The arguments each built-in operation reads, or None for an operation that is not built in."""
    numbers = st.one_of(st.integers(-10, 10), st.floats(-10, 10, allow_nan=False))
    words = st.text(_UNICODE, min_size=1, max_size=8)
    table: dict[str, SearchStrategy[dict[str, object]]] = {
        "noop": st.fixed_dictionaries({}),
        "fail": st.fixed_dictionaries({}, optional={"reason": st.one_of(words, items)}),
        "set": st.fixed_dictionaries({"key": names, "value": items}),
        "delete": st.fixed_dictionaries({"key": names}),
        "merge": st.fixed_dictionaries({"values": st.dictionaries(names, items, max_size=3)}),
        "increment": st.fixed_dictionaries({"key": names}, optional={"by": numbers}),
        "append": st.fixed_dictionaries({"key": names, "value": items}),
        "copy": st.fixed_dictionaries({"source": names, "target": names}),
        RECORD: st.fixed_dictionaries({"input": items}, optional={"into": names}),
        "daily.summarise": st.fixed_dictionaries({}, optional={"date": _dates()}),
        "daily.prioritise": st.fixed_dictionaries({}, optional={"max_priorities": st.integers(0, 5)}),
        "daily.confirm": st.fixed_dictionaries({"input": _confirmations()}),
        "daily.log": st.fixed_dictionaries({}, optional={"date": _dates()}),
        "tests.discover": st.fixed_dictionaries(
            {"paths": st.lists(words, min_size=1, max_size=3), "pattern": words}
        ),
        "tests.execute": st.fixed_dictionaries({"runner": st.lists(words, min_size=1, max_size=4)}),
        "tests.report": st.fixed_dictionaries({}),
    }
    return table.get(operation)


def _with_operation(operation: str) -> Callable[[Mapping[str, object]], Params]:
    def payload(arguments: Mapping[str, object]) -> Params:
        return freeze_map(arguments, path=f"payload of {operation!r}").set("operation", operation)

    return payload


def operation_payloads(
    operation: str,
    *,
    keys: SearchStrategy[str] | None = None,
    values: SearchStrategy[Value] | None = None,
) -> SearchStrategy[Params]:
    """Payloads as the named operation receives them (`"operation"` included; `"input"` too for a human one).

    For a built-in operation, its arguments with values it accepts (it may
    still fail cleanly on some states, e.g. `copy` from an absent key); for
    any other name, just `{"operation": name}`.
    """
    arguments = _builtin_arguments(
        operation, _keys() if keys is None else keys, _values(max_depth=2, max_leaves=6) if values is None else values
    )
    if arguments is None:
        return st.just(pmap({"operation": operation}))
    return arguments.map(_with_operation(operation))


def step_ids(*, max_size: int = 8) -> SearchStrategy[str]:
    """Non-empty step ids: `s0`..`s7` or any valid Unicode text; shrinks to `"s0"`."""
    _bounded("step_ids(max_size)", max_size, 1)
    return st.one_of(st.sampled_from(_STEP_IDS), st.text(_UNICODE, min_size=1, max_size=max_size))


_Choice = tuple[str, str | None]  # (kind, operation named in the payload; None: a human step's implied `record`)


def _choices(
    operations: Collection[str], kinds: Collection[str], human_operations: Collection[str]
) -> tuple[list[_Choice], list[_Choice]]:
    """The (kind, operation) pairs a generated step may have: non-human ones first, then human ones."""
    names = sorted(operations, key=lambda name: (name != "noop", name))
    plain: list[_Choice] = [
        (kind, name)
        for kind in sorted(set(kinds) - {HUMAN}, key=lambda kind: (kind != RUNTIME, kind))
        for name in names
        if name not in human_operations
    ]
    human: list[_Choice] = []
    if HUMAN in kinds:
        if RECORD in operations:
            human.append((HUMAN, None))
        human.extend((HUMAN, name) for name in names if name in human_operations and name != RECORD)
    return plain, human


def _payloads_for(
    choice: _Choice,
    payloads: PayloadStrategies,
    names: SearchStrategy[str] | None,
    items: SearchStrategy[Value] | None,
) -> SearchStrategy[Params]:
    kind, operation = choice
    name = RECORD if operation is None else operation
    if name in payloads:
        strategy = payloads[name].map(_with_operation(name))
    else:
        strategy = operation_payloads(name, keys=names, values=items)
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
    kind = choice[0]
    payload = draw(_payloads_for(choice, payloads, names, items))
    return StepSpec(draw(ids), kind, payload)


def step_specs(
    operations: Collection[str] = DEFAULT_OPERATIONS,
    *,
    kinds: Collection[str] = (RUNTIME, HUMAN),
    human_operations: Collection[str] = HUMAN_OPERATIONS,
    ids: SearchStrategy[str] | None = None,
    payloads: PayloadStrategies | None = None,
    keys: SearchStrategy[str] | None = None,
    values: SearchStrategy[Value] | None = None,
) -> SearchStrategy[StepSpec]:
    """Valid steps naming one of `operations`, with a payload that operation accepts; human steps included.

    `operations` is an operation table or a collection of names. Operations
    in `human_operations` appear only in human steps (and a human step may
    name none, running `record`); the others only in steps of the other
    `kinds`. `payloads` gives the arguments of your own operations by name
    (the built-in ones have theirs); an operation without one gets `{}`.
    """
    plain, human = _choices(operations, kinds, human_operations)
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
    ids: SearchStrategy[str] | None = None,
    step_ids: SearchStrategy[str] | None = None,
    payloads: PayloadStrategies | None = None,
    keys: SearchStrategy[str] | None = None,
    values: SearchStrategy[Value] | None = None,
) -> SearchStrategy[WorkflowDefinition]:
    """Workflows that `policy` and `operations` accept: step count, human step count and kinds within it, unique step ids.

    `max_steps` defaults to the policy's (at most 10, to stay quick) and may
    not exceed it. Steps are drawn as `step_specs` draws them.
    """
    ceiling = min(policy.max_steps, 10) if max_steps is None else max_steps
    _bounded("workflows(max_steps)", ceiling, 0, policy.max_steps)
    plain, human = _choices(operations, policy.allowed_kinds, human_operations)
    if not plain:
        ceiling = min(ceiling, policy.max_human_steps if human else 0)
    _bounded("workflows(min_steps)", min_steps, 0, ceiling)
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


def _input_for(step: StepSpec, items: SearchStrategy[Value]) -> SearchStrategy[Value]:
    if step_operation(step.kind, step.operation) == "daily.confirm":
        return _confirmations()
    return items


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
    items = _values() if values is None else values
    wanted = {step.id: _input_for(step, items) for step in workflow.steps if step.kind == HUMAN}
    strategy = st.fixed_dictionaries({}, optional=wanted) if missing else st.fixed_dictionaries(wanted)
    return strategy.map(lambda given: freeze_map(given, path="inputs"))


def contexts(
    workflow: WorkflowDefinition | None = None,
    *,
    states: SearchStrategy[State] | None = None,
    missing: bool = True,
    values: SearchStrategy[Value] | None = None,
) -> SearchStrategy[ExecutionContext]:
    """Contexts for `workflow`: an initial state from `states` and inputs from `human_inputs(workflow)`.

    Without a workflow, contexts with no inputs. Every context passes
    `check_run` for the workflow it was drawn for.
    """
    initial = _states() if states is None else states
    if workflow is None:
        return st.builds(ExecutionContext, initial)
    return st.builds(ExecutionContext, initial, human_inputs(workflow, missing=missing, values=values))


_states = states


def runs(
    policy: Policy = TIER2_POLICY,
    operations: Collection[str] = DEFAULT_OPERATIONS,
    *,
    human_operations: Collection[str] = HUMAN_OPERATIONS,
    payloads: PayloadStrategies | None = None,
    states: SearchStrategy[State] | None = None,
    missing: bool = True,
) -> SearchStrategy[tuple[WorkflowDefinition, ExecutionContext]]:
    """A workflow from `workflows(policy, operations, ...)` paired with a context drawn for it by `contexts`."""

    def with_context(workflow: WorkflowDefinition) -> SearchStrategy[tuple[WorkflowDefinition, ExecutionContext]]:
        return contexts(workflow, states=states, missing=missing).map(lambda ctx: (workflow, ctx))

    return workflows(policy, operations, human_operations=human_operations, payloads=payloads).flatmap(with_context)
