"""`State`: an immutable string-keyed mapping of values with an incremental, order-independent digest.

The digest is LtHash over entries (`stepfold.lthash`, parameters normative).
Adding or removing an entry adds or subtracts its element, so a step that
changes k entries costs O(k * entry size), whatever the size of the state.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Final, Union

import attrs
from pyrsistent import PMap, pmap

from stepfold.collector import map_remove, map_set, untrack, untrack_map, untrack_record
from stepfold.content import MISSING, collector_paused, frozen_entries, get_entry
from stepfold.delta import StateDelta
from stepfold.errors import InvalidValueError
from stepfold.frozen import thaw, values_identical
from stepfold.lthash import (
    ELEMENT_BYTES,
    accumulator_digest,
    digest_of,
    entry_element,
    lane_add,
    lane_sub,
    plain_entry_element,
)
from stepfold.messages import brief_repr
from stepfold.values import Value, freeze, freeze_entry

__all__ = [
    "State",
    "StateDelta",
    "entry_element",
    "state_delta",
    "ELEMENT_BYTES",
    "MAX_STATE_ENTRIES",
]

MAX_STATE_ENTRIES: Final = 10_000_000
"""Most entries (top-level keys) a `State` holds; building or growing one past it raises `InvalidValueError`.

Each entry costs a persistent-map node (~215 bytes measured, on top of the
caller's data) and one 2 KiB LtHash element hashed when it is written; at the
bound a state takes ~2 GB and minutes to build, so a state this large is a
runaway loop or the wrong tool, never a workflow's real state. Checked in O(1).
"""


def _pairs(entries: object, path: str) -> dict[str, object]:
    if isinstance(entries, (str, bytes)) or not isinstance(entries, Iterable):
        raise InvalidValueError(f"{path}: expected a mapping or (key, value) pairs, got {type(entries).__name__}")
    out: dict[str, object] = {}
    for index, pair in enumerate(entries):
        if not isinstance(pair, tuple) or len(pair) != 2:
            raise InvalidValueError(f"{path}[{index}]: expected a (key, value) pair, got {brief_repr(pair)}")
        if not isinstance(pair[0], str):
            raise _not_a_key(f"{path}[{index}]", pair[0])
        out[pair[0]] = pair[1]
    return out


def _too_many(path: str, count: int) -> InvalidValueError:
    return InvalidValueError(
        f"{path}: {count} entries is more than MAX_STATE_ENTRIES ({MAX_STATE_ENTRIES}); "
        "keep bulk data outside the state (e.g. its digest or path)"
    )


def _not_a_key(path: str, key: object) -> InvalidValueError:
    return InvalidValueError(f"{path}: keys must be strings, got {type(key).__name__} {brief_repr(key)}")


def _check_key(key: object) -> str:
    if type(key) is str and key.isascii():
        return key
    if not isinstance(key, str):
        raise _not_a_key("state", key)
    frozen = freeze(key, path="state key")
    assert isinstance(frozen, str)
    return frozen


def _frozen_source(source: Mapping[str, object], path: str, *, consume: bool) -> tuple[PMap[str, Value], int]:
    """A new state's map and accumulator from `source`, its size and keys checked first (`content.frozen_entries`)."""
    if len(source) > MAX_STATE_ENTRIES:
        raise _too_many(path, len(source))
    for key in source:
        if not isinstance(key, str):
            raise _not_a_key(path, key)
    with collector_paused(len(source)):
        return frozen_entries(source, path, consume=consume)


Touched = Union[tuple[str, "Touched"], None]
"""The keys written since a lineage's first state, newest first, as a chain of pairs: adding one is O(1)."""


def _touch(key: str, touched: Touched) -> Touched:
    """`touched` with `key` written last, untracked: a chain of tuples the collector itself untracks one link per
    collection (it looks at the outer link before the inner one), so it would walk a long lineage's chain for ages."""
    link = (key, touched)
    untrack(link)
    return link


def _keys_of(touched: Touched) -> set[str]:
    keys: set[str] = set()
    while touched is not None:
        key, touched = touched
        keys.add(key)
    return keys


@attrs.frozen(init=False, eq=False, repr=False)
class State(Mapping[str, Value]):
    """An immutable `Mapping[str, Value]` whose `set`/`remove`/`update` return new states in O(log n).

    `State(mapping)` freezes its input (raising `InvalidValueError` naming the
    path of anything outside the value domain). Two states are equal exactly
    when their digests are; a state equals a plain mapping with the same
    canonical content (`State({"a": 1}) == {"a": 1.0}`, but `!= {"a": True}`).

    >>> before = State({"b": 1})
    >>> after = before.set("a", [1, 2])
    >>> after
    State({'a': [1, 2], 'b': 1})
    >>> before == {"b": 1.0}, before == {"b": True}, before.digest == State({"b": 1}).digest
    (True, False, True)
    """

    _data: PMap[str, Value]
    _acc: int
    digest: str
    """SHA-256 (hex) of the LtHash accumulator: identifies the content, whatever the insertion order."""
    _lineage_token: object
    _touched: Touched
    _hashed: bool

    def __attrs_post_init__(self) -> None:
        untrack_record(self, State)  # frozen parts only: nothing for the collector to walk (stepfold.collector)

    def __init__(
        self, entries: Mapping[str, object] | Iterable[tuple[str, object]] = (), *, path: str = "state"
    ) -> None:
        source = entries if isinstance(entries, Mapping) else _pairs(entries, path)
        if isinstance(source, State):
            data, acc = source._data, source._acc
        else:
            data, acc = _frozen_source(source, path, consume=False)
        hashed = source._hashed if isinstance(source, State) else True
        self.__attrs_init__(data, acc, digest_of(acc), object(), None, hashed)

    @classmethod
    def from_parsed(cls, entries: dict[str, object], *, path: str = "state") -> State:
        """`State(entries)` for a dict the caller gives up (one `json.loads` just made, say): it is emptied as its
        entries are frozen, so a large document and its frozen copy never both exist whole. Refuses what
        `State(...)` refuses (what was taken out of `entries` by then is gone from it); anything but an exact dict
        raises `InvalidValueError`."""
        if type(entries) is not dict:
            raise InvalidValueError(f"{path}: expected a dict to take entries from, got {type(entries).__name__}")
        data, acc = _frozen_source(entries, path, consume=True)
        new = object.__new__(cls)
        new.__attrs_init__(data, acc, digest_of(acc), object(), None, True)
        return new

    @classmethod
    def from_accumulator(cls, entries: Mapping[str, object], accumulator: bytes, *, path: str = "state") -> State:
        """A State of `entries` whose LtHash accumulator is taken as given, not recomputed: O(freeze), not O(hash).

        For a caller that wrote the accumulator itself and checks the digest it
        yields against one it trusts (a store loading a state it saved, whose
        digest the run's receipt binds); `verify` never builds states this way.
        """
        if not isinstance(entries, Mapping) or len(accumulator) != ELEMENT_BYTES:
            raise InvalidValueError(f"{path}: expected a mapping and a {ELEMENT_BYTES}-byte accumulator")
        with collector_paused(len(entries)):
            frozen = freeze(entries, path=path)
        assert isinstance(frozen, PMap)
        acc = int.from_bytes(accumulator, "little")
        if frozen is entries:  # the caller's own map, kept: untracked like one built here
            untrack_map(frozen)
        new = object.__new__(cls)
        new.__attrs_init__(frozen, acc, digest_of(acc), object(), None, False)
        return new

    def changed_under(self, written: Iterable[tuple[str, Value]], removed: Iterable[str], accumulator: bytes) -> State:
        """This state with `written` set and `removed` dropped, under the given accumulator: O(changes), nothing hashed.

        For a caller that rebuilds a state another stepfold process computed
        (a worker's result) and checks the digest it yields against a receipt
        it recomputes: the values must be frozen already and the accumulator
        is taken as given, as `from_accumulator` takes it. `verify` never
        builds states this way.
        """
        if len(accumulator) != ELEMENT_BYTES:
            raise InvalidValueError(f"state: expected a {ELEMENT_BYTES}-byte accumulator, got {len(accumulator)}")
        data, touched = self._data, self._touched
        for key, value in written:
            data = map_set(data, key, value)
            touched = _touch(key, touched)
        for key in removed:
            if key in data:
                data = map_remove(data, key)
            touched = _touch(key, touched)
        new = object.__new__(State)
        acc = int.from_bytes(accumulator, "little")
        new.__attrs_init__(data, acc, accumulator_digest(accumulator), self._lineage_token, touched, False)
        return new

    @classmethod
    def _derived(cls, base: State, data: PMap[str, Value], acc: int, touched: Touched) -> State:
        new = object.__new__(cls)
        new.__attrs_init__(data, acc, digest_of(acc), base._lineage_token, touched, base._hashed)
        return new

    def __reduce__(self) -> tuple[Callable[[PMap[str, Value], bytes], State], tuple[PMap[str, Value], bytes]]:
        """Pickled as its entries and its accumulator (the digest is computed again from it; nothing else is kept).

        Like any pickle, only for data from a process you trust (an
        executor's worker, your own cache): the accumulator is taken as given.
        """
        return (_unpickled, (self._data, self.accumulator))

    # Mapping protocol -------------------------------------------------------

    def __getitem__(self, key: str) -> Value:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def __eq__(self, other: object) -> bool:
        if isinstance(other, State):
            return self.digest == other.digest
        if isinstance(other, Mapping):
            try:
                return self.digest == State(other).digest
            except InvalidValueError:
                return False
        return NotImplemented

    def __ne__(self, other: object) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    def __hash__(self) -> int:
        return hash(self.digest)

    def __repr__(self) -> str:
        items = sorted(self._data.items())
        shown = ", ".join(f"{k!r}: {thaw(v)!r}" for k, v in items[:8])
        more = f", ... ({len(items)} entries)" if len(items) > 8 else ""
        return f"State({{{shown}{more}}})"

    # Persistent updates -----------------------------------------------------

    def set(self, key: str, value: object) -> State:
        """A new state with `key` bound to `freeze(value)`; O(log n + size of the old and new entry)."""
        key = _check_key(key)
        frozen, plain = freeze_entry("state", key, value)
        old = get_entry(self._data, key)
        if old is frozen:
            return self
        if old is MISSING and len(self._data) >= MAX_STATE_ENTRIES:
            raise _too_many("state", len(self._data) + 1)
        acc = lane_add(self._acc, plain_entry_element(key, value) if plain else entry_element(key, frozen))
        if old is not MISSING:
            acc = lane_sub(acc, entry_element(key, old))  # type: ignore[arg-type]
        return State._derived(self, map_set(self._data, key, frozen), acc, _touch(key, self._touched))

    def remove(self, key: str) -> State:
        """A new state without `key`; removing an absent key returns this state unchanged; a non-string key is refused."""
        if type(key) is not str:
            key = _check_key(key)
        old = get_entry(self._data, key)
        if old is MISSING:
            return self
        acc = lane_sub(self._acc, entry_element(key, old))  # type: ignore[arg-type]
        return State._derived(self, map_remove(self._data, key), acc, _touch(key, self._touched))

    discard = remove

    def update(self, entries: Mapping[str, object]) -> State:
        """A new state with every entry of `entries` set; O(k log n) for k entries."""
        if not isinstance(entries, Mapping):
            raise InvalidValueError(f"state update: expected a mapping, got {type(entries).__name__}")
        data, acc, touched = self._data, self._acc, self._touched
        for key, value in entries.items():
            key = _check_key(key)
            frozen, plain = freeze_entry("state", key, value)
            old = get_entry(data, key)  # the map as written so far: a key given twice replaces its first value
            if old is frozen:
                continue
            if old is MISSING and len(data) >= MAX_STATE_ENTRIES:
                raise _too_many("state", len(data) + 1)
            acc = lane_add(acc, plain_entry_element(key, value) if plain else entry_element(key, frozen))
            if old is not MISSING:
                acc = lane_sub(acc, entry_element(key, old))  # type: ignore[arg-type]
            data = map_set(data, key, frozen)
            touched = _touch(key, touched)
        if data is self._data:
            return self
        return State._derived(self, data, acc, touched)

    def to_dict(self) -> dict[str, object]:
        """The content as plain, freshly built `dict`/`list` data with sorted keys."""
        return thaw(self._data)  # type: ignore[return-value]

    @property
    def hashed(self) -> bool:
        """True when this state's accumulator was computed here from its entries (its own or its ancestors'), False
        when it was taken as given (`from_accumulator`, unpickled, rebuilt from a worker's result)."""
        return self._hashed

    @property
    def accumulator(self) -> bytes:
        """The 2048-byte little-endian LtHash accumulator whose SHA-256 is `digest`."""
        return self._acc.to_bytes(ELEMENT_BYTES, "little")

    def apply(self, delta: StateDelta) -> State:
        """This state with `delta` applied: its `set` entries written, then its `removed` keys dropped."""
        if not isinstance(delta, StateDelta):  # a {"set", "removed"} document is `StateDelta.from_dict(...)` first
            raise InvalidValueError(f"delta: expected a StateDelta, got {type(delta).__name__}")
        state = self.update(delta.set)
        for key in delta.removed:
            state = state.remove(key)
        return state


def _unpickled(data: PMap[str, Value], accumulator: bytes) -> State:
    untrack_map(data)
    new = object.__new__(State)
    acc = int.from_bytes(accumulator, "little")
    new.__attrs_init__(data, acc, accumulator_digest(accumulator), object(), None, False)
    return new


def to_state(value: object, *, path: str = "state") -> State:
    """`value` as a State: a State as it is (never copied or hashed again), None as the empty state, a mapping frozen."""
    if isinstance(value, State):
        return value
    if value is None:
        return State()
    if not isinstance(value, Mapping):
        raise InvalidValueError(f"{path}: expected a mapping with string keys, got {type(value).__name__}")
    return State(value, path=path)


def state_delta(before: State, after: State) -> StateDelta:
    """The delta that turns `before` into `after` (`before.apply(delta) == after`).

    When `after` was derived from `before` through `set`/`remove`/`update`
    (as every step's state is), this costs O(keys written since the first of
    them was built), not O(size of the state); otherwise it compares every key.
    """
    if not isinstance(before, State) or not isinstance(after, State):
        raise InvalidValueError(
            f"state_delta: expected two States, got {type(before).__name__} and {type(after).__name__}"
        )
    if before is after:
        return StateDelta()
    old, new = before._data, after._data
    if before._lineage_token is after._lineage_token:
        candidates: Iterable[str] = _keys_of(before._touched) | _keys_of(after._touched)
    else:
        candidates = set(old) | set(new)
    written: dict[str, Value] = {}
    removed: list[str] = []
    for key in candidates:
        was = old.get(key, MISSING)
        now = new.get(key, MISSING)
        if was is now:
            continue
        if now is MISSING:
            removed.append(key)
        elif was is MISSING or not values_identical(was, now):
            written[key] = now  # type: ignore[assignment]
    return StateDelta(pmap(written), removed)
