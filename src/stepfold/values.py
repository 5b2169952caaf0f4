"""The value domain (I-JSON, RFC 7493): `freeze`, `thaw`, canonical JSON (RFC 8785) and equality.

A value is `None`, `bool`, an `int` with |n| <= 2**53 - 1, a finite `float`, a
`str` of valid Unicode, a `PVector` of values or a `PMap` with `str` keys.
Every value has exactly one canonical encoding, `canonical_json`, and two
values are equal (`values_equal`) exactly when their encodings are.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Union

from pyrsistent import PMap, PVector, pmap, pvector

from stepfold.errors import InvalidValueError

__all__ = [
    "Value",
    "Params",
    "MAX_DEPTH",
    "MAX_SAFE_INTEGER",
    "freeze",
    "freeze_map",
    "freeze_entry",
    "thaw",
    "canonical_json",
    "values_equal",
    "values_identical",
    "format_path",
]

Value = Union[None, bool, int, float, str, "PVector[Value]", "PMap[str, Value]"]
"""A frozen I-JSON value."""

Params = PMap[str, Value]
"""A frozen mapping of argument names to values (payloads, params, metadata)."""

MAX_SAFE_INTEGER = 2**53 - 1
"""The largest integer magnitude in the domain (RFC 7493 section 2.2)."""

MAX_DEPTH = 128
"""Deepest container nesting `freeze` accepts; deeper data is refused, never a RecursionError."""

_PVECTOR_TYPE: type = type(pvector())  # the concrete (C) class; `PVector` itself is an ABC, slower to test against
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_encode_str: Callable[[str], str] = json.encoder.encode_basestring  # type: ignore[attr-defined,unused-ignore]


class _Refusal(Exception):
    """Internal: carries the path segments outward while the recursion unwinds."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
        self.segments: list[str | int] = []


def format_path(root: str, segments: Sequence[str | int]) -> str:
    """Render a path such as `initial_state.tasks[3].due` from a root name and keys/indices."""
    out = [root]
    for seg in segments:
        if isinstance(seg, int):
            out.append(f"[{seg}]")
        elif _IDENTIFIER.match(seg):
            out.append(f".{seg}")
        else:
            out.append(f"[{_encode_str(seg)}]")
    return "".join(out)


def _check_str(s: str) -> str:
    if not s.isascii():
        try:
            s.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise _Refusal(
                f"string contains a lone surrogate {s[exc.start]!r} at index {exc.start}, "
                "which is not valid Unicode"
            ) from None
    return s


def _freeze(obj: object, depth: int, active: set[int]) -> Value:
    t = type(obj)
    if t is str:
        return _check_str(obj)  # type: ignore[arg-type]
    if obj is None or t is bool:
        return obj  # type: ignore[return-value]
    if t is int:
        if -MAX_SAFE_INTEGER <= obj <= MAX_SAFE_INTEGER:  # type: ignore[operator]
            return obj  # type: ignore[return-value]
        raise _Refusal(f"integer {obj} is outside +-(2**53 - 1), which I-JSON cannot carry exactly")
    if t is float:
        if math.isfinite(obj):  # type: ignore[arg-type]
            return obj  # type: ignore[return-value]
        raise _Refusal(f"{obj} is not allowed (only finite numbers)")
    if t is dict or t is PMap:
        return _freeze_mapping(obj, depth, active)  # type: ignore[arg-type]
    if t is list or t is _PVECTOR_TYPE or t is tuple:
        return _freeze_sequence(obj, depth, active)  # type: ignore[arg-type]
    if isinstance(obj, Mapping):
        return _freeze_mapping(obj, depth, active)
    if isinstance(obj, (list, tuple, PVector)):
        return _freeze_sequence(obj, depth, active)
    # Subclasses of the scalar types (IntEnum, str subclasses) become their base value.
    if isinstance(obj, bool):
        return bool(obj)
    if isinstance(obj, int):
        return _freeze(int(obj), depth, active)
    if isinstance(obj, float):
        return _freeze(float(obj), depth, active)
    if isinstance(obj, str):
        return _check_str(str.__str__(obj))
    raise _Refusal(_describe_refused(obj))


def _describe_refused(obj: object) -> str:
    if isinstance(obj, (set, frozenset)):
        return f"a {type(obj).__name__} is not allowed (use a list)"
    if isinstance(obj, (bytes, bytearray, memoryview)):
        return f"{type(obj).__name__} is not allowed (encode it as a string, e.g. base64)"
    return (
        f"an object of type {type(obj).__module__}.{type(obj).__qualname__} is not allowed "
        "(only None, bool, int, float, str, lists and string-keyed mappings)"
    )


def _enter(obj: object, depth: int, active: set[int]) -> int:
    if depth >= MAX_DEPTH:
        raise _Refusal(f"nesting is deeper than {MAX_DEPTH} levels")
    oid = id(obj)
    if oid in active:
        raise _Refusal("a container contains itself (a cycle)")
    active.add(oid)
    return oid


def _freeze_mapping(obj: Mapping[object, object], depth: int, active: set[int]) -> PMap[str, Value]:
    oid = _enter(obj, depth, active)
    out: dict[str, Value] = {}
    unchanged = isinstance(obj, PMap)
    for key, item in obj.items():
        if type(key) is str and key.isascii():
            name = key
        elif not isinstance(key, str):
            raise _Refusal(f"mapping keys must be strings, got {type(key).__name__} {key!r}")
        else:
            try:
                name = _check_str(key if type(key) is str else str.__str__(key))
            except _Refusal as refusal:
                raise _Refusal(f"key {key!r}: {refusal.message}") from None
        try:
            frozen = _freeze(item, depth + 1, active)
        except _Refusal as refusal:
            refusal.segments.append(name)
            raise
        unchanged = unchanged and frozen is item
        out[name] = frozen
    active.discard(oid)
    if unchanged:
        return obj  # type: ignore[return-value]
    return pmap(out)


def _freeze_sequence(obj: Sequence[object], depth: int, active: set[int]) -> PVector[Value]:
    oid = _enter(obj, depth, active)
    out: list[Value] = []
    unchanged = isinstance(obj, PVector)
    for index, item in enumerate(obj):
        try:
            frozen = _freeze(item, depth + 1, active)
        except _Refusal as refusal:
            refusal.segments.append(index)
            raise
        unchanged = unchanged and frozen is item
        out.append(frozen)
    active.discard(oid)
    if unchanged:
        return obj  # type: ignore[return-value]
    return pvector(out)


def freeze(obj: object, *, path: str = "value") -> Value:
    """Turn plain data (dicts, lists, tuples, scalars) into the frozen value domain.

    Raises `InvalidValueError` naming the path (rooted at `path`) for anything
    outside I-JSON: NaN, inf, ints beyond 2**53-1, sets, bytes, objects,
    non-str keys, lone surrogates, cycles and nesting deeper than `MAX_DEPTH`.
    Frozen input that is already valid is returned as is (no copy).
    """
    try:
        return _freeze(obj, 0, set())
    except _Refusal as refusal:
        where = format_path(path, list(reversed(refusal.segments)))
        raise InvalidValueError(f"{where}: {refusal.message}") from None


def freeze_entry(root: str, key: str, obj: object) -> Value:
    """`freeze(obj, path=<root>.<key>)`, formatting the path only when something is refused (the hot path of `State.set`)."""
    try:
        return _freeze(obj, 0, set())
    except _Refusal as refusal:
        where = format_path(root, [key, *reversed(refusal.segments)])
        raise InvalidValueError(f"{where}: {refusal.message}") from None


def freeze_map(obj: object, *, path: str = "value") -> PMap[str, Value]:
    """Freeze a mapping with string keys; anything but a mapping raises `InvalidValueError`."""
    if not isinstance(obj, Mapping):
        raise InvalidValueError(
            f"{path}: expected a mapping with string keys, got {type(obj).__name__}"
        )
    frozen = freeze(obj, path=path)
    assert isinstance(frozen, PMap)
    return frozen


def thaw(value: object) -> object:
    """Turn a frozen value back into plain `dict`/`list` data, keys in sorted order.

    The result is a fresh structure the caller may mutate; scalars are returned as is.
    """
    if isinstance(value, Mapping):
        return {key: thaw(value[key]) for key in sorted(value)}
    if isinstance(value, (PVector, list, tuple)):
        return [thaw(item) for item in value]
    return value


def _utf16_order(key: str) -> bytes:
    return key.encode("utf-16-be", "surrogatepass")


def _sorted_keys(mapping: Mapping[str, object]) -> list[str]:
    keys = list(mapping)
    if all(key.isascii() for key in keys):
        keys.sort()
    else:
        # RFC 8785 section 3.2.3: order by UTF-16 code units, not code points.
        keys.sort(key=_utf16_order)
    return keys


def _encode_float(x: float) -> str:
    if x == 0:
        return "0"
    if x.is_integer() and abs(x) < 2**53:  # exact below 2**53; above it JCS wants the shortest digits
        return str(int(x))
    text = repr(abs(x))
    sign = "-" if x < 0 else ""
    if "e" in text:
        mantissa, _, exp_text = text.partition("e")
        exponent = int(exp_text)
    else:
        mantissa, exponent = text, 0
    whole, _, fraction = mantissa.partition(".")
    digits = whole + fraction
    point = len(whole) + exponent
    stripped = digits.lstrip("0")
    point -= len(digits) - len(stripped)
    digits = stripped.rstrip("0")
    k = len(digits)
    n = point
    # ECMAScript Number::toString, which RFC 8785 section 3.2.2.3 adopts.
    if k <= n <= 21:
        body = digits + "0" * (n - k)
    elif 0 < n <= 21:
        body = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        body = "0." + "0" * (-n) + digits
    else:
        e = n - 1
        exp = ("+" if e >= 0 else "-") + str(abs(e))
        body = (digits if k == 1 else digits[0] + "." + digits[1:]) + "e" + exp
    return sign + body


def _encode(value: object) -> str:
    t = type(value)
    if t is str:
        return _encode_str(value)  # type: ignore[arg-type]
    if t is int:
        return int.__repr__(value)
    if t is PMap or t is dict:
        return "{" + ",".join(
            _encode_str(key) + ":" + _encode(value[key]) for key in _sorted_keys(value)  # type: ignore[index,arg-type]
        ) + "}"
    if t is _PVECTOR_TYPE or t is list or t is tuple:
        return "[" + ",".join(map(_encode, value)) + "]"  # type: ignore[call-overload]
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, float) and t is float:
        return _encode_float(value)
    if isinstance(value, Mapping):
        return "{" + ",".join(
            _encode_str(key) + ":" + _encode(value[key]) for key in _sorted_keys(value)
        ) + "}"
    if isinstance(value, (PVector, list, tuple)):
        return "[" + ",".join(map(_encode, value)) + "]"
    if isinstance(value, (bool, int, float, str)):
        return _encode(freeze(value))
    raise InvalidValueError(f"value: cannot encode {type(value).__name__} as canonical JSON")


def canonical_json(value: object) -> bytes:
    """The RFC 8785 (JCS) encoding of a value, as UTF-8 bytes.

    Pass frozen values (or plain data already in the domain); it does not
    re-validate number ranges, which `freeze` guarantees.
    """
    return _encode(value).encode("utf-8")


def values_equal(a: object, b: object) -> bool:
    """Equality as the canonical encoding sees it: `True != 1` but `1 == 1.0`."""
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
        for key in a:
            if key not in b or not values_equal(a[key], b[key]):
                return False
        return True
    seq = (PVector, list, tuple)
    if isinstance(a, seq) and isinstance(b, seq):
        return len(a) == len(b) and all(values_equal(x, y) for x, y in zip(a, b))
    return False


def values_identical(a: object, b: object) -> bool:
    """Stricter than `values_equal`: also the same Python types throughout (`1` is not `1.0`)."""
    if a is b:
        return True
    if type(a) is not type(b):
        return False
    if isinstance(a, Mapping):
        assert isinstance(b, Mapping)
        return len(a) == len(b) and all(
            key in b and values_identical(a[key], b[key]) for key in a
        )
    if isinstance(a, (PVector, list, tuple)):
        assert isinstance(b, (PVector, list, tuple))
        return len(a) == len(b) and all(values_identical(x, y) for x, y in zip(a, b))
    return bool(a == b) and (not isinstance(a, float) or math.copysign(1, a) == math.copysign(1, b))  # type: ignore[arg-type]
