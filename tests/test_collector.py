"""The collector room: nothing stepfold makes for a frozen value, a state or a result is walked by the cyclic GC."""

from __future__ import annotations

import gc
import pickle
import weakref
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pyrsistent import PMap, PVector, pmap

from stepfold import ExecutionContext, Policy, State, freeze, run_mission, run_workflow
from stepfold.collector import (
    _by_pmap,
    _remove_by_pmap,
    _set_by_pmap,
    _tuple_buckets,
    frozen_map,
    map_remove,
    map_set,
    untrack,
    untrack_map,
)
from stepfold.transfer import dumps, loads, pack, unpack
from stepfold.workflow import StepSpec, WorkflowDefinition
from tests.strategies import plain_states, plain_values, small_keys


def _buckets(mapping: object) -> object:
    assert isinstance(mapping, PMap)
    return mapping._buckets  # type: ignore[attr-defined]  # pyrsistent internals, on purpose


def _reachable(root: object) -> Iterator[object]:
    """Every object reachable from `root` through the collector's own view of references (types and modules aside)."""
    seen: set[int] = set()
    stack = [root]
    while stack:
        obj = stack.pop()
        if id(obj) in seen or isinstance(obj, type) or callable(obj):
            continue
        seen.add(id(obj))
        yield obj
        stack.extend(gc.get_referents(obj))


_HAVE_GC = 1 << 14  # Py_TPFLAGS_HAVE_GC: the type's objects can be tracked


def _pins(item: object) -> bool:
    """Whether `item` keeps a tuple holding it tracked: CPython's collector untracks a tuple once it holds nothing
    but atoms and untracked tuples; any other container, tracked or not, keeps it."""
    if type(item) is tuple:
        return gc.is_tracked(item) and any(_pins(part) for part in item)
    return bool(type(item).__flags__ & _HAVE_GC)


def _walked(obj: object) -> bool:
    """Whether the collector walks `obj` at every collection for as long as it lives."""
    if not gc.is_tracked(obj):
        return False
    return any(_pins(part) for part in obj) if isinstance(obj, tuple) and type(obj) is tuple else True


def _still_tracked(root: object) -> list[str]:
    """What of `root` the collector walks for as long as it lives (not a tuple it untracks itself on its first pass)."""
    return [_described(obj) for obj in _reachable(root) if _walked(obj)]


def _described(obj: object) -> str:
    return f"{type(obj).__name__} {obj!r:.100}"


@given(plain_values)
def test_every_container_of_a_frozen_value_is_untracked(value: object) -> None:
    frozen = freeze({"value": value})
    assert _still_tracked(frozen) == []


@given(plain_states)
def test_every_container_of_a_state_is_untracked(entries: dict[str, object]) -> None:
    state = State(entries)
    assert _still_tracked(state) == []
    for key in list(entries)[:3]:
        state = state.set(key, {"again": [key]}).remove(key).set(key + "!", [{"k": 1}])
    assert _still_tracked(state) == []


@given(plain_values)
def test_frozen_values_a_worker_sends_arrive_untracked_at_every_level(value: object) -> None:
    """`transfer.loads` of what `transfer.dumps` wrote: equal, and nothing for the collector (no walk afterwards)."""
    frozen = freeze({"value": value, "nested": [{"again": value}]})
    arrived = loads(dumps(frozen))
    assert arrived == frozen and _still_tracked(arrived) == []


def test_a_state_that_grows_past_its_table_is_untracked_whole() -> None:
    state = State({f"k{i}": {"v": [i]} for i in range(5)})
    for i in range(40):  # pyrsistent rebuilds every bucket each time the table doubles
        state = state.set(f"new{i}", {"v": [i]})
    state = state.update({f"more{i}": [i] for i in range(40)})
    assert _still_tracked(state) == []


def test_a_kept_result_leaves_nothing_for_the_collector() -> None:
    """Before: ~116 tracked containers per kept daily_loop result, each walked again at every full collection."""
    state = {
        "tasks": [{"id": i, "title": f"t{i}", "priority": i % 3, "due": None, "done": i % 4 == 0} for i in range(6)]
    }
    inputs = {"daily-confirm-priorities": {"approved": True}}

    def run() -> object:
        return run_mission("daily_loop", ExecutionContext(initial_state=state, inputs=inputs), {"date": "2026-01-02"})

    run()  # fills what is built once and shared (the mission's workflow, caches)
    gc.collect()
    before = len(gc.get_objects())
    kept = [run() for _ in range(50)]
    gc.collect()
    gc.collect()
    grown = len(gc.get_objects()) - before
    assert len(kept) == 50
    assert grown <= 50 * 2, f"{grown / 50:.1f} tracked containers per kept result"


def test_a_result_from_a_worker_is_untracked_like_one_made_here() -> None:
    state = {"log": [], "tasks": [{"id": 1, "title": "t", "priority": 1, "due": None, "done": False}]}
    context = ExecutionContext(initial_state=state, inputs={"daily-confirm-priorities": {"approved": True}})
    result = run_mission("daily_loop", context, {"date": "2026-01-02"})
    crossed = unpack(loads(dumps(pack(result))), context, result.policy)  # as a worker sends it
    assert crossed.to_dict() == result.to_dict()
    shared = {id(obj) for root in (context, result.policy) for obj in _reachable(root)}  # the caller's own
    assert [_described(obj) for obj in _reachable(crossed) if _walked(obj) and id(obj) not in shared] == []


@given(plain_states, st.lists(st.tuples(small_keys, st.one_of(st.none(), plain_values)), max_size=12))
def test_frozen_map_written_by_map_set_is_pmap_under_any_edits(
    entries: dict[str, object], edits: list[tuple[str, object]]
) -> None:
    """A map built with tuple buckets and written by `map_set`/`map_remove` (or by the fallbacks for another
    pyrsistent) reads, compares and hashes exactly as the one `pmap` builds and pyrsistent writes."""
    values = {key: freeze(value) for key, value in entries.items()}
    built, reference = frozen_map(values), pmap(values)
    assert built == reference and reference == built and hash(built) == hash(reference)
    assert _by_pmap(values) == reference
    fallback = _by_pmap(values)
    for key, value in edits:  # None removes the key (when it is there)
        if value is None:
            if key in reference:
                built, fallback = map_remove(built, key), _remove_by_pmap(fallback, key)
                reference = reference.remove(key)
            else:
                with pytest.raises(KeyError):
                    map_remove(built, key)
        else:
            frozen = freeze(value)
            built, fallback = map_set(built, key, frozen), _set_by_pmap(fallback, key, frozen)
            reference = reference.set(key, frozen)
        for mapping in (built, fallback):
            assert mapping == reference and reference == mapping and dict(mapping) == dict(reference)
            assert len(mapping) == len(reference) and hash(mapping) == hash(reference)
            assert all(mapping.get(key) == reference.get(key) for key in [*reference, "absent"])
            assert all(key in mapping for key in reference) and "absent" not in mapping
            assert _still_tracked(mapping) == []
    assert pickle.loads(pickle.dumps(built)) == reference
    grown = built
    for index in range(40):  # across pyrsistent's resizes, which map_set leaves to pyrsistent
        grown = map_set(grown, f"grown{index}", freeze([index]))
    assert dict(grown) == {**reference, **{f"grown{index}": freeze([index]) for index in range(40)}}
    assert _still_tracked(grown) == []


def test_frozen_map_uses_tuple_buckets_on_this_pyrsistent() -> None:
    """The layout check at import holds here (else frozen_map would be pmap, correct but walked more)."""
    assert frozen_map is _tuple_buckets and map_set is not _set_by_pmap and map_remove is not _remove_by_pmap
    assert frozen_map({}) is pmap()


def test_a_large_state_keeps_no_tracked_bucket_vector() -> None:
    state = State({f"k{i}": i for i in range(1000)})
    assert not gc.is_tracked(_buckets(state._data))
    changed = state.set("k1", {"nested": [1, 2, 3]})
    assert not gc.is_tracked(_buckets(changed._data))


def test_small_frozen_containers_are_untracked_too() -> None:
    small = freeze({"items": [1, 2], "map": {"a": 1}})
    assert isinstance(small, PMap)
    assert not gc.is_tracked(small) and not gc.is_tracked(_buckets(small))
    assert not gc.is_tracked(small["items"]) and not gc.is_tracked(small["map"])
    assert freeze({"items": [1, 2]}) == freeze({"items": (1, 2)})


def test_untrack_is_idempotent_and_keeps_the_value() -> None:
    vector = freeze(list(range(100)))
    assert isinstance(vector, PVector)
    untrack(vector)
    untrack(vector)
    assert not gc.is_tracked(vector)
    assert list(vector) == list(range(100))


def test_untrack_map_ignores_maps_without_buckets() -> None:
    untrack_map({})  # type: ignore[arg-type]  # a plain dict has no bucket vector: nothing to do


def test_a_lineage_over_a_large_state_adds_no_tracked_large_containers() -> None:
    base = State({f"k{i}": i for i in range(5000)})
    steps = [StepSpec(f"s{i}", "runtime", {"operation": "set", "key": f"k{i}", "value": -i}) for i in range(40)]
    workflow, context = WorkflowDefinition(id="long", steps=steps), ExecutionContext(initial_state=base)
    run_workflow(workflow, context, policy=Policy(max_steps=40))  # fills the fixed-size element cache
    gc.collect()
    before = {id(obj) for obj in gc.get_objects()}
    result = run_workflow(workflow, context, policy=Policy(max_steps=40))
    grown = [obj for obj in gc.get_objects() if id(obj) not in before and obj is not before]
    sizes = [len(obj) for obj in grown if isinstance(obj, (list, tuple, dict, set, PVector))]
    largest = max(sizes, default=0)
    assert len(result.lineage.states) == 41
    assert largest < 1000, "a large container made by the run is still walked by the collector"


class _Box:
    """A weak-referenceable object to watch being freed."""


@given(st.integers(min_value=1, max_value=200))
def test_untracked_containers_are_still_freed(size: int) -> None:
    box = _Box()
    watcher = weakref.ref(box)
    vector = [box] * size
    untrack(vector)
    del box, vector
    assert watcher() is None, "reference counting frees what the collector no longer walks"
