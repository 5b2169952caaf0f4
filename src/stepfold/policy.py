"""`Policy`: the limits a workflow is checked against before any of its steps runs."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping

import attrs

from stepfold.errors import AntiFailureViolation, EnvelopeViolation, InvalidValueError
from stepfold.values import brief_repr
from stepfold.workflow import HUMAN, RUNTIME, WorkflowDefinition

__all__ = ["Policy", "TIER2_POLICY", "check_workflow", "step_operation", "RECORD"]

RECORD = "record"
"""The operation a human step without one runs: store the input under `payload.get("into", step.id)`."""


def _non_negative_int(_instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    if type(value) is not int or value < 0:
        raise InvalidValueError(f"policy.{attribute.name}: expected a non-negative int, got {brief_repr(value)}")


def _freeze_kinds(value: object) -> frozenset[str]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise InvalidValueError(
            f"policy.allowed_kinds: expected a collection of kind names, got {type(value).__name__}"
        )
    kinds = tuple(value)
    for kind in kinds:
        if not isinstance(kind, str):
            raise InvalidValueError(f"policy.allowed_kinds: kinds are strings, got {brief_repr(kind)}")
    return frozenset(kinds)


@attrs.frozen
class Policy:
    """Limits checked before a run: step count, human step count and allowed step kinds."""

    max_steps: int = attrs.field(default=5, validator=_non_negative_int)
    max_human_steps: int = attrs.field(default=2, validator=_non_negative_int)
    allowed_kinds: frozenset[str] = attrs.field(
        default=frozenset({RUNTIME, HUMAN}), converter=_freeze_kinds
    )


TIER2_POLICY = Policy()
"""The default policy: at most 5 steps, at most 2 human steps, kinds `runtime` and `human`."""


def step_operation(kind: str, payload_operation: str | None) -> str | None:
    """The operation a step of this kind runs: its own, or `record` for a human step without one."""
    if payload_operation is not None:
        return payload_operation
    return RECORD if kind == HUMAN else None


def check_workflow(
    workflow: WorkflowDefinition,
    policy: Policy,
    operations: Collection[str] | Mapping[str, object] | None,
) -> None:
    """Raise before anything runs if the workflow breaks the policy or names an unknown operation.

    Order: kinds (`EnvelopeViolation`), operations (`EnvelopeViolation`; every
    non-human step must name one; skipped when `operations` is None), step
    count and human step count (`AntiFailureViolation`).
    """
    allowed = sorted(policy.allowed_kinds)
    for index, step in enumerate(workflow.steps):
        if step.kind not in policy.allowed_kinds:
            raise EnvelopeViolation(
                f"workflow {workflow.id!r} step {step.id!r} (steps[{index}]): kind {step.kind!r} "
                f"is not allowed by the policy; allowed kinds: {allowed}"
            )
    for index, step in enumerate(workflow.steps):
        operation = step_operation(step.kind, step.operation)
        if operation is None:
            raise EnvelopeViolation(
                f"workflow {workflow.id!r} step {step.id!r} (steps[{index}]): a {step.kind} step "
                "must name its operation in payload['operation']"
            )
        if operations is not None and operation not in operations:
            known = "[" + ", ".join(sorted(map(brief_repr, operations))) + "]"
            raise EnvelopeViolation(
                f"workflow {workflow.id!r} step {step.id!r} (steps[{index}]): unknown operation "
                f"{operation!r}; known operations: {known}"
            )
    if len(workflow.steps) > policy.max_steps:
        raise AntiFailureViolation(
            f"workflow {workflow.id!r} has {len(workflow.steps)} steps; the policy allows at most "
            f"{policy.max_steps}"
        )
    human = [step.id for step in workflow.steps if step.kind == HUMAN]
    if len(human) > policy.max_human_steps:
        raise AntiFailureViolation(
            f"workflow {workflow.id!r} has {len(human)} human steps {human}; the policy allows at most "
            f"{policy.max_human_steps}"
        )
