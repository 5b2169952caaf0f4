"""`stepfold.testing`: hypothesis strategies for stepfold's types and law checkers for your operations and missions.

Install with the `testing` extra (`pip install 'stepfold[testing]'`), which
brings hypothesis; the core never imports this package. See
docs/testing.md for a guide.
"""

try:
    import hypothesis as _hypothesis  # noqa: F401  (only to say what is missing)
except ModuleNotFoundError as missing:  # pragma: no cover - exercised in a subprocess without hypothesis
    raise ModuleNotFoundError(
        "stepfold.testing needs hypothesis: install it with `pip install 'stepfold[testing]'`", name=missing.name
    ) from None

from stepfold.testing.laws import (
    BUILDER_DETERMINISTIC,
    BUILDS_CLEANLY,
    DECLARED_WRITES,
    DETERMINISTIC,
    FAILED_OUTCOME_FAILS_CLEANLY,
    FAILS_CLEANLY,
    LAWS,
    MISSION_LAWS,
    NO_MUTATION,
    OPERATION_LAWS,
    RESUME_EQUALS_RUN,
    RETURNS_STATE,
    RUN_DETERMINISTIC,
    WITHIN_POLICY,
    Inputs,
    Law,
    LawReport,
    LawViolation,
    Writes,
    check_mission,
    check_operation,
)
from stepfold.testing.strategies import (
    COMMON_KEYS,
    EFFECT_OPERATIONS,
    HUMAN_OPERATIONS,
    PayloadStrategies,
    contexts,
    effect_outcomes,
    effect_values,
    human_inputs,
    keys,
    operation_payloads,
    runs,
    scalars,
    states,
    step_ids,
    step_inputs,
    step_specs,
    values,
    workflows,
)

__all__ = [
    "BUILDER_DETERMINISTIC",
    "BUILDS_CLEANLY",
    "COMMON_KEYS",
    "DECLARED_WRITES",
    "DETERMINISTIC",
    "EFFECT_OPERATIONS",
    "FAILED_OUTCOME_FAILS_CLEANLY",
    "FAILS_CLEANLY",
    "HUMAN_OPERATIONS",
    "Inputs",
    "LAWS",
    "Law",
    "LawReport",
    "LawViolation",
    "MISSION_LAWS",
    "NO_MUTATION",
    "OPERATION_LAWS",
    "PayloadStrategies",
    "RESUME_EQUALS_RUN",
    "RETURNS_STATE",
    "RUN_DETERMINISTIC",
    "WITHIN_POLICY",
    "Writes",
    "check_mission",
    "check_operation",
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
