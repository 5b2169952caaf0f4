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
import reprlib
from collections.abc import Callable, Mapping, Sequence
from typing import Union

from pyrsistent import PMap, PVector, pmap, pvector

from stepfold.errors import InvalidValueError

__all__ = [
    "Value",
    "Params",
    "MAX_DEPTH",
    "MAX_SAFE_INTEGER",
    "MAX_STRING_LENGTH",
    "freeze",
    "freeze_map",
    "freeze_params",
    "freeze_entry",
    "thaw",
    "canonical_json",
    "values_equal",
    "values_identical",
    "format_path",
    "brief_repr",
]

Value = Union[None, bool, int, float, str, "PVector[Value]", "PMap[str, Value]"]
"""A frozen I-JSON value."""

Params = PMap[str, Value]
"""A frozen mapping of argument names to values (payloads, params, metadata)."""

MAX_SAFE_INTEGER = 2**53 - 1
"""The largest integer magnitude in the domain (RFC 7493 section 2.2)."""

MAX_DEPTH = 128
"""Deepest container nesting `freeze` accepts; deeper data is refused, never a RecursionError.

`thaw`, `canonical_json`, `values_equal` and `values_identical` walk values
that `freeze` made, plus the few levels stepfold wraps around them (an entry
`[key, value]`, a payload inside its step inside its workflow): they refuse
data nested deeper than `MAX_DEPTH + 16` levels with `InvalidValueError`.
"""

_WALK_DEPTH = MAX_DEPTH + 16

MAX_STRING_LENGTH = 16 * 1024 * 1024
"""Longest string (in characters, keys included) `freeze` accepts: 16 Mi characters.

A value describes a workflow's state, not a file's content; a longer string is a
blob that belongs elsewhere (store its digest or path). The bound keeps one
string's canonical encoding under ~100 MB (6 bytes per character at worst).
"""

_PATH_ENDS = 8  # a path deeper than 3 * 8 levels shows its first and last 8 segments
_PATH_KEY_CHARS = 64  # a longer key is abbreviated in error paths, so that a message stays short
_BRIEF_INT_BITS = 256  # a longer int is described by its size in messages, never converted to digits

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
    """Render a path such as `initial_state.tasks[3].due` from a root name and keys/indices.

    A key longer than 64 characters is shown by its first 32 and an ellipsis, and a path deeper
    than 24 levels by its first and last 8 around the count left out, so messages stay short.
    """
    out = [root]
    if len(segments) > 2 * _PATH_ENDS + _PATH_ENDS:
        hidden = len(segments) - 2 * _PATH_ENDS
        head, tail = segments[:_PATH_ENDS], segments[-_PATH_ENDS:]
        return f"{format_path(root, head)}…({hidden} levels)…{format_path('', tail)}"
    for seg in segments:
        if isinstance(seg, int):
            out.append(f"[{seg}]")
        elif len(seg) > _PATH_KEY_CHARS:
            out.append(f"[{_encode_str(seg[:32])[:-1]}…\"]")
        elif _IDENTIFIER.match(seg):
            out.append(f".{seg}")
        else:
            out.append(f"[{_encode_str(seg)}]")
    return "".join(out)


class _BriefRepr(reprlib.Repr):
    """`reprlib` with short strings and a size instead of the digits of a huge int."""

    def __init__(self) -> None:
        super().__init__()
        self.maxlevel = 3
        self.maxstring = 40
        self.maxother = 40
        self.maxlong = 40

    def repr_instance(self, x: object, level: int) -> str:
        try:
            text = repr(x)
        except Exception:  # a broken __repr__: name the type, never an address (messages are deterministic)
            return f"<{type(x).__qualname__} object>"
        if len(text) <= self.maxother:
            return text
        head = (self.maxother - 3) // 2
        return text[:head] + "..." + text[len(text) - (self.maxother - 3 - head):]

    def repr_int(self, x: int, level: int) -> str:
        if x.bit_length() > _BRIEF_INT_BITS:
            return f"<int of {x.bit_length()} bits>"
        return super().repr_int(x, level)


_BRIEF = _BriefRepr()


def brief_repr(obj: object) -> str:
    """A short, safe `repr` for error messages: never raises, never huge, never deeper than 3 levels."""
    try:
        return _BRIEF.repr(obj)
    except Exception:  # a broken __repr__ must not replace the error being reported
        return f"<{type(obj).__qualname__} object>"


def _describe_int(n: int) -> str:
    # str() of an int past 4300 digits raises ValueError (CPython's guard); name its size instead.
    return str(n) if n.bit_length() <= _BRIEF_INT_BITS else f"of {n.bit_length()} bits"


def _check_str(s: str) -> str:
    if len(s) > MAX_STRING_LENGTH:
        raise _Refusal(
            f"a string of {len(s)} characters is longer than MAX_STRING_LENGTH ({MAX_STRING_LENGTH})"
        )
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
        raise _Refusal(
            f"integer {_describe_int(obj)} is outside +-(2**53 - 1), which I-JSON cannot carry exactly"  # type: ignore[arg-type]
        )
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
        if type(key) is str and key.isascii() and len(key) <= MAX_STRING_LENGTH:
            name = key
        elif not isinstance(key, str):
            raise _Refusal(f"mapping keys must be strings, got {type(key).__name__} {brief_repr(key)}")
        else:
            try:
                name = _check_str(key if type(key) is str else str.__str__(key))
            except _Refusal as refusal:
                raise _Refusal(f"key {brief_repr(key)}: {refusal.message}") from None
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
    """`freeze(obj, path=<root>.<key>)` for a value one level inside a mapping (a state's entry): it may nest
    `MAX_DEPTH - 1` levels, exactly as inside `freeze({key: obj})`. The path is formatted only when something
    is refused (the hot path of `State.set`)."""
    try:
        return _freeze(obj, 1, set())
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


def freeze_params(value: object) -> Params:
    """A mission's params: `freeze_map(value, path="params")`, with `None` meaning no params."""
    return freeze_map({} if value is None else value, path="params")


def _too_deep() -> InvalidValueError:
    return InvalidValueError(f"value: nesting is deeper than {_WALK_DEPTH} levels (MAX_DEPTH is {MAX_DEPTH})")


def thaw(value: object) -> object:
    """Turn a frozen value back into plain `dict`/`list` data, keys in sorted order.

    The result is a fresh structure the caller may mutate; scalars are returned as is.
    Data nested deeper than `MAX_DEPTH`, or a mapping whose keys cannot be sorted,
    raises `InvalidValueError`.
    """
    return _thaw(value, 0)


def _thaw(value: object, depth: int) -> object:
    if isinstance(value, Mapping):
        if depth >= _WALK_DEPTH:
            raise _too_deep()
        try:
            keys = sorted(value)
        except TypeError:
            raise InvalidValueError(
                f"value: mapping keys must be strings, got {brief_repr(list(value))[:80]}"
            ) from None
        depth += 1
        return {key: _thaw(value[key], depth) for key in keys}
    if isinstance(value, (PVector, list, tuple)):
        if depth >= _WALK_DEPTH:
            raise _too_deep()
        depth += 1
        return [_thaw(item, depth) for item in value]
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


def _encode(value: object, depth: int) -> str:
    t = type(value)
    if t is str:
        return _encode_str(value)  # type: ignore[arg-type]
    if t is int:
        return int.__repr__(value)
    if t is PMap or t is dict:
        if depth >= _WALK_DEPTH:
            raise _too_deep()
        depth += 1
        return "{" + ",".join(
            _encode_str(key) + ":" + _encode(value[key], depth) for key in _sorted_keys(value)  # type: ignore[index,arg-type]
        ) + "}"
    if t is _PVECTOR_TYPE or t is list or t is tuple:
        if depth >= _WALK_DEPTH:
            raise _too_deep()
        depth += 1
        return "[" + ",".join([_encode(item, depth) for item in value]) + "]"  # type: ignore[attr-defined]
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, float) and t is float:
        return _encode_float(value)
    if isinstance(value, Mapping):
        if depth >= _WALK_DEPTH:
            raise _too_deep()
        depth += 1
        return "{" + ",".join(
            _encode_str(key) + ":" + _encode(value[key], depth) for key in _sorted_keys(value)
        ) + "}"
    if isinstance(value, (PVector, list, tuple)):
        if depth >= _WALK_DEPTH:
            raise _too_deep()
        depth += 1
        return "[" + ",".join([_encode(item, depth) for item in value]) + "]"
    if isinstance(value, (bool, int, float, str)):
        return _encode(freeze(value), depth)
    raise InvalidValueError(f"value: cannot encode {type(value).__name__} as canonical JSON")


def canonical_json(value: object) -> bytes:
    """The RFC 8785 (JCS) encoding of a value, as UTF-8 bytes.

    Pass frozen values (or plain data already in the domain); it does not
    re-validate number ranges, which `freeze` guarantees. What it cannot
    encode (an object, nesting deeper than `MAX_DEPTH`, an int too long to
    print, a lone surrogate, a key that is not a string) raises `InvalidValueError`.
    """
    try:
        return _encode(value, 0).encode("utf-8")
    except InvalidValueError:
        raise
    except (ValueError, TypeError, AttributeError) as exc:
        # int digits past CPython's limit, a lone surrogate (UnicodeEncodeError), a key that is not a str
        raise InvalidValueError(f"value: cannot encode as canonical JSON: {exc}") from None


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
        if depth >= _WALK_DEPTH:
            raise _too_deep()
        depth += 1
        for key in a:
            if key not in b or not _values_equal(a[key], b[key], depth):
                return False
        return True
    seq = (PVector, list, tuple)
    if isinstance(a, seq) and isinstance(b, seq):
        if len(a) != len(b):
            return False
        if depth >= _WALK_DEPTH:
            raise _too_deep()
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
        if depth >= _WALK_DEPTH:
            raise _too_deep()
        depth += 1
        return all(key in b and _values_identical(a[key], b[key], depth) for key in a)
    if isinstance(a, (PVector, list, tuple)):
        assert isinstance(b, (PVector, list, tuple))
        if len(a) != len(b):
            return False
        if depth >= _WALK_DEPTH:
            raise _too_deep()
        depth += 1
        return all(_values_identical(x, y, depth) for x, y in zip(a, b))
    return bool(a == b) and (not isinstance(a, float) or math.copysign(1, a) == math.copysign(1, b))  # type: ignore[arg-type]
