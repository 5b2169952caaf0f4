"""`Policy`: the limits a workflow is checked against before any of its steps runs."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence

import attrs

from stepfold.canonical import sha256_json
from stepfold.errors import AntiFailureViolation, EnvelopeViolation, InvalidValueError
from stepfold.messages import brief_repr
from stepfold.values import MAX_SAFE_INTEGER, freeze
from stepfold.workflow import HUMAN, RUNTIME, StepSpec, WorkflowDefinition

__all__ = ["Policy", "TIER2_POLICY", "check_workflow", "step_operation", "RECORD", "POLICY_KEYS"]

POLICY_KEYS = ("allowed_effects", "allowed_kinds", "max_human_steps", "max_steps")
"""The keys of a policy's document, `Policy.to_dict()`."""

RECORD = "record"
"""The operation a human or effect step without one runs: store the input under `payload.get("into", step.id)`."""


def _non_negative_int(_instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    if type(value) is not int or not 0 <= value <= MAX_SAFE_INTEGER:  # a policy is a document: I-JSON's integers
        raise InvalidValueError(
            f"policy.{attribute.name}: expected an int from 0 to 2**53 - 1, got {brief_repr(value)}"
        )


def _names(value: Iterable[object], field: str, rule: str, *, non_empty: bool = False) -> frozenset[str]:
    """Kind or effect names: strings in the value domain (no lone surrogate), `policy.FIELD[i]` named otherwise."""
    names = []
    for index, name in enumerate(value):
        if not isinstance(name, str) or (non_empty and not name):
            raise InvalidValueError(f"policy.{field}[{index}]: {rule}, got {brief_repr(name)}")
        names.append(str(freeze(name, path=f"policy.{field}[{index}]")))
    return frozenset(names)


def _freeze_kinds(value: object) -> frozenset[str]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise InvalidValueError(
            f"policy.allowed_kinds: expected a collection of kind names, got {type(value).__name__}"
        )
    return _names(value, "allowed_kinds", "kinds are strings")


def _freeze_effects(value: object) -> frozenset[str] | None:
    if value is None:
        return None
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise InvalidValueError(
            f"policy.allowed_effects: expected None (any effect) or a collection of effect names, "
            f"got {type(value).__name__}"
        )
    return _names(value, "allowed_effects", "effect names are non-empty strings", non_empty=True)


def _sorted_names(value: object, name: str) -> list[str]:
    """A recorded list of names, as `to_dict` writes it: strings, sorted, each once (so one policy has one document)."""
    if isinstance(value, str) or not isinstance(value, Sequence) or not all(isinstance(item, str) for item in value):
        raise InvalidValueError(f"policy.{name}: expected a list of names, got {brief_repr(value)}")
    if list(value) != sorted(set(value)):
        raise InvalidValueError(f"policy.{name}: names must be sorted and unique, got {brief_repr(value)}")
    return list(value)


@attrs.frozen
class Policy:
    """Limits checked before a run: step count, human step count, allowed step kinds and allowed effects.

    `allowed_effects=None` (the default) allows any effect; a collection of
    names refuses an effect step naming any other with `EnvelopeViolation`.
    """

    max_steps: int = attrs.field(default=5, validator=_non_negative_int)
    max_human_steps: int = attrs.field(default=2, validator=_non_negative_int)
    allowed_kinds: frozenset[str] = attrs.field(default=frozenset({RUNTIME, HUMAN}), converter=_freeze_kinds)
    allowed_effects: frozenset[str] | None = attrs.field(default=None, converter=_freeze_effects)

    digest: str = attrs.field(init=False, eq=False, repr=False)
    """SHA-256 (hex) of the JCS of `to_dict()`: the policy digest a format-2 receipt's genesis binds."""

    def __attrs_post_init__(self) -> None:  # after the validators: only a valid policy is hashed
        object.__setattr__(self, "digest", sha256_json(self.to_dict()))

    def to_dict(self) -> dict[str, object]:
        """Plain JSON data `{"allowed_effects", "allowed_kinds", "max_human_steps", "max_steps"}`, names sorted."""
        return {
            "allowed_effects": None if self.allowed_effects is None else sorted(self.allowed_effects),
            "allowed_kinds": sorted(self.allowed_kinds),
            "max_human_steps": self.max_human_steps,
            "max_steps": self.max_steps,
        }

    def describe(self) -> str:
        """`at most 5 steps and 2 human steps; kinds human, runtime; any effect`, for a reason or a report."""
        effects = (
            "any effect"
            if self.allowed_effects is None
            else "effects " + (", ".join(sorted(self.allowed_effects)) or "none")
        )
        steps, humans = self.max_steps, self.max_human_steps
        return (
            f"at most {steps} step{'' if steps == 1 else 's'} and {humans} human step{'' if humans == 1 else 's'}; "
            f"kinds {', '.join(sorted(self.allowed_kinds))}; {effects}"
        )

    @classmethod
    def from_dict(cls, document: object) -> Policy:
        """The policy a `to_dict()` document describes; `InvalidValueError` naming what is wrong otherwise."""
        if not isinstance(document, Mapping) or set(document) != set(POLICY_KEYS):
            shown = sorted(map(brief_repr, document)) if isinstance(document, Mapping) else type(document).__name__
            raise InvalidValueError(
                f"policy: expected an object with exactly the keys {list(POLICY_KEYS)}, got {shown}"
            )
        return cls(
            max_steps=document["max_steps"],
            max_human_steps=document["max_human_steps"],
            allowed_kinds=_sorted_names(document["allowed_kinds"], "allowed_kinds"),
            allowed_effects=None
            if document["allowed_effects"] is None
            else _sorted_names(document["allowed_effects"], "allowed_effects"),
        )


TIER2_POLICY = Policy()
"""The default policy: at most 5 steps, at most 2 human steps, kinds `runtime` and `human`, any effect."""


def step_operation(step: StepSpec) -> str | None:
    """The operation a step runs: its own, or `record` for a human or effect step without one (None otherwise)."""
    if step.operation is not None:
        return step.operation
    return RECORD if step.takes_input else None


def check_workflow(
    workflow: WorkflowDefinition,
    policy: Policy,
    operations: Collection[str] | Mapping[str, object] | None,
) -> None:
    """Raise before anything runs if the workflow breaks the policy or names an unknown operation.

    Order: kinds, then effects (`EnvelopeViolation`), operations
    (`EnvelopeViolation`; every step that is neither human nor an effect step
    must name one; skipped when `operations` is None), step count and human
    step count (`AntiFailureViolation`).
    """
    if not isinstance(policy, Policy):  # every path to a run passes here: the mission API, batches, suites
        raise InvalidValueError(f"policy: expected a Policy, got {type(policy).__name__}")
    allowed = sorted(policy.allowed_kinds)
    for index, step in enumerate(workflow.steps):
        if step.kind not in policy.allowed_kinds:
            raise EnvelopeViolation(
                f"workflow {workflow.id!r} step {step.id!r} (steps[{index}]): kind {step.kind!r} "
                f"is not allowed by the policy; allowed kinds: {allowed}"
            )
    if policy.allowed_effects is not None:
        for index, step in enumerate(workflow.steps):
            if step.effect is not None and step.effect not in policy.allowed_effects:
                raise EnvelopeViolation(
                    f"workflow {workflow.id!r} step {step.id!r} (steps[{index}]): effect {step.effect!r} "
                    f"is not allowed by the policy; allowed effects: {sorted(policy.allowed_effects)}"
                )
    for index, step in enumerate(workflow.steps):
        operation = step_operation(step)
        if operation is None:
            raise EnvelopeViolation(
                f"workflow {workflow.id!r} step {step.id!r} (steps[{index}]): a {step.kind} step "
                "must name its operation in payload['operation'] (or an effect in payload['effect'])"
            )
        if operations is not None and operation not in operations:
            known = "[" + ", ".join(sorted(map(brief_repr, operations))) + "]"
            raise EnvelopeViolation(
                f"workflow {workflow.id!r} step {step.id!r} (steps[{index}]): unknown operation "
                f"{operation!r}; known operations: {known}"
            )
    if len(workflow.steps) > policy.max_steps:
        raise AntiFailureViolation(
            f"workflow {workflow.id!r} has {len(workflow.steps)} steps; the policy allows at most {policy.max_steps}"
        )
    human = [step.id for step in workflow.steps if step.kind == HUMAN]
    if len(human) > policy.max_human_steps:
        raise AntiFailureViolation(
            f"workflow {workflow.id!r} has {len(human)} human steps {human}; the policy allows at most "
            f"{policy.max_human_steps}"
        )
