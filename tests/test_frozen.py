"""`stepfold.frozen`: thawing frozen values back to plain data, and equality by content and by type."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pyrsistent import PMap, PVector, pmap, pvector

from stepfold import InvalidValueError, canonical_json, freeze, thaw, values_equal
from stepfold.frozen import values_identical
from stepfold.values import MAX_SAFE_INTEGER

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


@given(_few_values.flatmap(lambda a: st.tuples(st.just(a), st.one_of(_few_values, _twin(a)))))
def test_values_equal_agrees_with_canonical_encoding(pair: tuple[object, object]) -> None:
    a, b = pair
    same = canonical_json(a) == canonical_json(b)
    assert values_equal(a, b) == same
    assert values_equal(b, a) == same
    assert values_equal(freeze(a), freeze(b)) == same


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


@pytest.mark.parametrize(
    ("a", "b", "equal"),
    [
        (True, False, False),
        (False, True, False),
        (True, True, True),
        (1, 2, False),
        (1.5, 1.5, True),
        (0, None, False),
        (None, 0, False),
        (1, "1", False),
        ("a", "b", False),
        ("ab", "a" + "b".lower(), True),  # equal strings that are different objects
        ("1", 1, False),
        (None, None, True),
        (None, [], False),
        ([], None, False),
        (None, {}, False),
        ({}, None, False),
        ({"a": 1}, {"a": 1, "b": 2}, False),
        ({"a": 1, "b": 2}, {"a": 1}, False),
        ({"a": 1}, {"b": 1}, False),
        ({"a": 1}, {"a": 2}, False),
        ([1, 2], [1, 2.0], True),
        ([1, 2], [1], False),
        ([1, 2], [2, 1], False),
        ({"a": [1]}, [["a", 1]], False),
    ],
)
def test_values_equal_is_equality_of_canonical_encodings(a: object, b: object, equal: bool) -> None:
    assert values_equal(a, b) is equal
    assert values_equal(b, a) is equal


@pytest.mark.parametrize(
    ("a", "b", "identical"),
    [
        (1, 1, True),
        (1, 1.0, False),
        (0.0, -0.0, False),
        (True, 1, False),
        ("a", "a" + "".lower(), True),
        ({"a": [1]}, {"a": [1]}, True),
        ({"a": 1}, {"a": 1, "b": 2}, False),
        ({"a": 1, "b": 2}, {"a": 1}, False),
        ({"a": 1}, {"b": 1}, False),
        ({"a": [1]}, {"a": [1.0]}, False),
        ([1, 2], [1], False),
        ([1], [1, 2], False),
        ([1, 2], [2, 1], False),
        ([], {}, False),
    ],
)
def test_values_identical_also_compares_python_types(a: object, b: object, identical: bool) -> None:
    assert values_identical(a, b) is identical
    assert values_identical(b, a) is identical


def test_thaw_names_keys_that_cannot_be_sorted_in_at_most_80_characters() -> None:
    with pytest.raises(InvalidValueError) as info:
        thaw({1: 0, "b": 2})
    assert str(info.value) == "value: mapping keys must be strings, got [1, 'b']"
    with pytest.raises(InvalidValueError) as info:
        thaw({1: 0, "a" * 50: 0, "b" * 50: 0})
    prefix = "value: mapping keys must be strings, got "
    assert (
        str(info.value) == prefix + "[1, 'aaaaaaaaaaaaaaaaa...aaaaaaaaaaaaaaaaaa', 'bbbbbbbbbbbbbbbbb...bbbbbbbbbbbbb"
    )
    assert len(str(info.value)) == len(prefix) + 80


def test_the_walkers_are_still_importable_from_values_where_they_were() -> None:
    import stepfold.frozen
    import stepfold.values

    for name in ("thaw", "values_equal", "values_identical"):
        assert getattr(stepfold.values, name) is getattr(stepfold.frozen, name)
    with pytest.raises(AttributeError, match="no attribute 'freeze_all'"):
        stepfold.values.freeze_all  # noqa: B018
