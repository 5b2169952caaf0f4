"""What a failed run's `error_message` says: written by the fold, checked by the reader.

The receipt binds that a step failed, not the words of its failure, so the
message is held to what the record does bind. An effect step whose outcome
failed has its whole message derived from that outcome (its input, bound by
the receipt): it must be exactly that. An operation's failure begins with the
step and the operation, both bound; only the reason after it (the exception's
type and message) is the operation's own, which replaying the run checks.
"""

from __future__ import annotations

from stepfold.outcome import EffectOutcome, read_outcome
from stepfold.policy import step_operation
from stepfold.values import Value
from stepfold.workflow import StepSpec

__all__ = ["effect_failed", "operation_failed", "expected_failure"]


def effect_failed(step: StepSpec, outcome: EffectOutcome) -> str:
    """`step 'x' (effect 'tests.run') failed after 3 attempts: TimeoutError: ...`."""
    return f"step {step.id!r} (effect {step.effect!r}) {outcome.describe()}"


def _operation_prefix(step: StepSpec) -> str:
    return f"step {step.id!r} (operation {step_operation(step)!r}) failed: "


def operation_failed(step: StepSpec, reason: str) -> str:
    """`step 'x' (operation 'fail') failed: REASON`."""
    return _operation_prefix(step) + reason


def expected_failure(step: StepSpec, given: Value) -> tuple[str, bool]:
    """What the message of `step` failing on its input `given` is: `(the message, True)` when all of it follows
    from the record, `(how it begins, False)` when the rest is the operation's reason.

    `given` is a recorded effect outcome (or a human input, or None); an
    outcome of the wrong shape raises `InvalidValueError`, as the fold does.
    """
    if step.effect is not None:
        outcome = read_outcome(given, f"inputs[{step.id!r}]")
        if not outcome.ok:
            return effect_failed(step, outcome), True
    return _operation_prefix(step), False
