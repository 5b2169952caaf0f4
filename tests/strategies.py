"""Hypothesis strategies for stepfold's values and workflows, shared by every test module."""

from __future__ import annotations

from hypothesis import strategies as st

from stepfold import ExecutionContext, State, StepSpec, WorkflowDefinition
from stepfold.values import MAX_SAFE_INTEGER

__all__ = [
    "keys",
    "scalars",
    "plain_values",
    "plain_states",
    "states",
    "ops_steps",
    "runtime_workflows",
]

keys = st.text(st.characters(exclude_categories=("Cs",)), max_size=8)
"""State keys: any valid Unicode, including the empty string."""

small_keys = st.sampled_from(["a", "b", "c", "count", "log", "x", "y", "é", "\U0001f600", "\ue000"])
"""A small key space, so generated operations collide on keys."""

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-MAX_SAFE_INTEGER, MAX_SAFE_INTEGER),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(st.characters(exclude_categories=("Cs",)), max_size=12),
)
"""Every kind of scalar in the domain."""

plain_values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(keys, children, max_size=4)
    ),
    max_leaves=12,
)
"""Plain Python data (dicts and lists) inside the value domain."""

plain_states = st.dictionaries(keys, plain_values, max_size=8)
"""Plain dicts that freeze into a State."""

states = plain_states.map(State)
"""Frozen States."""


@st.composite
def ops_steps(draw: st.DrawFn, index: int) -> StepSpec:
    """A runtime step running one of the generic built-in operations on a small key space."""
    op = draw(st.sampled_from(["set", "delete", "merge", "increment", "append", "copy", "noop"]))
    step_id = f"s{index}"
    key = draw(small_keys)
    if op == "set":
        return StepSpec(step_id, "runtime", {"operation": "set", "key": key, "value": draw(plain_values)})
    if op == "delete":
        return StepSpec(step_id, "runtime", {"operation": "delete", "key": key})
    if op == "merge":
        values = draw(st.dictionaries(small_keys, plain_values, max_size=3))
        return StepSpec(step_id, "runtime", {"operation": "merge", "values": values})
    if op == "increment":
        return StepSpec(step_id, "runtime", {"operation": "increment", "key": key, "by": draw(st.integers(-5, 5))})
    if op == "append":
        return StepSpec(step_id, "runtime", {"operation": "append", "key": key, "value": draw(scalars)})
    if op == "copy":
        return StepSpec(step_id, "runtime", {"operation": "copy", "source": key, "target": draw(small_keys)})
    return StepSpec(step_id, "runtime", {"operation": "noop"})


@st.composite
def runtime_workflows(draw: st.DrawFn, max_steps: int = 5) -> WorkflowDefinition:
    """Workflows of 0..max_steps runtime steps over the generic operations."""
    count = draw(st.integers(0, max_steps))
    return WorkflowDefinition(id=draw(st.sampled_from(["w", "flow", "daily"])), steps=[draw(ops_steps(i)) for i in range(count)])


@st.composite
def human_workflows(draw: st.DrawFn) -> WorkflowDefinition:
    """Workflows of up to 5 steps with 1 or 2 human `record` steps among runtime ones."""
    humans = draw(st.integers(1, 2))
    runtime = draw(st.integers(0, 5 - humans))
    kinds = draw(st.permutations(["human"] * humans + ["runtime"] * runtime))
    steps = []
    for index, kind in enumerate(kinds):
        if kind == "human":
            steps.append(StepSpec(f"h{index}", "human", {"into": draw(small_keys)}))
        else:
            steps.append(draw(ops_steps(index)))
    return WorkflowDefinition(id="hw", steps=steps)


contexts = st.builds(lambda s: ExecutionContext(initial_state=s), plain_states)
"""Contexts with a generated initial state and no inputs."""
