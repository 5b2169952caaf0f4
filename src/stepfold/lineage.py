"""The lineage: the initial state and one entry per executed step, sharing structure between states."""

from __future__ import annotations

from collections.abc import Iterable

import attrs
from pyrsistent import PVector, pvector

from stepfold.collector import untrack_record
from stepfold.state import State
from stepfold.values import Value
from stepfold.workflow import StepSpec

__all__ = ["Lineage", "LineageEntry", "COMPLETED", "FAILED", "SUSPENDED"]

COMPLETED = "completed"
FAILED = "failed"
SUSPENDED = "suspended"


@attrs.frozen
class LineageEntry:
    """One executed step: the step as run, its input, the state after, the status.

    A human step runs with the person's input in `payload["input"]`; an effect
    step with its outcome's value there (a failed outcome runs nothing, so its
    step is shown as defined). `input` is what `ctx.inputs` held for the step:
    the person's input, the effect's whole outcome, or None for other steps.
    For a failed step, `state` is the state before it (nothing it did is kept).
    """

    step: StepSpec
    input: Value
    state: State
    status: str

    def __attrs_post_init__(self) -> None:
        untrack_record(self, LineageEntry)  # frozen parts only: nothing for the collector to walk (stepfold.collector)

    @property
    def took_input(self) -> bool:
        """True for a human or effect step, whose `input` came from `ctx.inputs` (None counts as given)."""
        return self.step.takes_input


def _entries(value: Iterable[LineageEntry]) -> PVector[LineageEntry]:
    return value if isinstance(value, PVector) else pvector(value)


@attrs.frozen
class Lineage:
    """Every state of a run: `initial_state` and then one `LineageEntry` per executed step."""

    workflow_id: str
    initial_state: State
    entries: PVector[LineageEntry] = attrs.field(factory=pvector, converter=_entries)
    """(A result untracks its lineage and these entries once, not each lineage a fold makes on the way.)"""

    @property
    def executed_step_ids(self) -> tuple[str, ...]:
        """The executed step ids, in order."""
        return tuple(entry.step.id for entry in self.entries)

    @property
    def final_state(self) -> State:
        """The state after the last entry (the initial state when nothing ran)."""
        return self.entries[-1].state if self.entries else self.initial_state

    @property
    def states(self) -> tuple[State, ...]:
        """The initial state followed by each entry's state."""
        return (self.initial_state, *(entry.state for entry in self.entries))

    def truncated(self, count: int) -> Lineage:
        """The lineage of the first `count` entries only; states shared."""
        return Lineage(self.workflow_id, self.initial_state, self.entries[:count])

    def append(self, entry: LineageEntry) -> Lineage:
        """A lineage with one more entry; O(log n), states shared."""
        return Lineage(self.workflow_id, self.initial_state, self.entries.append(entry))
