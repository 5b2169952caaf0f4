"""Keeping stepfold's persistent structures out of the cyclic garbage collector's way.

CPython's cyclic collector walks every container it tracks: young ones at
every young-generation collection, and every one at each full collection,
which comes each time the number of long-lived containers has grown by a
quarter. A persistent map (pyrsistent's `PMap`) is a map object, one C
vector of buckets and a list per bucket; a frozen list is a vector; a run's
lineage and receipt add a few attrs instances per step. So whatever keeps
results alive (a lineage, the list `run_many` returns, a suite) made the
collector walk all of it again and again: a 1,000-step run over 100k
entries took 26 s with the collector on and 56 ms with it off, and keeping
5,000 `daily_loop` results (~110 tracked containers each) made a run ~1.8x
slower than keeping none.

Frozen values cannot form reference cycles: they are built bottom-up from
immutable parts and never point back. So every container stepfold makes
for a frozen value, a state, a lineage or a receipt is untracked as it is
made: reference counting frees it as before, the collector never walks it.
`frozen_map` builds a map in one pass with tuple buckets, which the
collector untracks by itself the first time it sees them hold only
untracked values (lists, pyrsistent's buckets, it never does). This holds for
every `State`, whoever holds it (a user's long-lived states, results kept
by `run_many`), because every state, value and record is made through
stepfold's constructors. See docs/performance.md.

On an interpreter without `PyObject_GC_UnTrack` (not CPython) untracking is
a no-op; on a pyrsistent whose maps are not laid out as this module expects
(checked once, at import), `frozen_map` is `pmap` and only what a map
exposes is untracked.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final, TypeVar

from pyrsistent import PMap, pmap, pvector

__all__ = [
    "untrack",
    "untrack_map",
    "untrack_record",
    "frozen_map",
    "map_set",
    "map_remove",
]

K = TypeVar("K")
V = TypeVar("V")


def _untracker() -> Callable[[object], None]:
    if sys.implementation.name != "cpython":
        return lambda obj: None
    try:
        import ctypes

        function = ctypes.pythonapi.PyObject_GC_UnTrack
    except (ImportError, AttributeError):  # pragma: no cover - CPython always has it
        return lambda obj: None
    function.argtypes = [ctypes.py_object]
    function.restype = None
    return function


_UNTRACK = _untracker()
"""`PyObject_GC_UnTrack`: only for an object of a type the collector knows (never an int or a str); idempotent."""


def untrack(obj: object) -> None:
    """Stop the cyclic collector from walking `obj` (it must not be part of a reference cycle); a no-op when untracked."""
    if gc.is_tracked(obj):
        _UNTRACK(obj)


def untrack_record(record: object, cls: type) -> None:
    """Untrack an instance of one of stepfold's frozen records, made of frozen values, strings and other records; only
    an instance of exactly `cls` (a subclass may hold anything, a cycle included)."""
    if type(record) is cls:
        _UNTRACK(record)


_PVECTOR: Final[type] = type(pvector())  # pyrsistent's C vector type (or its Python one)
_CONTAINERS: Final[tuple[type, ...]] = (PMap, _PVECTOR)
"""The frozen values that are containers: a pair holding one is never untracked by the collector itself."""


def _tuple_buckets(entries: Mapping[K, V]) -> PMap[K, V]:
    """`pmap(entries)`, built the same way (2n slots, a key at `hash(key) % 2n`) but with tuple buckets, untracked."""
    count = len(entries)
    if not count:
        return pmap()
    size = 2 * count
    buckets: list[tuple[tuple[K, V], ...] | None] = [None] * size
    for item in entries.items():
        if type(item[1]) in _CONTAINERS:  # a pair of atoms, and a bucket of untracked pairs, the collector untracks
            _UNTRACK(item)
        index = hash(item[0]) % size
        bucket = buckets[index]
        buckets[index] = (item,) if bucket is None else (*bucket, item)
    vector = pvector(buckets)
    _UNTRACK(vector)
    mapping: PMap[K, V] = PMap(count, vector)  # type: ignore[call-arg]  # pyrsistent's own constructor
    _UNTRACK(mapping)
    return mapping


def _by_pmap(entries: Mapping[K, V]) -> PMap[K, V]:
    mapping = pmap(entries)
    untrack_map(mapping)
    return mapping


def _buckets_of(mapping: PMap[Any, Any]) -> Any:
    return getattr(mapping, "_buckets", None)


def _untrack_bucket(bucket: Any) -> None:
    untrack(bucket)
    for pair in bucket:
        untrack(pair)


def untrack_map(mapping: PMap[Any, Any]) -> None:
    """Untrack a persistent map, its bucket vector and every bucket (for a map pyrsistent built, e.g. unpickled)."""
    if type(mapping) is not PMap:
        return
    _UNTRACK(mapping)
    buckets = _buckets_of(mapping)
    if buckets is not None and gc.is_tracked(buckets):
        _UNTRACK(buckets)
        for bucket in buckets:
            if bucket:
                _untrack_bucket(bucket)


def _untrack_written(after: PMap[Any, Any], before: PMap[Any, Any], keys: Iterable[Any]) -> None:
    """Untrack what `before.set`/`remove`/an evolver made of `after` when it wrote `keys`: the map, its bucket vector,
    and the buckets of those keys (every bucket, when the vector grew and pyrsistent rebuilt them all)."""
    if after is before or type(after) is not PMap:
        return
    _UNTRACK(after)
    buckets = _buckets_of(after)
    if buckets is None:
        return
    _UNTRACK(buckets)
    size = len(buckets)
    if size != len(_buckets_of(before) or ()):
        for bucket in buckets:
            if bucket:
                _untrack_bucket(bucket)
        return
    for key in keys:
        bucket = buckets[hash(key) % size]
        if bucket:
            _untrack_bucket(bucket)


_RESIZE_AT: Final = 0.67
"""pyrsistent doubles a map's table before adding a key when the table has fewer slots than this times the map's size."""


def _set_in_buckets(mapping: PMap[K, V], key: K, value: V) -> PMap[K, V]:
    """`mapping.set(key, value)` as pyrsistent writes it (the same slot, the new pair first in its bucket, the same
    resize rule) but with a tuple bucket and the new map and vector untracked: no evolver, nothing left tracked."""
    buckets = mapping._buckets  # type: ignore[attr-defined]
    size = len(buckets)
    index = hash(key) % size
    bucket = buckets[index]
    pair = (key, value)
    count = len(mapping)
    written = None
    if bucket:
        for position, (known, held) in enumerate(bucket):
            if known == key:
                if held is value:
                    return mapping
                written = (*bucket[:position], pair, *bucket[position + 1 :])
                break
    if written is None:
        if size < _RESIZE_AT * count:  # pyrsistent rebuilds the whole table here: let it, then untrack what it made
            return _set_by_pmap(mapping, key, value)
        written = (pair, *bucket) if bucket else (pair,)
        count += 1
    if type(value) in _CONTAINERS:
        _UNTRACK(pair)
    vector = buckets.set(index, written)
    _UNTRACK(vector)
    new: PMap[K, V] = PMap(count, vector)  # type: ignore[call-arg]  # pyrsistent's own constructor
    _UNTRACK(new)
    return new


def _remove_in_buckets(mapping: PMap[K, V], key: K) -> PMap[K, V]:
    """`mapping.remove(key)` (KeyError when absent) as pyrsistent removes it, the new map and vector untracked."""
    buckets = mapping._buckets  # type: ignore[attr-defined]
    index = hash(key) % len(buckets)
    bucket = buckets[index]
    kept = tuple(pair for pair in bucket if not pair[0] == key) if bucket else ()
    if not bucket or len(kept) == len(bucket):
        raise KeyError(key)
    vector = buckets.set(index, kept or None)
    _UNTRACK(vector)
    new: PMap[K, V] = PMap(len(mapping) - 1, vector)  # type: ignore[call-arg]
    _UNTRACK(new)
    return new


def _set_by_pmap(mapping: PMap[K, V], key: K, value: V) -> PMap[K, V]:
    new = mapping.set(key, value)
    _untrack_written(new, mapping, (key,))
    return new


def _remove_by_pmap(mapping: PMap[K, V], key: K) -> PMap[K, V]:
    new = mapping.remove(key)
    _untrack_written(new, mapping, (key,))
    return new


def _tuple_buckets_work() -> bool:
    """Whether a map built by `_tuple_buckets` is, to pyrsistent, the map `pmap` builds: read, written, compared."""
    plain = {f"key{i}": i for i in range(13)}
    try:
        built, reference = _tuple_buckets(plain), pmap(plain)
        grown = _set_in_buckets(_remove_in_buckets(_set_in_buckets(built, "new", 1), "key0"), "key1", -1)
        for i in range(40):  # across two resizes
            grown = _set_in_buckets(grown, f"more{i}", i)
        grown = _remove_in_buckets(grown, "more0")
        written = {**plain, "new": 1, "key1": -1, **{f"more{i}": i for i in range(1, 40)}}
        del written["key0"]
        evolver = built.evolver()
        for i in range(40):
            evolver[f"more{i}"] = i
        del evolver["key2"]
        expected = {**plain, **{f"more{i}": i for i in range(40)}}
        del expected["key2"]
        return (
            built == reference
            and reference == built
            and dict(built) == plain
            and hash(built) == hash(reference)
            and sorted(built.items()) == sorted(plain.items())
            and all(built[key] == value and key in built for key, value in plain.items())
            and "absent" not in built
            and built.get("absent", None) is None
            and grown == pmap(written) == grown
            and len(grown) == len(written)
            and dict(evolver.persistent()) == expected
            and _buckets_of(built) is not None
            and len(_buckets_of(built)) == len(_buckets_of(reference))
        )
    except Exception:  # pragma: no cover - a pyrsistent laid out otherwise
        return False


_EMPTIES: Final[tuple[object, ...]] = (pmap(), _buckets_of(pmap()), pvector())
for _empty in _EMPTIES:  # pyrsistent's shared empty map and vector hold nothing
    untrack(_empty)

if _tuple_buckets_work():
    frozen_map = _tuple_buckets
    map_set = _set_in_buckets
    map_remove = _remove_in_buckets
else:  # pragma: no cover - a pyrsistent laid out otherwise
    frozen_map = _by_pmap
    map_set = _set_by_pmap
    map_remove = _remove_by_pmap
"""`frozen_map(entries)`: `pmap(entries)` for entries whose values are frozen (no cycle), built untracked;
`map_set(mapping, key, value)` and `map_remove(mapping, key)` write one such map into another, untracked."""
