"""Keeping stepfold's persistent structures out of the cyclic garbage collector's way.

CPython's cyclic collector walks every container it tracks, young ones at
every young-generation collection. A persistent map (pyrsistent's `PMap`)
keeps its entries in one C vector of buckets, and every new version of a
map is a new vector: a `State` of 100k entries that changes one key makes a
new 200k-slot vector, and a lineage that keeps a thousand such states made
the collector walk 200 million slots over and over (measured: 26 s for a
1,000-step run that takes 56 ms with the collector off).

Frozen values cannot form reference cycles: they are built bottom-up from
immutable parts and never point back. So the containers whose size grows
with the data (a state's bucket vector, a large frozen list or map, the
vectors of a lineage's entries and a receipt's links) are untracked as they
are made: reference counting frees them as before, the collector simply
never walks them. This holds for every `State`, whoever holds it (a user's
long-lived states, results kept by `run_many`), because every `State` is
made through the same two constructors. See docs/performance.md.

On an interpreter without `PyObject_GC_UnTrack` (not CPython) this is a no-op.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Callable, Sized
from typing import Any

from pyrsistent import PMap

__all__ = ["untrack", "untrack_large", "untrack_map", "UNTRACK_FROM"]

UNTRACK_FROM = 32
"""Frozen containers of at least this many items are untracked; smaller ones cost the collector little."""


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


def untrack(obj: object) -> None:
    """Stop the cyclic collector from walking `obj` (it must not be part of a reference cycle); a no-op when untracked."""
    if gc.is_tracked(obj):
        _UNTRACK(obj)


def untrack_large(container: Sized) -> None:
    """Untrack `container` when it holds at least `UNTRACK_FROM` items (a small one costs the collector little)."""
    if len(container) >= UNTRACK_FROM:
        untrack(container)


def untrack_map(mapping: PMap[str, Any]) -> None:
    """Untrack a persistent map's bucket vector, the part of it whose size grows with its entries, once it is large."""
    if len(mapping) >= UNTRACK_FROM:
        buckets = getattr(mapping, "_buckets", None)
        if buckets is not None:
            untrack(buckets)
