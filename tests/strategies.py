"""Hypothesis strategies only stepfold's own tests need; the general ones are the public `stepfold.testing` strategies.

What is here is test-specific: plain (unfrozen) data, to test `freeze` and
the boundaries that take it; small key spaces and fixed step shapes that
make generated steps collide; daily-loop states; results of every status.
"""

from __future__ import annotations

from hypothesis import strategies as st

import stepfold.testing as testing
from stepfold import ExecutionContext, OrchestrationResult, StepSpec, WorkflowDefinition, resume, run_workflow

__all__ = [
    "keys",
    "scalars",
    "plain_values",
    "plain_states",
    "states",
    "ops_steps",
    "runtime_workflows",
]

keys = testing.keys()
"""State keys: common ones often, or any valid Unicode, including the empty string."""

small_keys = st.sampled_from(["a", "b", "c", "count", "log", "x", "y", "é", "\U0001f600", "\ue000"])
"""A small key space, so generated operations collide on keys."""

scalars = testing.scalars(max_str_size=12)
"""Every kind of scalar in the domain."""

plain_values = st.recursive(
    scalars,
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(keys, children, max_size=4)),
    max_leaves=12,
)
"""Plain Python data (dicts and lists) inside the value domain."""

plain_states = st.dictionaries(keys, plain_values, max_size=8)
"""Plain dicts that freeze into a State."""

states = testing.states(max_size=8, values=testing.values(max_leaves=12))
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
    return WorkflowDefinition(
        id=draw(st.sampled_from(["w", "flow", "daily"])), steps=[draw(ops_steps(i)) for i in range(count)]
    )


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


_task_ids = st.sampled_from([f"t{n}" for n in range(8)])
_daily_dates = st.sampled_from(["2026-02-27", "2026-02-28", "2026-03-01", "2026-03-02", "2026-03-10"])


@st.composite
def daily_tasks(draw: st.DrawFn) -> dict[str, object]:
    """One valid daily-loop task; few priorities and due dates, so ties are common."""
    return {
        "id": draw(_task_ids),
        "title": draw(st.text(max_size=6)),
        "priority": draw(st.integers(-1, 2)),
        "due": draw(st.one_of(st.none(), _daily_dates)),
        "done": draw(st.booleans()),
    }


@st.composite
def daily_states(draw: st.DrawFn) -> dict[str, object]:
    """A plain initial state for the daily loop: unique-id `tasks` and a `journal`, either possibly empty."""
    tasks = draw(st.lists(daily_tasks(), max_size=8, unique_by=lambda task: task["id"]))
    journal = draw(st.lists(st.fixed_dictionaries({"date": _daily_dates, "text": st.text(max_size=6)}), max_size=5))
    return {"tasks": tasks, "journal": journal}


daily_params = st.fixed_dictionaries(
    {},
    optional={"date": _daily_dates, "max_priorities": st.integers(0, 5)},
)
"""Valid daily-loop params: an optional date and an optional max_priorities."""


@st.composite
def results(draw: st.DrawFn) -> OrchestrationResult:
    """Completed, failed and suspended results, some of them resumed."""
    if draw(st.booleans()):
        return run_workflow(draw(runtime_workflows()), ExecutionContext(initial_state=draw(plain_states)))
    workflow = draw(human_workflows())
    humans = [s.id for s in workflow.steps if s.kind == "human"]
    given_ids = draw(st.lists(st.sampled_from(humans), unique=True))
    inputs = {step_id: draw(plain_values) for step_id in given_ids}
    context = ExecutionContext(initial_state=draw(plain_states), inputs=inputs, metadata={"by": "test"})
    result = run_workflow(workflow, context)
    if result.status == "suspended" and draw(st.booleans()):
        assert result.pending_step_id is not None
        result = resume(result, {result.pending_step_id: draw(plain_values)})
    return result
