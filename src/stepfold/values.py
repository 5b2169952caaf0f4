"""The value domain (I-JSON, RFC 7493): `freeze`, the one way in, and what its walk checks.

A value is `None`, `bool`, an `int` with |n| <= 2**53 - 1, a finite `float`, a
`str` of valid Unicode, a `PVector` of values or a `PMap` with `str` keys.
Every value has exactly one canonical encoding (`stepfold.canonical`), and
two values are equal (`frozen.values_equal`) exactly when their encodings are;
`stepfold.frozen` thaws and compares frozen values.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Union

from pyrsistent import PMap, PVector, pvector

from stepfold.collector import frozen_map, untrack
from stepfold.errors import InvalidValueError
from stepfold.messages import brief_repr, describe_int, format_path

if TYPE_CHECKING:  # re-exported for callers that import them from here, as before `stepfold.frozen`
    from stepfold.frozen import thaw, values_equal, values_identical

_FROM_FROZEN = ("thaw", "values_equal", "values_identical")


def __getattr__(name: str) -> object:
    """`thaw`, `values_equal` and `values_identical`, from `stepfold.frozen` on first use (it imports this module)."""
    if name in _FROM_FROZEN:
        import stepfold.frozen

        return getattr(stepfold.frozen, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "Value",
    "Params",
    "MAX_DEPTH",
    "MAX_SAFE_INTEGER",
    "MAX_STRING_LENGTH",
    "freeze",
    "freeze_map",
    "freeze_map_plain",
    "freeze_params",
    "freeze_entry",
    "freeze_key",
    "lookup_contradicts",
    "thaw",
    "values_equal",
    "values_identical",
    "WALK_DEPTH",
    "too_deep",
    "entries",
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

WALK_DEPTH = MAX_DEPTH + 16
"""Deepest nesting the walkers (`thaw`, `canonical_json`, equality) accept."""

MAX_STRING_LENGTH = 16 * 1024 * 1024
"""Longest string (in characters, keys included) `freeze` accepts: 16 Mi characters.

A value describes a workflow's state, not a file's content; a longer string is a
blob that belongs elsewhere (store its digest or path). The bound keeps one
string's canonical encoding under ~100 MB (6 bytes per character at worst).
"""

_PVECTOR_TYPE: type = type(pvector())  # the concrete (C) class; `PVector` itself is an ABC, slower to test against

_NOT_PLAIN = -1
"""Put in a walk's `active` set (beside the ids of the containers being walked, which are never negative) once the
walk meets anything `canonical.plain_json` would not write as RFC 8785 does: a type other than an exact `dict`,
`list`, `tuple`, `str`, `int`, `bool` or None, a key that is not ASCII, or a float whose `repr` is not its JCS
text (an integral float, or one `repr` writes with an exponent)."""


class _Refusal(Exception):
    """Internal: carries the path segments outward while the recursion unwinds."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
        self.segments: list[str | int] = []


def _check_str(s: str) -> str:
    if len(s) > MAX_STRING_LENGTH:
        raise _Refusal(f"a string of {len(s)} characters is longer than MAX_STRING_LENGTH ({MAX_STRING_LENGTH})")
    if not s.isascii():
        try:
            s.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise _Refusal(
                f"string contains a lone surrogate {s[exc.start]!r} at index {exc.start}, which is not valid Unicode"
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
            f"integer {describe_int(obj)} is outside +-(2**53 - 1), which I-JSON cannot carry exactly"  # type: ignore[arg-type]
        )
    if t is float:
        number: float = obj  # type: ignore[assignment]
        if math.isfinite(number):
            # repr writes 1e-4 <= |x| < 1e16 without an exponent, with the digits JCS writes; JCS writes 1.0 as 1
            if number.is_integer() or not 1e-4 <= abs(number) < 1e16:
                active.add(_NOT_PLAIN)
            return number
        raise _Refusal(f"{obj} is not allowed (only finite numbers)")
    if t is dict or t is PMap:
        return _freeze_mapping(obj, depth, active)  # type: ignore[arg-type]
    if t is list or t is _PVECTOR_TYPE or t is tuple:
        return _freeze_sequence(obj, depth, active)  # type: ignore[arg-type]
    active.add(_NOT_PLAIN)  # a subclass, another mapping or sequence type, or a refused object
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


def _key(key: object) -> str:
    if type(key) is str and key.isascii() and len(key) <= MAX_STRING_LENGTH:
        return key
    if not isinstance(key, str):
        raise _Refusal(f"mapping keys must be strings, got {type(key).__name__} {brief_repr(key)}")
    try:
        return _check_str(key if type(key) is str else str.__str__(key))
    except _Refusal as refusal:
        raise _Refusal(f"key {brief_repr(key)}: {refusal.message}") from None


def _freeze_mapping(obj: Mapping[object, object], depth: int, active: set[int]) -> PMap[str, Value]:
    oid = _enter(obj, depth, active)
    out: dict[str, Value] = {}
    unchanged = isinstance(obj, PMap)
    if type(obj) is not dict:
        active.add(_NOT_PLAIN)
    try:
        for key, item in obj.items():
            if type(key) is str and key.isascii() and len(key) <= MAX_STRING_LENGTH:  # most keys: no call
                name = key
            else:
                active.add(_NOT_PLAIN)  # JCS orders keys by UTF-16 code units, sort_keys by code points
                name = _key(key)
            try:
                frozen = _freeze(item, depth + 1, active)
            except _Refusal as refusal:
                refusal.segments.append(name)
                raise
            unchanged = unchanged and frozen is item
            out[name] = frozen
    except KeyError as exc:  # a Mapping whose lookup contradicts its own keys (a nested one's is a _Refusal by now)
        raise _Refusal(lookup_contradicts(obj, exc)) from None
    active.discard(oid)
    if unchanged:
        return obj  # type: ignore[return-value]
    return frozen_map(out)


def lookup_contradicts(mapping: object, exc: KeyError) -> str:
    """Why a Mapping that lists a key its own lookup does not find is refused (its `items()` raised `exc`)."""
    return f"a {type(mapping).__name__} that lists the key {exc} but raises KeyError looking it up"


def _freeze_sequence(obj: Sequence[object], depth: int, active: set[int]) -> PVector[Value]:
    oid = _enter(obj, depth, active)
    out: list[Value] = []
    unchanged = isinstance(obj, PVector)
    if type(obj) is not list and type(obj) is not tuple:  # a PVector (the C encoder cannot write one) or a subclass
        active.add(_NOT_PLAIN)
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
    vector: PVector[Value] = pvector(out)
    untrack(vector)  # frozen values hold no cycle: nothing for the collector to walk (stepfold.collector)
    return vector


def freeze(obj: object, *, path: str = "value") -> Value:
    """Turn plain data (dicts, lists, tuples, scalars) into the frozen value domain.

    Raises `InvalidValueError` naming the path (rooted at `path`) for anything
    outside I-JSON: NaN, inf, ints beyond 2**53-1, sets, bytes, objects,
    non-str keys, lone surrogates, cycles and nesting deeper than `MAX_DEPTH`.
    Frozen input that is already valid is returned as is (no copy).

    >>> freeze({"a": [1, 2]})
    pmap({'a': pvector([1, 2])})
    >>> freeze({"tasks": [{"due": float("nan")}]}, path="initial_state")
    Traceback (most recent call last):
        ...
    stepfold.errors.InvalidValueError: initial_state.tasks[0].due: nan is not allowed (only finite numbers)
    """
    return _freeze_at(obj, path, set())


def _freeze_at(obj: object, path: str, active: set[int]) -> Value:
    try:
        return _freeze(obj, 0, active)
    except _Refusal as refusal:
        where = format_path(path, list(reversed(refusal.segments)))
        raise InvalidValueError(f"{where}: {refusal.message}") from None


def freeze_entry(root: str, key: str, obj: object, *, within: object = None) -> tuple[Value, bool]:
    """`freeze(obj, path=<root>.<key>)` for a value one level inside a mapping (a state's entry), and whether `obj`
    is plain JSON data: True when `canonical.plain_json(obj)` is the RFC 8785 text of the frozen value (exact
    dicts, lists and tuples with ASCII keys, strings, ints, bools, None, and floats that `repr` writes as JCS does).

    The value may nest `MAX_DEPTH - 1` levels, exactly as inside `freeze({key: obj})`; `within`, the mapping
    that holds it, counts as being walked (a value that contains it is a cycle). The path is formatted only when
    something is refused (the hot path of `State.set`)."""
    active: set[int] = set() if within is None else {id(within)}
    try:
        frozen = _freeze(obj, 1, active)
    except _Refusal as refusal:
        where = format_path(root, [key, *reversed(refusal.segments)])
        raise InvalidValueError(f"{where}: {refusal.message}") from None
    return frozen, _NOT_PLAIN not in active


def freeze_key(root: str, key: object) -> str:
    """A mapping's key as `freeze` checks it inside `root` (a string; an ASCII `str` is returned as it is)."""
    try:
        return _key(key)
    except _Refusal as refusal:
        raise InvalidValueError(f"{root}: {refusal.message}") from None


def freeze_map(obj: object, *, path: str = "value") -> PMap[str, Value]:
    """Freeze a mapping with string keys; anything but a mapping raises `InvalidValueError`."""
    return freeze_map_plain(obj, path=path)[0]


def freeze_map_plain(obj: object, *, path: str) -> tuple[PMap[str, Value], bool]:
    """`freeze_map(obj)`, and whether `obj` is plain JSON data (see `freeze_entry`): then `canonical.plain_json(obj)`
    is the RFC 8785 text of the frozen map."""
    if not isinstance(obj, Mapping):
        raise InvalidValueError(f"{path}: expected a mapping with string keys, got {type(obj).__name__}")
    active: set[int] = set()
    frozen = _freeze_at(obj, path, active)
    assert isinstance(frozen, PMap)
    return frozen, _NOT_PLAIN not in active


def freeze_params(value: object) -> Params:
    """A mission's params: `freeze_map(value, path="params")`, with `None` meaning no params."""
    return freeze_map({} if value is None else value, path="params")


def entries(mapping: Mapping[str, Value]) -> list[tuple[str, Value]]:
    """A mapping's (key, value) pairs, in no particular order; a `PMap`'s read straight from its buckets (no lookups)."""
    buckets = getattr(mapping, "_buckets", None) if type(mapping) is PMap else None
    if buckets is not None:
        return [item for bucket in buckets if bucket for item in bucket]
    return list(mapping.items())


def too_deep() -> InvalidValueError:
    """The error a walker raises for data nested deeper than `WALK_DEPTH`."""
    return InvalidValueError(f"value: nesting is deeper than {WALK_DEPTH} levels (MAX_DEPTH is {MAX_DEPTH})")
