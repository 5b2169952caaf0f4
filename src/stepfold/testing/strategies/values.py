"""Strategies for values and states: `keys`, `scalars`, `values`, `states`.

Every value is frozen I-JSON that `freeze` returns unchanged; sizes are small
by default and everything shrinks towards the simplest case (`None`, the key
`"a"`, empty containers).
"""

from __future__ import annotations

from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy
from pyrsistent import PMap, PVector, pmap, pvector

from stepfold.errors import InvalidValueError
from stepfold.state import State
from stepfold.values import MAX_DEPTH, MAX_SAFE_INTEGER, Value

__all__ = ["COMMON_KEYS", "UNICODE", "bounded", "keys", "scalars", "values", "states"]

COMMON_KEYS = ("a", "b", "c", "count", "log")
"""Key names `keys()` prefers, so generated states and steps touch the same keys often."""

UNICODE = st.characters(codec="utf-8")
"""Every code point except lone surrogates."""

_MAX_VALUE_DEPTH = MAX_DEPTH // 2  # leaves room for the state, step and document levels around a value


def bounded(name: str, value: int, low: int, high: int | None = None) -> int:
    """`value` when it is an int in [low, high]; `InvalidValueError` naming the argument otherwise."""
    if type(value) is not int or value < low or (high is not None and value > high):
        limit = f"an int >= {low}" if high is None else f"an int in [{low}, {high}]"
        raise InvalidValueError(f"{name}: expected {limit}, got {value!r}")
    return value


def keys(*, max_size: int = 8) -> SearchStrategy[str]:
    """State and mapping keys: one of `COMMON_KEYS` or any valid Unicode text (possibly empty); shrinks to `"a"`."""
    bounded("keys(max_size)", max_size, 0)
    return st.one_of(st.sampled_from(COMMON_KEYS), st.text(UNICODE, max_size=max_size))


def scalars(*, max_str_size: int = 8) -> SearchStrategy[Value]:
    """Every kind of scalar in the domain: None, bool, ints within +-(2**53 - 1), finite floats, valid Unicode text."""
    bounded("scalars(max_str_size)", max_str_size, 0)
    return st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-MAX_SAFE_INTEGER, MAX_SAFE_INTEGER),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(UNICODE, max_size=max_str_size),
    )


def _truncate(value: Value, depth: int) -> Value:
    """The value with every container nested deeper than `depth` (>= 1) dropped, so no leaf or item is added."""
    if isinstance(value, PVector):
        return pvector([_truncate(item, depth - 1) for item in value if depth > 1 or not _is_container(item)])
    if isinstance(value, PMap):
        return pmap(
            {key: _truncate(item, depth - 1) for key, item in value.items() if depth > 1 or not _is_container(item)}
        )
    return value


def _is_container(value: Value) -> bool:
    return isinstance(value, (PVector, PMap))


def values(
    *,
    max_depth: int = 3,
    max_leaves: int = 10,
    max_size: int = 4,
    keys: SearchStrategy[str] | None = None,
    scalars: SearchStrategy[Value] | None = None,
) -> SearchStrategy[Value]:
    """Frozen I-JSON values: scalars, PVectors and str-keyed PMaps, with bounded nesting, leaves and container sizes.

    `max_depth` bounds container nesting (0: scalars only), `max_leaves` the
    scalars in one value, `max_size` the items in one container. Built on
    `st.recursive`, so it shrinks towards scalars and small containers.
    """
    bounded("values(max_depth)", max_depth, 0, _MAX_VALUE_DEPTH)
    bounded("values(max_leaves)", max_leaves, 1)
    bounded("values(max_size)", max_size, 0)
    leaves = _scalars() if scalars is None else scalars
    if max_depth == 0:
        return leaves
    names = _keys() if keys is None else keys

    def containers(children: SearchStrategy[Value]) -> SearchStrategy[Value]:
        return st.one_of(
            st.lists(children, max_size=max_size).map(_to_pvector),
            st.dictionaries(names, children, max_size=max_size).map(_to_pmap),
        )

    def limit_depth(value: Value) -> Value:
        return _truncate(value, max_depth)

    return st.recursive(leaves, containers, max_leaves=max_leaves).map(limit_depth)


def _to_pvector(items: list[Value]) -> Value:
    return pvector(items)


def _to_pmap(entries: dict[str, Value]) -> Value:
    return pmap(entries)


_keys = keys
_scalars = scalars
_values = values


def states(
    *,
    min_size: int = 0,
    max_size: int = 6,
    keys: SearchStrategy[str] | None = None,
    values: SearchStrategy[Value] | None = None,
) -> SearchStrategy[State]:
    """States of `min_size`..`max_size` entries with keys from `keys()` and values from `values()`."""
    bounded("states(min_size)", min_size, 0)
    bounded("states(max_size)", max_size, min_size)
    return st.dictionaries(
        _keys() if keys is None else keys,
        _values() if values is None else values,
        min_size=min_size,
        max_size=max_size,
    ).map(State)
