"""A state's content at the level of its persistent map: built from plain data (each entry frozen and hashed in
one pass, the collector paused for a large one) and read from the map's buckets.

`stepfold.state.State` is made of these; nothing here knows a State.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Final

from pyrsistent import PMap, pmap

from stepfold.collector import frozen_map, untrack_map
from stepfold.errors import InvalidValueError
from stepfold.lthash import accumulate, entry_element, plain_entry_element
from stepfold.values import Value, freeze_entry, freeze_key, lookup_contradicts

__all__ = ["MISSING", "get_entry", "collector_paused", "frozen_entries"]

MISSING: Final = object()
"""What `get_entry` returns for an absent key (a value can be None)."""


def _get_by_buckets(data: PMap[str, Value], key: str) -> object:
    buckets = data._buckets  # type: ignore[attr-defined]
    bucket = buckets[hash(key) % len(buckets)]
    if bucket:
        for known, value in bucket:
            if known == key:
                return value
    return MISSING


def _get_by_mapping(data: PMap[str, Value], key: str) -> object:
    return data.get(key, MISSING)


def _lookup() -> Callable[[PMap[str, Value], str], object]:
    """`data[key]` or `MISSING`: read from the map's buckets (`Mapping.get` raises and catches a KeyError for every
    absent key), when this pyrsistent keeps its entries as stepfold expects; through `get` otherwise."""
    probe: PMap[str, Value] = pmap({"a": 1, "b": 2})
    try:
        if _get_by_buckets(probe, "a") == 1 and _get_by_buckets(probe, "z") is MISSING:
            return _get_by_buckets
    except (AttributeError, TypeError, ValueError):
        pass
    return _get_by_mapping


get_entry: Final = _lookup()
"""`get_entry(data, key)`: the value of `key` in the persistent map `data`, or `MISSING`."""


@contextmanager
def collector_paused(size: int) -> Iterator[None]:
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


def frozen_entries(source: Mapping[str, object], path: str, *, consume: bool = False) -> tuple[PMap[str, Value], int]:
    """`source` frozen, and its accumulator: each entry frozen and hashed in one pass, its encoding written by the C
    JSON encoder when the entry is plain data (what `freeze(source)` and hashing every frozen entry would give).
    Each element is added as it is made: a state of n entries never holds n elements (2 KiB each) at once. With
    `consume` (`source` a dict the caller gives up), each entry is taken out of `source` as it is frozen, so the
    plain data and its frozen copy never both exist whole."""
    frozen: dict[str, Value] = {}
    kept = [type(source) is PMap]  # a PMap whose every value is already frozen is kept as it is
    count = len(source)

    def items() -> Iterator[tuple[str, object]]:
        if not consume:
            yield from source.items()
            return
        taken: dict[str, object] = source  # type: ignore[assignment]  # consume: an exact dict (State.from_parsed)
        while taken:
            yield taken.popitem()

    def elements() -> Iterator[int]:
        for key, value in items():
            name = freeze_key(path, key)
            item, plain = freeze_entry(path, name, value, within=source)
            kept[0] = kept[0] and item is value
            frozen[name] = item
            yield plain_entry_element(name, value) if plain else entry_element(name, item)

    try:
        acc = accumulate(elements())
    except KeyError as exc:  # the source's own lookup; a nested mapping's is an InvalidValueError by now
        raise InvalidValueError(f"{path}: {lookup_contradicts(source, exc)}") from None
    if len(frozen) != count:  # two keys froze to one name (a str subclass beside its str): hash what is kept
        acc = accumulate(entry_element(name, item) for name, item in frozen.items())
    if kept[0]:  # the caller's own map, every value frozen already: kept, and untracked like one built here
        untrack_map(source)  # type: ignore[arg-type]
        return source, acc  # type: ignore[return-value]
    return frozen_map(frozen), acc
