"""Walking frozen values back: `thaw` to plain data, and equality by content (`values_equal`) or by type too.

Each walker accepts data nested up to `values.WALK_DEPTH` levels (the
values `freeze` made, plus the few levels stepfold wraps around them) and
refuses deeper data with `InvalidValueError`, never a RecursionError.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from pyrsistent import PVector

from stepfold.errors import InvalidValueError
from stepfold.messages import brief_repr
from stepfold.values import WALK_DEPTH, too_deep

__all__ = ["thaw", "values_equal", "values_identical"]


def thaw(value: object) -> object:
    """Turn a frozen value back into plain `dict`/`list` data, keys in sorted order.

    The result is a fresh structure the caller may mutate; scalars are returned as is.
    Data nested deeper than `MAX_DEPTH`, or a mapping whose keys cannot be sorted,
    raises `InvalidValueError`.
    """
    return _thaw(value, 0)


def _thaw(value: object, depth: int) -> object:
    if isinstance(value, Mapping):
        if depth >= WALK_DEPTH:
            raise too_deep()
        try:
            keys = sorted(value)
        except TypeError:
            raise InvalidValueError(
                f"value: mapping keys must be strings, got {brief_repr(list(value))[:80]}"
            ) from None
        depth += 1
        return {key: _thaw(value[key], depth) for key in keys}
    if isinstance(value, (PVector, list, tuple)):
        if depth >= WALK_DEPTH:
            raise too_deep()
        depth += 1
        return [_thaw(item, depth) for item in value]
    return value


def values_equal(a: object, b: object) -> bool:
    """Equality as the canonical encoding sees it: `True != 1` but `1 == 1.0`.

    Containers nested deeper than `MAX_DEPTH` raise `InvalidValueError`.
    """
    return _values_equal(a, b, 0)


def _values_equal(a: object, b: object, depth: int) -> bool:
    if a is b:
        return True
    ta, tb = type(a), type(b)
    if ta is bool or tb is bool:
        return ta is tb and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if isinstance(a, str) or isinstance(b, str):
        return isinstance(a, str) and isinstance(b, str) and a == b
    if a is None or b is None:
        return False
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        if len(a) != len(b):
            return False
        if depth >= WALK_DEPTH:
            raise too_deep()
        depth += 1
        for key in a:
            if key not in b or not _values_equal(a[key], b[key], depth):
                return False
        return True
    seq = (PVector, list, tuple)
    if isinstance(a, seq) and isinstance(b, seq):
        if len(a) != len(b):
            return False
        if depth >= WALK_DEPTH:
            raise too_deep()
        depth += 1
        return all(_values_equal(x, y, depth) for x, y in zip(a, b))
    return False


def values_identical(a: object, b: object) -> bool:
    """Stricter than `values_equal`: also the same Python types throughout (`1` is not `1.0`).

    Containers nested deeper than `MAX_DEPTH` raise `InvalidValueError`.
    """
    return _values_identical(a, b, 0)


def _values_identical(a: object, b: object, depth: int) -> bool:
    if a is b:
        return True
    if type(a) is not type(b):
        return False
    if isinstance(a, Mapping):
        assert isinstance(b, Mapping)
        if len(a) != len(b):
            return False
        if depth >= WALK_DEPTH:
            raise too_deep()
        depth += 1
        return all(key in b and _values_identical(a[key], b[key], depth) for key in a)
    if isinstance(a, (PVector, list, tuple)):
        assert isinstance(b, (PVector, list, tuple))
        if len(a) != len(b):
            return False
        if depth >= WALK_DEPTH:
            raise too_deep()
        depth += 1
        return all(_values_identical(x, y, depth) for x, y in zip(a, b))
    return bool(a == b) and (not isinstance(a, float) or math.copysign(1, a) == math.copysign(1, b))  # type: ignore[arg-type]
