"""The collector room: frozen containers that grow with the data are not walked by the cyclic GC."""

from __future__ import annotations

import gc
import weakref

from hypothesis import given
from hypothesis import strategies as st
from pyrsistent import PMap, PVector

from stepfold import ExecutionContext, Policy, State, freeze, run_workflow
from stepfold.collector import UNTRACK_FROM, untrack, untrack_map
from stepfold.workflow import StepSpec, WorkflowDefinition


def _buckets(mapping: object) -> object:
    assert isinstance(mapping, PMap)
    return mapping._buckets  # type: ignore[attr-defined]  # pyrsistent internals, on purpose


def test_a_large_state_keeps_no_tracked_bucket_vector() -> None:
    state = State({f"k{i}": i for i in range(1000)})
    assert not gc.is_tracked(_buckets(state._data))
    changed = state.set("k1", {"nested": [1, 2, 3]})
    assert not gc.is_tracked(_buckets(changed._data))


def test_large_frozen_containers_are_untracked_and_small_ones_left_alone() -> None:
    big = freeze({"items": list(range(UNTRACK_FROM)), "map": {str(i): i for i in range(UNTRACK_FROM)}})
    assert isinstance(big, PMap)
    assert not gc.is_tracked(big["items"])
    assert not gc.is_tracked(_buckets(big["map"]))
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


@given(st.integers(min_value=UNTRACK_FROM, max_value=200))
def test_untracked_containers_are_still_freed(size: int) -> None:
    box = _Box()
    watcher = weakref.ref(box)
    vector = [box] * size
    untrack(vector)
    del box, vector
    assert watcher() is None, "reference counting frees what the collector no longer walks"
