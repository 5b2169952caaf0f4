"""How a replay differs from the record it replays: the first diverging step, and what differed there."""

from __future__ import annotations

from stepfold.frozen import thaw
from stepfold.lineage import FAILED
from stepfold.messages import brief_repr
from stepfold.result import OrchestrationResult
from stepfold.state import State, state_delta

__all__ = ["first_divergence", "SHOWN_KEYS"]

SHOWN_KEYS = 3
"""How many of the keys a diverging step left otherwise a reason names (the rest are counted)."""


def first_divergence(result: OrchestrationResult, replayed: OrchestrationResult) -> tuple[int, str] | None:
    """`(index, what differed)` at the first link where `replayed` leaves `result`'s chain; None when none does.

    Both chains follow the same workflow step by step (the record was checked
    against it), so the step at `index` exists in it.
    """
    recorded, again = result.receipt.links, replayed.receipt.links
    for index in range(max(len(recorded), len(again))):
        if index >= len(recorded):
            return index, "the replay runs a step the record does not have"
        if index >= len(again):
            return index, "the record has a step the replay does not run"
        was, now = recorded[index], again[index]
        if was == now:
            continue
        if was.status != now.status:
            failure = f" ({replayed.error_message})" if now.status == FAILED and replayed.error_message else ""
            return index, f"the step {now.status} on replay but {was.status} in the record{failure}"
        if was.state_digest != now.state_digest:
            difference = _state_difference(result.lineage.entries[index].state, replayed.lineage.entries[index].state)
            return index, f"the step produces a different state on replay: {difference}"
        return index, "the step's link differs on replay"
    return None


def _state_difference(recorded: State, replayed: State) -> str:
    """What differs between the state a step left in the record and on replay: the first keys, each both ways."""
    delta = state_delta(recorded, replayed)
    keys = sorted([*delta.set, *delta.removed])
    shown = []
    for key in keys[:SHOWN_KEYS]:
        now = brief_repr(thaw(delta.set[key])) if key in delta.set else "absent"
        was = brief_repr(thaw(recorded[key])) if key in recorded else "absent"
        shown.append(f"{brief_repr(key)} is {now} on replay, {was} in the record")
    more = len(keys) - len(shown)
    return "; ".join(shown) + (f"; and {more} more key{'s' if more != 1 else ''}" if more > 0 else "")
