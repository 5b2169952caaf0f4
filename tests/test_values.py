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
from types import MappingProxyType
from typing import Any

import pytest
import rfc8785
from hypothesis import example, given
from hypothesis import strategies as st
from pyrsistent import PMap, PVector, pmap, pvector

from stepfold import (
    MAX_DEPTH,
    InvalidValueError,
    State,
    StepfoldError,
    canonical,
    canonical_json,
    freeze,
    thaw,
    values_equal,
)
from stepfold.canonical import plain_json
from stepfold.frozen import values_identical
from stepfold.messages import brief_repr
from stepfold.values import MAX_SAFE_INTEGER, freeze_entry, freeze_map
from tests.bad_input_catalogue import LyingMapping
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
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(jcs_keys, children, max_size=6)),
    max_leaves=16,
)
"""Plain data in the domain, aimed at the corners of RFC 8785."""

# A tiny scalar space, so independently drawn values are often equal.


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
    st.sampled_from(
        ["tasks", "due", "a b", "", "é", "x1", "_", "1x", 'q"uote', "back\\slash", "new\nline", "\U0001f600"]
    ),
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
    segments: list[str | int] = draw(st.lists(st.one_of(_path_keys, st.integers(0, 3)), max_size=5))
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
@example({"s": '\x00\x01\x08\t\n\x0b\x0c\r\x1f"\\/\x7f\u2028'})
def test_canonical_json_matches_rfc8785(x: Any) -> None:
    expected = rfc8785.dumps(x)
    assert canonical_json(x) == expected
    assert canonical_json(freeze(x)) == expected


_PLAIN_CORNERS = [1e-4, 9.999999999999999e-5, 1e16, 9999999999999998.0, 1e15 + 0.5, 0.1, -0.0, 1.0, 5e-324, 1e21]


@given(st.one_of(jcs_values, st.lists(jcs_values, max_size=3).map(tuple)))
@example(_PLAIN_CORNERS)
@example({"\ue000": 1, "\U0001f600": 2, "a": [0.5, "\x00\u2028"]})
@example({"s": '\x00\x01\x08\t\n\x0b\x0c\r\x1f"\\/\x7f\u2028'})
def test_plain_json_is_the_canonical_encoding_of_what_freeze_entry_calls_plain(x: Any) -> None:
    frozen, plain = freeze_entry("state", "k", x)
    expected = rfc8785.dumps(["k", x])
    assert canonical_json(["k", frozen]) == expected
    if plain:
        assert plain_json(["k", x]) == expected


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


def test_a_mapping_whose_lookup_contradicts_its_keys_is_refused_naming_where() -> None:
    message = "a LyingMapping that lists the key 'a' but raises KeyError looking it up"
    with pytest.raises(InvalidValueError) as info:
        freeze({"x": [LyingMapping()]})
    assert str(info.value) == f"value.x[0]: {message}"
    for source, where in [(LyingMapping(), "state"), ({"x": LyingMapping()}, "state.x")]:
        with pytest.raises(InvalidValueError) as info:
            State(source)
        assert str(info.value) == f"{where}: {message}"


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
    assert (
        str(info.value)
        == "value" + "[0]" * 8 + "…(112 levels)…" + "[0]" * 8 + f": nesting is deeper than {MAX_DEPTH} levels"
    )
    with pytest.raises(InvalidValueError) as info:
        freeze(_nested_dicts(MAX_DEPTH + 1), path="s")
    assert (
        str(info.value) == "s" + ".d" * 8 + "…(112 levels)…" + ".d" * 8 + f": nesting is deeper than {MAX_DEPTH} levels"
    )
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


class _Colour(str, Enum):  # noqa: UP042 - a str mixin enum, as users write them, not StrEnum
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


class _Opaque:
    """A user class outside the value domain."""


def test_refusing_an_object_names_its_module_and_class_and_the_domain() -> None:
    with pytest.raises(InvalidValueError) as info:
        freeze({"k": _Opaque()}, path="p")
    assert str(info.value) == (
        f"p.k: an object of type {__name__}._Opaque is not allowed "
        "(only None, bool, int, float, str, lists and string-keyed mappings)"
    )


# Walk depth: every container kind counts one level -------------------------------------------

_WALK_LIMIT = MAX_DEPTH + 16


class _Items(list):  # type: ignore[type-arg]
    """A list subclass: encoded and compared like a list."""


def _nested(levels: int, wrap: Callable[[object], object]) -> object:
    node = wrap(0)
    for _ in range(levels - 1):
        node = wrap(node)
    return node


_CONTAINERS: dict[str, Callable[[object], object]] = {
    "dict": lambda inner: {"a": inner},
    "pmap": lambda inner: pmap({"a": inner}),
    "mapping": lambda inner: MappingProxyType({"a": inner}),
    "list subclass": lambda inner: _Items([inner]),
}


@pytest.mark.parametrize("kind", sorted(_CONTAINERS))
def test_walkers_take_exactly_the_walk_limit_of_any_container(kind: str) -> None:
    wrap = _CONTAINERS[kind]
    fits, too_deep = _nested(_WALK_LIMIT, wrap), _nested(_WALK_LIMIT + 1, wrap)
    mapping = kind != "list subclass"
    opening, closing = ('{"a":', "}") if mapping else ("[", "]")
    assert canonical_json(fits) == (opening * _WALK_LIMIT + "0" + closing * _WALK_LIMIT).encode()
    assert values_equal(fits, _nested(_WALK_LIMIT, wrap)) and values_identical(fits, _nested(_WALK_LIMIT, wrap))
    walks: list[Callable[[object], object]] = [
        canonical_json,
        lambda v: values_equal(v, _nested(_WALK_LIMIT + 1, wrap)),
        lambda v: values_identical(v, _nested(_WALK_LIMIT + 1, wrap)),
    ]
    if mapping:
        assert thaw(fits) == _nested(_WALK_LIMIT, _CONTAINERS["dict"])
        walks.append(thaw)
    for walk in walks:
        with pytest.raises(InvalidValueError) as info:
            walk(too_deep)
        assert str(info.value) == f"value: nesting is deeper than {_WALK_LIMIT} levels (MAX_DEPTH is {MAX_DEPTH})"


# Containers and scalars that are not the plain types -------------------------------------------


def test_any_mapping_or_list_subclass_freezes_like_the_plain_type() -> None:
    nested = MappingProxyType({"b": _Items([MappingProxyType({"c": 1.5})]), "a": ()})
    frozen = freeze(nested)
    assert isinstance(frozen, PMap) and isinstance(frozen["b"], PVector) and isinstance(frozen["b"][0], PMap)
    assert thaw(frozen) == {"a": [], "b": [{"c": 1.5}]}
    with pytest.raises(InvalidValueError) as info:
        freeze(MappingProxyType({"x": _Items([0, MappingProxyType({"y": math.inf})])}), path="p")
    assert str(info.value) == "p.x[1].y: inf is not allowed (only finite numbers)"
    assert freeze(_nested(MAX_DEPTH, _CONTAINERS["mapping"])) == _nested(MAX_DEPTH, _CONTAINERS["dict"])
    with pytest.raises(InvalidValueError, match=f": nesting is deeper than {MAX_DEPTH} levels$"):
        freeze(_nested(MAX_DEPTH + 1, _CONTAINERS["mapping"]))


def test_canonical_json_encodes_any_mapping_or_list_subclass_like_the_plain_type() -> None:
    assert canonical_json(MappingProxyType({"b": _Items([1, 2.5]), "a": None})) == b'{"a":null,"b":[1,2.5]}'
    assert canonical_json(MappingProxyType({})) == b"{}" and canonical_json(_Items()) == b"[]"


class _Ratio(float):
    """A float subclass."""


def test_float_subclasses_freeze_to_their_value() -> None:
    frozen = freeze([_Ratio(0.25)])
    assert isinstance(frozen, PVector) and frozen[0] == 0.25 and type(frozen[0]) is float
    with pytest.raises(InvalidValueError, match=r"^value: inf is not allowed"):
        freeze(_Ratio(math.inf))


def test_str_subclass_keys_become_plain_str_keys() -> None:
    frozen = freeze({_Colour.RED: 1, "plain": 2})
    assert isinstance(frozen, PMap)
    assert [type(key) for key in frozen] == [str, str]


# Exact refusals --------------------------------------------------------------------------------


def test_a_cycle_is_refused_where_it_closes() -> None:
    loop: list[object] = [1]
    loop.append({"again": loop})
    with pytest.raises(InvalidValueError) as info:
        freeze(loop)
    assert str(info.value) == "value[1].again: a container contains itself (a cycle)"


@pytest.mark.parametrize(
    ("number", "shown"),
    [
        (2**255, "57896044618658097711785492504343953926634992332820282019728792003956564819968"),
        (-(2**255), "-57896044618658097711785492504343953926634992332820282019728792003956564819968"),
        (2**256, "of 257 bits"),
    ],
)
def test_huge_ints_are_shown_in_digits_up_to_256_bits(number: int, shown: str) -> None:
    with pytest.raises(InvalidValueError) as info:
        freeze(number)
    assert str(info.value) == f"value: integer {shown} is outside +-(2**53 - 1), which I-JSON cannot carry exactly"


def test_freeze_map_refuses_what_is_not_a_mapping() -> None:
    with pytest.raises(InvalidValueError) as info:
        freeze_map([1])
    assert str(info.value) == "value: expected a mapping with string keys, got list"
    with pytest.raises(InvalidValueError) as info:
        freeze_map("ab", path="params")
    assert str(info.value) == "params: expected a mapping with string keys, got str"


@pytest.mark.parametrize(("value", "name"), [(object(), "object"), ({1, 2}, "set"), (b"x", "bytes")])
def test_canonical_json_names_what_it_cannot_encode(value: object, name: str) -> None:
    with pytest.raises(InvalidValueError) as info:
        canonical_json([value])
    assert str(info.value) == f"value: cannot encode {name} as canonical JSON"


def test_canonical_json_refuses_what_python_cannot_print_as_json() -> None:
    with pytest.raises(InvalidValueError, match=r"^value: cannot encode as canonical JSON: "):
        canonical_json(10**5000)
    with pytest.raises(InvalidValueError, match=r"^value: cannot encode as canonical JSON: "):
        canonical_json({"\ud800": 1, "é": 2})  # a lone surrogate among keys sorted by UTF-16 code units


# Paths in messages -----------------------------------------------------------------------------


def _refused_at(path: list[object]) -> str:
    value: object = 1j
    for segment in reversed(path):
        value = {segment: value} if isinstance(segment, str) else [*([0] * segment), value]  # type: ignore[operator]
    with pytest.raises(InvalidValueError) as info:
        freeze(value)
    return str(info.value).split(": an object of type")[0]


def test_paths_of_up_to_24_levels_are_shown_in_full() -> None:
    assert _refused_at([0] * 24) == "value" + "[0]" * 24
    assert _refused_at([0] * 25) == "value" + "[0]" * 8 + "…(9 levels)…" + "[0]" * 8
    assert _refused_at(["a", 1] * 20) == "value" + ".a[1]" * 4 + "…(24 levels)…" + ".a[1]" * 4


def test_keys_of_up_to_64_characters_are_shown_in_full() -> None:
    assert _refused_at(["k" * 64]) == "value." + "k" * 64
    assert _refused_at(["k" * 65]) == 'value["' + "k" * 32 + '…"]'
    assert _refused_at(["é" * 40 + "z" * 25]) == 'value["' + "é" * 32 + '…"]'
    assert _refused_at(['"' * 70]) == 'value["' + '\\"' * 32 + '…"]'


# brief_repr: what messages quote ---------------------------------------------------------------


class _Shown:
    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


def test_brief_repr_keeps_three_levels() -> None:
    assert brief_repr([[["x"]]]) == "[[['x']]]"
    assert brief_repr([[[["x"]]]]) == "[[[[...]]]]"


def test_brief_repr_keeps_40_characters_of_a_string_or_an_object() -> None:
    assert brief_repr("x" * 38) == "'" + "x" * 38 + "'"
    assert brief_repr("x" * 39) == "'" + "x" * 17 + "..." + "x" * 18 + "'"
    assert brief_repr(_Shown("r" * 40)) == "r" * 40
    assert brief_repr(_Shown("a" * 20 + "b" * 21)) == "a" * 18 + "..." + "b" * 19
    assert brief_repr(_Shown("head" + "-" * 100 + "tail")) == "head" + "-" * 14 + "..." + "-" * 15 + "tail"


def test_brief_repr_shows_ints_of_up_to_256_bits_in_digits_and_larger_ones_by_size() -> None:
    assert brief_repr(10**39) == "1" + "0" * 39
    assert brief_repr(10**40) == "1" + "0" * 17 + "..." + "0" * 19
    assert brief_repr(2**255) == "578960446186580977...8792003956564819968"
    assert brief_repr(2**256) == "<int of 257 bits>"
    assert brief_repr([2**256]) == "[<int of 257 bits>]"


class _BrokenRepr:
    def __repr__(self) -> str:
        raise RuntimeError("no")


def test_brief_repr_of_an_object_whose_repr_raises_names_its_class() -> None:
    assert brief_repr(_BrokenRepr()) == "<_BrokenRepr object>"
    assert brief_repr([_BrokenRepr()]) == "[<_BrokenRepr object>]"


def test_brief_repr_never_raises_even_for_an_object_that_breaks_reprlib() -> None:
    broken_list = type("list", (), {"__len__": lambda self: 1 // 0})()  # reprlib treats it by its type name
    assert brief_repr(broken_list) == "<list object>"


def test_freeze_params_reads_none_as_no_params_and_names_the_params_path() -> None:
    from stepfold.values import freeze_params

    assert freeze_params(None) == {} and freeze_params({"a": [1]}) == freeze({"a": [1]})
    with pytest.raises(InvalidValueError, match=r"^params: expected a mapping with string keys, got list$"):
        freeze_params([1])
    with pytest.raises(InvalidValueError, match=r"^params\.a: nan is not allowed"):
        freeze_params({"a": float("nan")})


@pytest.mark.parametrize(
    ("value", "plain"),
    [
        ({"a": [1, "é", None, True, (0.5, -2)]}, True),
        (1e-4, True),
        (1e15 + 0.5, True),
        (-123.25, True),
        (9.999999999999999e-5, False),  # repr writes an exponent, JCS does not
        (1e16, False),
        (1.0, False),  # JCS writes 1
        (-0.0, False),
        ({"é": 1}, False),  # JCS orders keys by UTF-16 code units, sort_keys by code points
        ({"a": _Level.HIGH}, False),
        (MappingProxyType({"a": 1}), False),
        (pmap({"a": 1}), False),
        (pvector([1]), False),
        (pvector([{"a": 1}]), False),  # a vector whose items are not frozen yet
        (pmap({"a": [1]}), False),
        (_Ratio(3.0), False),  # a float subclass, integral
        ([_Colour.RED], False),
        ({_Colour.RED: 1}, False),
    ],
)
def test_freeze_entry_calls_plain_only_what_the_c_encoder_writes_as_jcs(value: object, plain: bool) -> None:
    frozen, found = freeze_entry("state", "k", value)
    assert found is plain
    assert frozen == freeze(value)


_TRICKY: Any = {"b": [1, 'é\n\x7f\u2028"\\', None, True, False, 0.5, -3, (2, [])], "a": {"y": 1e-4, "": {}}, "c": []}


def test_the_plain_encoder_writes_rfc8785_with_the_c_encoder_or_without(monkeypatch: pytest.MonkeyPatch) -> None:
    direct = canonical._plain_encoder()
    assert direct(_TRICKY).encode() == rfc8785.dumps(_TRICKY)
    # CPython has the C encoder: the direct path is taken, not the public encoder's (which builds one per call)
    assert not isinstance(getattr(direct, "__self__", None), json.JSONEncoder)
    monkeypatch.setattr(json.encoder, "c_make_encoder", None)  # an interpreter without it: the public encoder
    assert canonical._plain_encoder()(_TRICKY).encode() == rfc8785.dumps(_TRICKY)
    assert plain_json(["k", _TRICKY]) == rfc8785.dumps(["k", _TRICKY])
