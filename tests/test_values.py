"""The value domain: `freeze`/`thaw`, canonical JSON (RFC 8785) and `values_equal`.

Property tests check the laws (round trip, idempotence, refusal with the exact
path, agreement with the `rfc8785` package as an independent oracle); example
tests pin the documented behaviour and the exact boundaries.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from enum import Enum, IntEnum
from typing import Any

import pytest
import rfc8785
from hypothesis import example, given
from hypothesis import strategies as st
from pyrsistent import PMap, PVector, pmap, pvector

from stepfold import MAX_DEPTH, InvalidValueError, StepfoldError, canonical_json, freeze, thaw, values_equal
from stepfold.values import MAX_SAFE_INTEGER, values_identical
from tests.strategies import keys, plain_values

# Strategies local to this module ---------------------------------------------

_ASCII_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

_key_chars = st.one_of(
    st.characters(min_codepoint=0x20, max_codepoint=0x7E),
    st.characters(min_codepoint=0x80, max_codepoint=0xD7FF),
    # U+E000..U+FFFF sort *after* astral characters in UTF-16 order but before them by code point.
    st.characters(min_codepoint=0xE000, max_codepoint=0xFFFF),
    st.characters(min_codepoint=0x10000, max_codepoint=0x10FFFF),
)
jcs_keys = st.text(_key_chars, max_size=4)
"""Keys that make UTF-16 and code-point order disagree."""

_any_char = st.characters(codec="utf-8")  # any valid Unicode: no lone surrogates
_string_chars = st.one_of(
    st.characters(min_codepoint=0x00, max_codepoint=0x1F),  # control characters
    st.sampled_from(['"', "\\", "/", "\x7f", "\u2028", "\u2029", "\ufeff", "\U0001f600"]),
    _any_char,
)
jcs_strings = st.text(_string_chars, max_size=10)
"""Strings full of characters that JSON must (or must not) escape."""

jcs_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-MAX_SAFE_INTEGER, MAX_SAFE_INTEGER),
    st.floats(allow_nan=False, allow_infinity=False),  # every magnitude, subnormals included
    st.floats(allow_nan=False, allow_infinity=False, min_value=1e-9, max_value=1e23),
    jcs_strings,
)

jcs_values = st.recursive(
    jcs_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(jcs_keys, children, max_size=6)
    ),
    max_leaves=16,
)
"""Plain data in the domain, aimed at the corners of RFC 8785."""

# A tiny scalar space, so independently drawn values are often equal.
_few_scalars = st.sampled_from(
    [None, True, False, 0, 1, -1, 0.0, -0.0, 1.0, 0.5, "", "1", "a", MAX_SAFE_INTEGER, float(MAX_SAFE_INTEGER)]
)
_few_values = st.recursive(
    _few_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=2), st.dictionaries(st.sampled_from(["a", "b"]), children, max_size=2)
    ),
    max_leaves=5,
)


@st.composite
def _twin(draw: st.DrawFn, value: object) -> object:
    """A value that is often canonically equal to `value` but built differently (types, order, containers)."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return draw(st.sampled_from([value, value, int(value) if isinstance(value, bool) else value]))
    if isinstance(value, int):
        return draw(st.sampled_from([value, float(value)]))
    if isinstance(value, float):
        if value.is_integer() and abs(value) <= MAX_SAFE_INTEGER:
            return draw(st.sampled_from([value, int(value), -value]))
        return value
    if isinstance(value, dict):
        twins: list[tuple[str, object]] = [(k, draw(_twin(v))) for k, v in value.items()]
        items: list[tuple[str, object]] = draw(st.permutations(twins))
        drop: bool = draw(st.booleans())
        if items and drop:
            items = items[:-1]
        return draw(st.sampled_from([dict(items), pmap(dict(items))]))
    assert isinstance(value, list)
    twin = [draw(_twin(v)) for v in value]
    return draw(st.sampled_from([twin, tuple(twin), pvector(twin)]))


# Bad leaves: (kind, factory). A "key" is planted as a key of a mapping at the path.
_BAD_LEAVES: list[tuple[str, Callable[[], object]]] = [
    ("value", lambda: math.nan),
    ("value", lambda: math.inf),
    ("value", lambda: -math.inf),
    ("value", lambda: 2**53),
    ("value", lambda: -(2**53)),
    ("value", lambda: 10**30),
    ("value", lambda: set()),
    ("value", lambda: {1, 2}),
    ("value", lambda: frozenset()),
    ("value", lambda: b"bytes"),
    ("value", lambda: bytearray(b"x")),
    ("value", lambda: object()),
    ("value", lambda: "\ud800"),
    ("value", lambda: "ok\udfffok"),
    ("key", lambda: 3),
    ("key", lambda: None),
    ("key", lambda: (1, 2)),
    ("key", lambda: 1.5),
    ("key", lambda: "\ud800"),
    ("key", lambda: "x\udbff"),
]

_path_keys = st.one_of(
    st.sampled_from(["tasks", "due", "a b", "", "é", "x1", "_", "1x", 'q"uote', "back\\slash", "new\nline", "\U0001f600"]),
    keys,
)


def _render_path(root: str, segments: list[str | int]) -> str:
    """The documented path syntax, computed independently: `.name`, `["not an identifier"]`, `[index]`."""
    out = root
    for seg in segments:
        if isinstance(seg, int):
            out += f"[{seg}]"
        elif _ASCII_IDENTIFIER.fullmatch(seg):
            out += f".{seg}"
        else:
            out += f"[{json.dumps(seg, ensure_ascii=False)}]"
    return out


@st.composite
def _data_with_a_bad_leaf(draw: st.DrawFn) -> tuple[object, str]:
    """Valid plain data with one bad leaf planted at a random path, and the path the error must name."""
    segments: list[str | int] = draw(
        st.lists(st.one_of(_path_keys, st.integers(0, 3)), max_size=5)
    )
    kind, factory = draw(st.sampled_from(_BAD_LEAVES))
    node: object
    if kind == "value":
        node = factory()
    else:
        siblings: dict[object, object] = dict(draw(st.dictionaries(keys, plain_values, max_size=3)))
        siblings[factory()] = draw(plain_values)
        node = siblings
    for seg in reversed(segments):
        if isinstance(seg, int):
            before = draw(st.lists(plain_values, min_size=seg, max_size=seg))
            after = draw(st.lists(plain_values, max_size=2))
            items = [*before, node, *after]
            node = items if draw(st.booleans()) else tuple(items)
        else:
            others: dict[str, object] = draw(st.dictionaries(keys, plain_values, max_size=3))
            mapping = {k: v for k, v in others.items() if k != seg}
            mapping[seg] = node
            node = mapping
    return node, _render_path("initial_state", segments)


# Property tests ----------------------------------------------------------------


@given(plain_values)
def test_freeze_thaw_round_trip(x: object) -> None:
    frozen = freeze(x)
    back = thaw(frozen)
    assert back == x
    assert values_identical(back, x)  # same Python types throughout, not just loosely equal
    assert freeze(frozen) is frozen
    assert freeze(back) == frozen


@given(_data_with_a_bad_leaf())
def test_freeze_refuses_everything_outside_the_domain(case: tuple[object, str]) -> None:
    data, where = case
    with pytest.raises(InvalidValueError) as info:
        freeze(data, path="initial_state")
    message = str(info.value)
    assert message.startswith(f"{where}: "), (message, where)
    assert len(message) > len(where) + 2  # says what was wrong, not just where


@given(jcs_values)
@example({"\ue000": 1, "\U0001f600": 2, "\uffff": 3, "\U00010000": 4, "a": 5, "\x7f": 6, "\x80": 7})
@example([1e21, 1e20, 1e-7, 1e-6, 5e-324, 1.7976931348623157e308, -0.0, 0.1, 333333333.3333333])
@example({"s": "\x00\x01\x08\t\n\x0b\x0c\r\x1f\"\\/\x7f\u2028"})
def test_canonical_json_matches_rfc8785(x: Any) -> None:
    expected = rfc8785.dumps(x)
    assert canonical_json(x) == expected
    assert canonical_json(freeze(x)) == expected


@given(_few_values.flatmap(lambda a: st.tuples(st.just(a), st.one_of(_few_values, _twin(a)))))
def test_values_equal_agrees_with_canonical_encoding(pair: tuple[object, object]) -> None:
    a, b = pair
    same = canonical_json(a) == canonical_json(b)
    assert values_equal(a, b) == same
    assert values_equal(b, a) == same
    assert values_equal(freeze(a), freeze(b)) == same


# Examples: documented behaviour ---------------------------------------------------


def test_documented_error_message_for_nan() -> None:
    data = {"tasks": [{}, {}, {}, {"id": "t3", "due": math.nan}]}
    with pytest.raises(InvalidValueError) as info:
        freeze(data, path="initial_state")
    assert str(info.value).startswith("initial_state.tasks[3].due: nan is not allowed")
    assert str(info.value) == "initial_state.tasks[3].due: nan is not allowed (only finite numbers)"


def test_default_root_is_value() -> None:
    with pytest.raises(InvalidValueError, match=r"^value\[1\]: inf is not allowed"):
        freeze([0, math.inf])


@pytest.mark.parametrize(
    ("bad", "fragment"),
    [
        (math.nan, "nan is not allowed"),
        (-math.inf, "-inf is not allowed"),
        (2**53, "outside"),
        (-(2**53), "outside"),
        ({1}, "a set is not allowed"),
        (frozenset(), "a frozenset is not allowed"),
        (b"x", "bytes is not allowed"),
        (object(), "builtins.object is not allowed"),
        ("\ud800", "lone surrogate"),
    ],
)
def test_refusals_say_what_is_wrong(bad: object, fragment: str) -> None:
    with pytest.raises(InvalidValueError) as info:
        freeze({"k": bad}, path="p")
    assert str(info.value).startswith("p.k: ")
    assert fragment in str(info.value)


def test_integer_boundary_is_inclusive() -> None:
    assert freeze(MAX_SAFE_INTEGER) == 2**53 - 1
    assert freeze(-MAX_SAFE_INTEGER) == -(2**53) + 1
    assert freeze(float(2**53)) == float(2**53)  # floats are finite numbers, whatever their size


def test_non_string_keys_are_refused_naming_the_mapping() -> None:
    for bad_key in (3, None, (1, 2)):
        with pytest.raises(InvalidValueError) as info:
            freeze({"outer": {bad_key: 1}}, path="initial_state")
        assert str(info.value).startswith("initial_state.outer: mapping keys must be strings")
    with pytest.raises(InvalidValueError, match=r"^initial_state\.outer: key '\\ud800': .*lone surrogate"):
        freeze({"outer": {"\ud800": 1}}, path="initial_state")


def test_cycles_are_refused() -> None:
    loop: list[object] = [1]
    loop.append(loop)
    with pytest.raises(InvalidValueError, match="cycle") as info:
        freeze(loop)
    assert str(info.value).startswith("value[1]: ")

    mapping: dict[str, object] = {"a": 1}
    mapping["self"] = mapping
    with pytest.raises(InvalidValueError, match="cycle") as info:
        freeze({"wrap": [mapping]}, path="state")
    assert str(info.value).startswith("state.wrap[0].self: ")


def test_shared_substructure_is_not_a_cycle() -> None:
    shared = [1, {"x": 2}]
    frozen = freeze({"a": shared, "b": [shared, shared]})
    assert thaw(frozen) == {"a": shared, "b": [shared, shared]}


def _nested_lists(levels: int) -> object:
    """`levels` lists nested inside each other; the innermost is empty."""
    node: object = []
    for _ in range(levels - 1):
        node = [node]
    return node


def _nested_dicts(levels: int) -> object:
    node: object = {}
    for _ in range(levels - 1):
        node = {"d": node}
    return node


def test_nesting_boundary_is_max_depth_containers() -> None:
    # MAX_DEPTH (128) nested containers are accepted; one more is refused at the innermost one.
    assert MAX_DEPTH == 128
    assert thaw(freeze(_nested_lists(MAX_DEPTH))) == _nested_lists(MAX_DEPTH)
    assert thaw(freeze(_nested_dicts(MAX_DEPTH))) == _nested_dicts(MAX_DEPTH)
    with pytest.raises(InvalidValueError) as info:
        freeze(_nested_lists(MAX_DEPTH + 1))
    # the path of 128 levels is shown by its first and last 8 around the count left out
    assert str(info.value) == "value" + "[0]" * 8 + "…(112 levels)…" + "[0]" * 8 + f": nesting is deeper than {MAX_DEPTH} levels"
    with pytest.raises(InvalidValueError) as info:
        freeze(_nested_dicts(MAX_DEPTH + 1), path="s")
    assert str(info.value) == "s" + ".d" * 8 + "…(112 levels)…" + ".d" * 8 + f": nesting is deeper than {MAX_DEPTH} levels"
    # Scalars at the bottom do not count as a level.
    deepest: object = 7
    for _ in range(MAX_DEPTH):
        deepest = [deepest]
    freeze(deepest)


def test_absurd_nesting_is_refused_not_a_recursion_error() -> None:
    with pytest.raises(InvalidValueError, match="nesting is deeper than"):
        freeze(_nested_lists(100_000))
    with pytest.raises(InvalidValueError, match="nesting is deeper than"):
        freeze(_nested_dicts(100_000))


@pytest.mark.parametrize(
    ("key", "rendered"),
    [
        ("a b", 'state["a b"]'),
        ("", 'state[""]'),
        ("1x", 'state["1x"]'),
        ("é", 'state["é"]'),
        ('q"', 'state["q\\""]'),
        ("a-b", 'state["a-b"]'),
        ("_ok1", "state._ok1"),
        ("Tasks", "state.Tasks"),
    ],
)
def test_keys_that_are_not_identifiers_are_quoted(key: str, rendered: str) -> None:
    with pytest.raises(InvalidValueError) as info:
        freeze({key: math.nan}, path="state")
    assert str(info.value).startswith(rendered + ": ")


def test_values_equal_follows_json_not_python() -> None:
    assert not values_equal(True, 1)
    assert not values_equal(1, True)
    assert not values_equal(False, 0)
    assert not values_equal(False, 0.0)
    assert values_equal(1, 1.0)
    assert values_equal(0, -0.0)
    assert values_equal({"a": [1, {"b": 2}]}, {"a": [1.0, {"b": 2.0}]})
    assert not values_equal({"a": [True]}, {"a": [1]})
    assert not values_equal(None, 0)
    assert not values_equal("1", 1)
    assert not values_equal([], {})
    assert values_equal(freeze({"a": [1]}), {"a": (1.0,)})
    assert canonical_json(True) != canonical_json(1)
    assert canonical_json(1) == canonical_json(1.0) == b"1"


def test_thaw_returns_fresh_mutable_data_with_sorted_keys() -> None:
    frozen = freeze({"b": [1, {"d": 1, "c": 2}], "a": None, "\U0001f600": 0, "é": 1})
    assert isinstance(frozen, PMap)
    thawed = thaw(frozen)
    assert isinstance(thawed, dict) and type(thawed) is dict
    assert list(thawed) == ["a", "b", "é", "\U0001f600"]
    inner = thawed["b"]
    assert type(inner) is list and type(inner[1]) is dict
    assert list(inner[1]) == ["c", "d"]
    again = thaw(frozen)
    assert isinstance(again, dict)
    assert again is not thawed and again["b"] is not inner
    inner.append("mutated")
    inner[1]["e"] = 3
    thawed["z"] = 1
    assert thaw(frozen) == {"a": None, "b": [1, {"c": 2, "d": 1}], "é": 1, "\U0001f600": 0}
    assert isinstance(frozen["b"], PVector) and len(frozen["b"]) == 2
    assert thaw(3) == 3 and thaw("s") == "s" and thaw(None) is None


def test_freeze_returns_persistent_structures_and_keeps_frozen_input() -> None:
    frozen = freeze({"a": [1, (2, 3)], "b": {"c": True}})
    assert isinstance(frozen, PMap)
    assert isinstance(frozen["a"], PVector) and isinstance(frozen["a"][1], PVector)
    assert isinstance(frozen["b"], PMap)
    assert freeze(frozen) is frozen
    assert freeze(True) is True and type(freeze(1.0)) is float


def test_invalid_value_error_is_a_value_error_and_a_stepfold_error() -> None:
    assert issubclass(InvalidValueError, ValueError)
    assert issubclass(InvalidValueError, StepfoldError)
    with pytest.raises(ValueError):
        freeze(math.nan)
    with pytest.raises(StepfoldError):
        freeze(math.nan)


@pytest.mark.parametrize(
    ("number", "encoded"),
    [
        (0.0, b"0"),
        (-0.0, b"0"),
        (1.0, b"1"),
        (4.5, b"4.5"),
        (2e-3, b"0.002"),
        (1e-6, b"0.000001"),
        (1e-7, b"1e-7"),
        (1e-27, b"1e-27"),
        (1e20, b"100000000000000000000"),
        (1e21, b"1e+21"),
        (1e30, b"1e+30"),
        (5e-324, b"5e-324"),
        (1.7976931348623157e308, b"1.7976931348623157e+308"),
        (-1.5e-9, b"-1.5e-9"),
        (333333333.3333333, b"333333333.3333333"),
        (9007199254740992.0, b"9007199254740992"),
    ],
)
def test_canonical_json_numbers(number: float, encoded: bytes) -> None:
    assert canonical_json(number) == encoded


def test_canonical_json_orders_keys_by_utf16_code_units() -> None:
    value = {"\ue000": 1, "\U0001f600": 2, "a": 3}
    # U+1F600 is the surrogate pair D83D DE00, which sorts before E000 in UTF-16.
    assert canonical_json(value) == '{"a":3,"\U0001f600":2,"\ue000":1}'.encode()


class _Level(IntEnum):
    HIGH = 2


class _Colour(str, Enum):
    RED = "red"


def test_int_subclasses_freeze_to_their_value() -> None:
    frozen = freeze({"level": _Level.HIGH})
    assert isinstance(frozen, PMap)
    assert frozen["level"] == 2 and type(frozen["level"]) is int
    assert canonical_json(_Level.HIGH) == b"2"


def test_str_subclasses_freeze_to_their_value() -> None:
    frozen = freeze({_Colour.RED: _Colour.RED})
    assert thaw(frozen) == {"red": "red"}
    assert canonical_json(_Colour.RED) == rfc8785.dumps(_Colour.RED) == b'"red"'
