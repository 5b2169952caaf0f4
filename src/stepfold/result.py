"""`OrchestrationResult`: what a run returns, and its plain-JSON form (`to_dict`; `from_dict` reads it back).

A result records the policy it ran under. Its document (`to_dict()`) is
format `stepfold/result/2`, whose receipt binds that policy; documents of
format 1 (stepfold 0.1: no policy, no effects) are still read, and written
back as they were.
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs

from stepfold.collector import untrack, untrack_record
from stepfold.errors import InvalidValueError
from stepfold.frozen import thaw
from stepfold.lineage import COMPLETED, FAILED, SUSPENDED, Lineage
from stepfold.messages import brief_repr
from stepfold.policy import TIER2_POLICY, Policy
from stepfold.receipt import Receipt
from stepfold.state import State, state_delta
from stepfold.workflow import ExecutionContext, StepSpec, WorkflowDefinition

__all__ = [
    "OrchestrationResult",
    "RESULT_FORMAT",
    "RESULT_FORMAT_1",
    "STATUSES",
    "WAITING_HUMAN",
    "WAITING_EFFECT",
]

RESULT_FORMAT = "stepfold/result/2"
"""The `format` tag of a `to_dict()` document."""

RESULT_FORMAT_1 = "stepfold/result/1"
"""The `format` tag of stepfold 0.1's documents (format-1 receipt, no policy, no effects)."""

STATUSES = (COMPLETED, FAILED, SUSPENDED)
"""The statuses a run can end in."""

WAITING_HUMAN = "human"
"""`waiting_for` of a run suspended at a human step."""

WAITING_EFFECT = "effect"
"""`waiting_for` of a run suspended at an effect step."""


def _check_status(_instance: object, _attribute: attrs.Attribute[str], value: str) -> None:
    if value not in STATUSES:
        raise InvalidValueError(f"status: expected one of {list(STATUSES)}, got {brief_repr(value)}")


@attrs.frozen
class OrchestrationResult:
    """The outcome of a run: status, the workflow and context it ran, its lineage, its receipt and its policy.

    `id`, `run_id`, `success`, `executed_steps`, `final_state`,
    `failed_step_id`, `pending_step_id`, `waiting_for` and `pending_effect`
    are derived from those, so they cannot disagree.
    """

    workflow: WorkflowDefinition
    context: ExecutionContext
    lineage: Lineage
    receipt: Receipt
    status: str = attrs.field(validator=_check_status)
    error_message: str | None = None
    policy: Policy = TIER2_POLICY
    """The policy the run was made under (bound into a format-2 receipt; assumed for a format-1 one)."""

    def __attrs_post_init__(self) -> None:
        # Records, frozen values and strings: nothing for the collector to walk (stepfold.collector). The lineage
        # and receipt are untracked here, once, not each of those a fold makes on its way to them.
        untrack_record(self, OrchestrationResult)
        if type(self.lineage) is Lineage:  # anything else is left as it is (and refused where it is read)
            untrack_record(self.lineage, Lineage)
            untrack(self.lineage.entries)
        if type(self.receipt) is Receipt:
            untrack_record(self.receipt, Receipt)
            untrack(self.receipt.links)

    @property
    def id(self) -> str:
        """The workflow's id (also `lineage.workflow_id` and `receipt.id`)."""
        return self.workflow.id

    @property
    def run_id(self) -> str:
        """The run's id: its receipt's head, which commits to everything the run did."""
        return self.receipt.head

    @property
    def success(self) -> bool:
        """False only when a step failed; a suspended run has not failed."""
        return self.status != FAILED

    @property
    def executed_steps(self) -> tuple[StepSpec, ...]:
        """The steps that ran, in order, as run (a human step's input in `payload["input"]`)."""
        return tuple(entry.step for entry in self.lineage.entries)

    @property
    def final_state(self) -> State:
        """The state after the last successful step."""
        return self.lineage.final_state

    @property
    def failed_step_id(self) -> str | None:
        """The id of the step that failed, when the run failed."""
        return self.lineage.entries[-1].step.id if self.status == FAILED else None

    @property
    def pending_step_id(self) -> str | None:
        """The id of the step the run waits at (a human or effect step), when it is suspended."""
        pending = self.pending_step
        return None if pending is None else pending.id

    @property
    def waiting_for(self) -> str | None:
        """What a suspended run waits for: "human" (a person's input) or "effect" (an outcome); None otherwise."""
        pending = self.pending_step
        if pending is None:
            return None
        return WAITING_EFFECT if pending.effect is not None else WAITING_HUMAN

    @property
    def pending_effect(self) -> str | None:
        """The effect a suspended run waits for the outcome of, or None."""
        pending = self.pending_step
        return None if pending is None else pending.effect

    @property
    def pending_step(self) -> StepSpec | None:
        """The step a suspended run waits at, as defined; None when it is not suspended."""
        if self.status != SUSPENDED:
            return None
        return self.workflow.steps[len(self.lineage.entries)]

    def to_dict(self, *, include_states: bool = True) -> dict[str, object]:
        """Plain JSON data, keys sorted at every level; holds the initial and final states plus each step's changes.

        Its size is O(state + changes), never O(steps x state). With
        `include_states=False` the two whole states are None (a store that
        keeps states by digest uses this, so saving costs O(changes)).
        """
        entries = []
        previous = self.lineage.initial_state
        for entry in self.lineage.entries:
            entries.append(
                {
                    "changes": state_delta(previous, entry.state).to_dict(),
                    "input": thaw(entry.input),
                    "status": entry.status,
                    "step_id": entry.step.id,
                }
            )
            previous = entry.state
        document: dict[str, object] = {
            "context": {"inputs": thaw(self.context.inputs), "metadata": thaw(self.context.metadata)},
            "error_message": self.error_message,
            "executed_steps": [step.to_dict() for step in self.executed_steps],
            "failed_step_id": self.failed_step_id,
            "final_state": self.final_state.to_dict() if include_states else None,
            "format": RESULT_FORMAT,
            "id": self.id,
            "lineage": {
                "entries": entries,
                "executed_step_ids": list(self.lineage.executed_step_ids),
                "initial_state": self.lineage.initial_state.to_dict() if include_states else None,
                "workflow_id": self.lineage.workflow_id,
            },
            "pending_effect": self.pending_effect,
            "pending_step_id": self.pending_step_id,
            "policy": self.policy.to_dict(),
            "receipt": self.receipt.to_dict(),
            "run_id": self.run_id,
            "status": self.status,
            "success": self.success,
            "waiting_for": self.waiting_for,
            "workflow": self.workflow.to_dict(),
        }
        if self.receipt.policy_digest is None:  # a format-1 run: written back exactly as stepfold 0.1 wrote it
            document["format"] = RESULT_FORMAT_1
            for key in FORMAT_2_KEYS:
                del document[key]
        return document

    @classmethod
    def from_dict(cls, document: Mapping[str, object]) -> OrchestrationResult:
        """Rebuild the result a `to_dict()` document describes; `from_dict(r.to_dict()).to_dict() == r.to_dict()`.

        A document that is not one (missing or mistyped fields, derived fields
        that disagree with the lineage) raises `InvalidDocumentError` naming
        the field. It does not re-check hashes: that is `verify`'s job.
        """
        from stepfold.reader import read_result  # the reader builds results: it imports this module

        return read_result(document, check_final_state=True)[0]


FORMAT_2_KEYS = ("pending_effect", "policy", "run_id", "waiting_for")
"""The top-level keys a format-2 document has and a format-1 one lacks."""
