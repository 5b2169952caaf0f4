"""Recomputing states' digests from their entries: what `verify` checks of a state whose accumulator was taken as given.

A `State` built here from its entries (or derived from one that was) has an
accumulator computed from its content (`State.hashed`). A state rebuilt
from a stored accumulator (`SQLiteStore.load`), unpickled, or rebuilt from
a worker's result took its accumulator as given: its digest says what the
accumulator says, not necessarily what its entries hash to. `verify`
recomputes those digests from the entries, the first such state in full and
each one after from its difference with the one before, so an edited entry
is found wherever it hides.
"""

from __future__ import annotations

from collections.abc import Sequence

from stepfold.lthash import accumulate, digest_of, entry_element, lane_add, lane_sub
from stepfold.state import State, state_delta

__all__ = ["content_digests"]


def content_digests(states: Sequence[State]) -> list[str]:
    """Each state's digest as its entries hash: its own where it was computed from them, recomputed otherwise.

    O(size of the first state taken as given + the entries that differ between consecutive states).
    """
    digests: list[str] = []
    previous: State | None = None
    acc: int  # set by the first state: read from it when hashed, else computed from its entries in full
    for state in states:
        if state.hashed:
            acc = int.from_bytes(state.accumulator, "little")
            digests.append(state.digest)
        else:
            if previous is None:
                acc = accumulate(entry_element(key, value) for key, value in state.items())
            else:
                change = state_delta(previous, state)
                for key, value in change.set.items():
                    if key in previous:
                        acc = lane_sub(acc, entry_element(key, previous[key]))
                    acc = lane_add(acc, entry_element(key, value))
                for key in change.removed:
                    acc = lane_sub(acc, entry_element(key, previous[key]))
            digests.append(digest_of(acc))
        previous = state
    return digests
