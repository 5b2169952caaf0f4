"""Hypothesis strategies for stepfold's values, states, steps, workflows, inputs, effect outcomes and contexts.

Every strategy produces only valid values: frozen I-JSON values that
`freeze` returns unchanged, States, steps naming a known operation with a
payload it accepts, workflows within the policy, inputs and outcomes their
steps can read, and contexts that pass `check_run`. Sizes are small by
default and every strategy shrinks towards the simplest case (`None`, the
key `"a"`, empty containers, `noop`, fewer steps), so a failing test prints
a minimal example.
"""

from stepfold.testing.strategies.payloads import (
    EFFECT_OPERATIONS,
    HUMAN_OPERATIONS,
    PayloadStrategies,
    effect_outcomes,
    effect_values,
    operation_payloads,
)
from stepfold.testing.strategies.values import COMMON_KEYS, keys, scalars, states, values
from stepfold.testing.strategies.workflows import (
    contexts,
    human_inputs,
    runs,
    step_ids,
    step_inputs,
    step_specs,
    workflows,
)

__all__ = [
    "COMMON_KEYS",
    "EFFECT_OPERATIONS",
    "HUMAN_OPERATIONS",
    "PayloadStrategies",
    "contexts",
    "effect_outcomes",
    "effect_values",
    "human_inputs",
    "keys",
    "operation_payloads",
    "runs",
    "scalars",
    "states",
    "step_ids",
    "step_inputs",
    "step_specs",
    "values",
    "workflows",
]
