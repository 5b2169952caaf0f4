"""`stepfold.rehash`: a state's digest recomputed from its entries wherever its accumulator was taken as given."""

from __future__ import annotations

import pickle

from hypothesis import given
from hypothesis import strategies as st

from stepfold import OrchestrationResult, State
from stepfold.rehash import content_digests
from tests.strategies import results


def _as_given(state: State, entries: dict[str, object] | None = None) -> State:
    """`state`'s accumulator over `entries` (its own by default), taken as given, as a store rebuilds a whole state."""
    return State.from_accumulator(state.to_dict() if entries is None else entries, state.accumulator)


@given(results())
def test_content_digests_of_hashed_states_are_their_digests(result: OrchestrationResult) -> None:
    states = result.lineage.states
    assert all(state.hashed for state in states)
    assert content_digests(states) == [state.digest for state in states]


@given(results())
def test_states_taken_as_given_are_rehashed_to_the_same_digests(result: OrchestrationResult) -> None:
    states = [_as_given(state) for state in result.lineage.states]
    assert not any(state.hashed for state in states)
    assert content_digests(states) == [state.digest for state in result.lineage.states]


@given(st.dictionaries(st.text(max_size=3), st.integers(0, 9), min_size=1, max_size=6), st.integers(10, 99))
def test_an_entry_edited_under_a_given_accumulator_changes_the_recomputed_digest(
    entries: dict[str, int], forged: int
) -> None:
    genuine = State(entries)
    key = sorted(entries)[0]
    edited = _as_given(genuine, {**entries, key: forged})
    assert edited.digest == genuine.digest  # what the accumulator says
    assert content_digests([edited]) != [genuine.digest]  # what the entries hash to


def test_a_later_state_is_rehashed_from_its_difference_with_the_one_before() -> None:
    first = _as_given(State({"a": 1, "b": 2}))
    later = first.set("c", 3).remove("a")  # derived from a state taken as given: not hashed either
    assert not later.hashed
    assert content_digests([first, later]) == [State({"a": 1, "b": 2}).digest, State({"b": 2, "c": 3}).digest]
    forged_later = State.from_accumulator({"b": 2, "c": 4}, later.accumulator)
    assert content_digests([first, forged_later])[1] != later.digest


def test_an_unpickled_state_is_taken_as_given_and_rehashes_the_same() -> None:
    state = State({"x": [1, 2], "y": {"z": None}})
    again = pickle.loads(pickle.dumps(state))
    assert state.hashed and not again.hashed
    assert content_digests([again]) == [state.digest]


def test_a_state_taken_as_given_after_a_hashed_one_is_rehashed_from_the_hashed_digest() -> None:
    first = State({"a": 1, "b": 2})
    later = _as_given(first.set("c", 3))
    assert first.hashed and not later.hashed
    assert content_digests([first, later]) == [first.digest, State({"a": 1, "b": 2, "c": 3}).digest]
