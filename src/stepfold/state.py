"""`State`: an immutable string-keyed mapping of values with an incremental, order-independent digest.

The digest is LtHash (Lewi et al. 2019) over entries, with the parameters
DESIGN.md makes normative: each entry `[key, value]` is encoded as RFC 8785
JSON, read through SHAKE-256 into 2048 bytes = 1024 little-endian 16-bit
lanes; the state's accumulator is the lane-wise sum mod 2**16 of its
entries' elements; `digest` is the SHA-256 (hex) of the 2048-byte
little-endian accumulator. Adding or removing an entry adds or subtracts
its element, so a step that changes k entries costs O(k * entry size),
whatever the size of the state.
"""

from __future__ import annotations

import gc
import hashlib
from contextlib import contextmanager
from collections.abc import Iterable, Iterator, Mapping
from typing import Final

import attrs
from pyrsistent import PMap, PSet, pmap, pset

from stepfold.errors import InvalidValueError
from stepfold.values import Value, brief_repr, canonical_json, freeze, freeze_entry, thaw, values_identical

__all__ = [
    "State",
    "StateDelta",
    "entry_element",
    "state_delta",
    "ELEMENT_BYTES",
    "MAX_STATE_ENTRIES",
]

ELEMENT_BYTES: Final = 2048
"""Bytes in an LtHash element and in the accumulator: 1024 lanes of 16 bits."""

MAX_STATE_ENTRIES: Final = 10_000_000
"""Most entries (top-level keys) a `State` holds; building or growing one past it raises `InvalidValueError`.

Each entry costs a persistent-map node (~215 bytes measured, on top of the
caller's data) and one 2 KiB LtHash element hashed when it is written; at the
bound a state takes ~2 GB and minutes to build, so a state this large is a
runaway loop or the wrong tool, never a workflow's real state. Checked in O(1).
"""

_BITS = ELEMENT_BYTES * 8
_FULL = (1 << _BITS) - 1
_HIGH = int.from_bytes(b"\x00\x80" * (ELEMENT_BYTES // 2), "little")  # top bit of every lane
_LOW = _FULL ^ _HIGH
_EVEN = int.from_bytes(b"\xff\xff\x00\x00" * (ELEMENT_BYTES // 4), "little")  # lanes 0, 2, 4, ...
_CHUNK = 65535  # per-slot sums of this many 16-bit lanes still fit in 32 bits
_MISSING: Final = object()


def entry_element(key: str, value: Value) -> int:
    """The LtHash element of one entry: SHAKE-256 of JCS `[key, value]`, 2048 bytes little-endian."""
    return int.from_bytes(
        hashlib.shake_256(canonical_json([key, value])).digest(ELEMENT_BYTES), "little"
    )


def _lane_add(a: int, b: int) -> int:
    # SWAR: add the low 15 bits of each lane, then fix each lane's top bit without a carry out.
    return ((a & _LOW) + (b & _LOW)) ^ ((a ^ b) & _HIGH)


def _lane_sub(a: int, b: int) -> int:
    return ((a | _HIGH) - (b & _LOW)) ^ ((a ^ b ^ _FULL) & _HIGH)


def _fold_chunk(total: int, even: int) -> int:
    # total = sum of whole elements, even = sum of their even lanes (each in a 32-bit slot);
    # the odd lanes' sums are total - even, shifted into the same slots.
    odd = (total - even) >> 16
    return (even & _EVEN) | ((odd & _EVEN) << 16)


def _accumulate(elements: Iterable[int]) -> int:
    """Lane-wise sum mod 2**16 of many elements, with two big-int additions per element."""
    acc = total = even = count = 0
    for element in elements:
        total += element
        even += element & _EVEN
        count += 1
        if count == _CHUNK:
            acc = _lane_add(acc, _fold_chunk(total, even))
            total = even = count = 0
    return _lane_add(acc, _fold_chunk(total, even)) if count else acc


@contextmanager
def _collector_paused(size: int) -> Iterator[None]:
    """Pause the cyclic garbage collector while building a large state.

    Frozen values cannot form cycles, and building 100k entries allocates
    ~400k containers, each allocation burst triggering a collection that
    rescans every live object; pausing it halves the build time. The
    collector's previous setting is restored on exit, whatever happens.
    """
    if size < 1024 or not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _digest_of(acc: int) -> str:
    return hashlib.sha256(acc.to_bytes(ELEMENT_BYTES, "little")).hexdigest()


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


@attrs.frozen(init=False, eq=False, repr=False)
class State(Mapping[str, Value]):
    """An immutable `Mapping[str, Value]` whose `set`/`remove`/`update` return new states in O(log n).

    `State(mapping)` freezes its input (raising `InvalidValueError` naming the
    path of anything outside the value domain). Two states are equal exactly
    when their digests are; a state equals a plain mapping with the same
    canonical content (`State({"a": 1}) == {"a": 1.0}`, but `!= {"a": True}`).
    """

    _data: PMap[str, Value]
    _acc: int
    digest: str
    """SHA-256 (hex) of the LtHash accumulator: identifies the content, whatever the insertion order."""
    _lineage_token: object
    _touched: PSet[str]

    def __init__(
        self, entries: Mapping[str, object] | Iterable[tuple[str, object]] = (), *, path: str = "state"
    ) -> None:
        source = entries if isinstance(entries, Mapping) else _pairs(entries, path)
        if isinstance(source, State):
            data, acc = source._data, source._acc
        else:
            if len(source) > MAX_STATE_ENTRIES:
                raise _too_many(path, len(source))
            for key in source:
                if not isinstance(key, str):
                    raise _not_a_key(path, key)
            with _collector_paused(len(source)):
                frozen = freeze(source, path=path)
                assert isinstance(frozen, PMap)
                data = frozen
                acc = _accumulate(entry_element(k, v) for k, v in data.items())
        self.__attrs_init__(data, acc, _digest_of(acc), object(), pset())

    @classmethod
    def _derived(cls, base: State, data: PMap[str, Value], acc: int, touched: PSet[str]) -> State:
        new = object.__new__(cls)
        new.__attrs_init__(data, acc, _digest_of(acc), base._lineage_token, touched)
        return new

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
        frozen = freeze_entry("state", key, value)
        old = self._data.get(key, _MISSING)
        if old is frozen:
            return self
        if old is _MISSING and len(self._data) >= MAX_STATE_ENTRIES:
            raise _too_many("state", len(self._data) + 1)
        acc = _lane_add(self._acc, entry_element(key, frozen))
        if old is not _MISSING:
            acc = _lane_sub(acc, entry_element(key, old))  # type: ignore[arg-type]
        return State._derived(self, self._data.set(key, frozen), acc, self._touched.add(key))

    def remove(self, key: str) -> State:
        """A new state without `key`; removing an absent key returns this state unchanged; a non-string key is refused."""
        if type(key) is not str:
            key = _check_key(key)
        old = self._data.get(key, _MISSING)
        if old is _MISSING:
            return self
        acc = _lane_sub(self._acc, entry_element(key, old))  # type: ignore[arg-type]
        return State._derived(self, self._data.remove(key), acc, self._touched.add(key))

    discard = remove

    def update(self, entries: Mapping[str, object]) -> State:
        """A new state with every entry of `entries` set; O(k log n) for k entries."""
        if not isinstance(entries, Mapping):
            raise InvalidValueError(
                f"state update: expected a mapping, got {type(entries).__name__}"
            )
        data, acc, touched = self._data, self._acc, self._touched
        for key, value in entries.items():
            key = _check_key(key)
            frozen = freeze_entry("state", key, value)
            old = data.get(key, _MISSING)
            if old is frozen:
                continue
            if old is _MISSING and len(data) >= MAX_STATE_ENTRIES:
                raise _too_many("state", len(data) + 1)
            acc = _lane_add(acc, entry_element(key, frozen))
            if old is not _MISSING:
                acc = _lane_sub(acc, entry_element(key, old))  # type: ignore[arg-type]
            data = data.set(key, frozen)
            touched = touched.add(key)
        if data is self._data:
            return self
        return State._derived(self, data, acc, touched)

    def to_dict(self) -> dict[str, object]:
        """The content as plain, freshly built `dict`/`list` data with sorted keys."""
        return thaw(self._data)  # type: ignore[return-value]

    @property
    def accumulator(self) -> bytes:
        """The 2048-byte little-endian LtHash accumulator whose SHA-256 is `digest`."""
        return self._acc.to_bytes(ELEMENT_BYTES, "little")

    def apply(self, delta: StateDelta) -> State:
        """This state with `delta` applied: its `set` entries written, then its `removed` keys dropped."""
        state = self.update(delta.set)
        for key in delta.removed:
            state = state.remove(key)
        return state


def _freeze_delta_set(value: object) -> PMap[str, Value]:
    frozen = freeze(value, path="delta.set")
    if not isinstance(frozen, PMap):
        raise InvalidValueError("delta.set: expected a mapping of keys to new values")
    return frozen


def _freeze_removed(value: object) -> tuple[str, ...]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise InvalidValueError("delta.removed: expected a list of keys")
    keys = tuple(value)
    for index, key in enumerate(keys):
        if not isinstance(key, str):
            raise InvalidValueError(f"delta.removed[{index}]: expected a string key, got {brief_repr(key)}")
    return tuple(sorted(keys))


@attrs.frozen
class StateDelta:
    """What one state changed relative to another: entries written and keys removed."""

    set: PMap[str, Value] = attrs.field(factory=pmap, converter=_freeze_delta_set)
    removed: tuple[str, ...] = attrs.field(default=(), converter=_freeze_removed)

    def __bool__(self) -> bool:
        return bool(self.set) or bool(self.removed)


def state_delta(before: State, after: State) -> StateDelta:
    """The delta that turns `before` into `after` (`before.apply(delta) == after`).

    When `after` was derived from `before` through `set`/`remove`/`update`
    (as every step's state is), this costs O(keys written since the first of
    them was built), not O(size of the state); otherwise it compares every key.
    """
    if before is after:
        return StateDelta()
    old, new = before._data, after._data
    if before._lineage_token is after._lineage_token:
        candidates: Iterable[str] = set(before._touched) | set(after._touched)
    else:
        candidates = set(old) | set(new)
    written: dict[str, Value] = {}
    removed: list[str] = []
    for key in candidates:
        was = old.get(key, _MISSING)
        now = new.get(key, _MISSING)
        if was is now:
            continue
        if now is _MISSING:
            removed.append(key)
        elif was is _MISSING or not values_identical(was, now):
            written[key] = now  # type: ignore[assignment]
    return StateDelta(pmap(written), removed)
