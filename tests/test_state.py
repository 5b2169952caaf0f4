"""`State`: persistent updates, an order-independent incremental digest, equality, deltas.

The digest is checked against an independent computation of the normative
encoding (SHAKE-256 of `rfc8785.dumps([key, value])`, 1024 little-endian
16-bit lanes summed mod 2**16, SHA-256 of the accumulator) using only
`hashlib`, `struct` and the `rfc8785` package.
"""

from __future__ import annotations

import hashlib
import math
import struct
from collections.abc import Mapping
from typing import Any

import pytest
import rfc8785
from hypothesis import given
from hypothesis import strategies as st
from pyrsistent import pmap

import stepfold.lthash
from stepfold import InvalidValueError, State, StateDelta, canonical_json, state_delta, thaw
from stepfold.frozen import values_identical
from stepfold.lthash import accumulate, digest_of, entry_element
from stepfold.values import freeze
from tests.strategies import keys, plain_states, plain_values, small_keys

# Independent reference implementation of the digest --------------------------

_LANES = 1024


def _element_lanes(key: str, value: Any) -> tuple[int, ...]:
    raw = hashlib.shake_256(rfc8785.dumps([key, value])).digest(2 * _LANES)
    return struct.unpack(f"<{_LANES}H", raw)


def _reference_accumulator(content: Mapping[str, Any]) -> bytes:
    lanes = [0] * _LANES
    for key, value in content.items():
        for i, lane in enumerate(_element_lanes(key, value)):
            lanes[i] = (lanes[i] + lane) % 2**16
    return struct.pack(f"<{_LANES}H", *lanes)


def _reference_digest(content: Mapping[str, Any]) -> str:
    return hashlib.sha256(_reference_accumulator(content)).hexdigest()


# Strategies local to this module ---------------------------------------------

_twinned_scalars = st.sampled_from([0, 1, 1.0, 0.0, -0.0, True, False, None, "1", 2.5])
"""Scalars that are canonically equal (1, 1.0) or not (True, 1) to each other."""

_twinned_values = st.one_of(_twinned_scalars, st.lists(_twinned_scalars, max_size=2))

_small_states = st.dictionaries(small_keys, _twinned_values, max_size=4)
"""Plain states over a tiny key and value space, so independent draws are often equal."""

_initial_states = st.one_of(plain_states, _small_states)
"""Plain states: arbitrary ones, and ones whose keys and values collide with the generated operations."""

_op_values = st.one_of(_twinned_values, plain_values)
_op_keys = st.one_of(small_keys, small_keys, keys)

_ops = st.lists(
    st.one_of(
        st.tuples(st.just("set"), _op_keys, _op_values),
        st.tuples(st.just("remove"), _op_keys),
        st.tuples(st.just("update"), st.dictionaries(_op_keys, _op_values, max_size=3)),
    ),
    max_size=8,
)


def _apply_op(state: State, op: Any) -> State:
    if op[0] == "set":
        return state.set(op[1], op[2])
    if op[0] == "remove":
        return state.remove(op[1])
    return state.update(op[1])


def _apply_op_to_dict(model: dict[str, object], op: Any) -> None:
    if op[0] == "set":
        model[op[1]] = op[2]
    elif op[0] == "remove":
        model.pop(op[1], None)
    else:
        model.update(op[1])


def _run(state: State, ops: list[Any]) -> State:
    for op in ops:
        state = _apply_op(state, op)
    return state


def _plain_copy(value: object) -> object:
    """A deep copy of plain data (dicts, lists, tuples, scalars), for before/after comparisons."""
    if isinstance(value, dict):
        return {k: _plain_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain_copy(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_plain_copy(v) for v in value)
    return value


@st.composite
def _twin_state(draw: st.DrawFn, content: Mapping[str, object]) -> dict[str, object]:
    """Often the same canonical content as `content`, built with other types (1.0 for 1) and order."""

    def twin(value: object) -> object:
        if type(value) is int:
            return draw(st.sampled_from([value, float(value)]))
        if type(value) is float and value.is_integer():
            return draw(st.sampled_from([value, int(value)]))
        if isinstance(value, list):
            return [twin(v) for v in value]
        return value

    items: list[tuple[str, object]] = draw(st.permutations([(k, twin(v)) for k, v in content.items()]))
    drop: bool = draw(st.booleans())
    if items and drop:
        items = items[1:]
    return dict(items)


# Property laws ---------------------------------------------------------------------


@given(plain_states, keys, plain_values)
def test_a_state_from_plain_data_hashes_its_frozen_entries(content: dict[str, object], key: str, value: object) -> None:
    frozen = freeze(content)
    assert isinstance(frozen, Mapping)
    expected = digest_of(accumulate(entry_element(k, v) for k, v in frozen.items()))
    assert State(content).digest == State(frozen).digest == expected
    assert State().update(content).digest == expected
    grown = State(content).set(key, value)
    assert grown.digest == digest_of(accumulate(entry_element(k, v) for k, v in {**frozen, key: freeze(value)}.items()))


@given(plain_states, st.randoms(use_true_random=False))
def test_digest_is_order_independent(content: dict[str, object], rnd: Any) -> None:
    expected = State(content)
    items = list(content.items())

    rnd.shuffle(items)
    assert State(dict(items)).digest == expected.digest
    assert State(items).digest == expected.digest  # (key, value) pairs

    rnd.shuffle(items)
    chained = State()
    for key, value in items:
        chained = chained.set(key, value)
    assert chained.digest == expected.digest
    assert chained == expected

    rnd.shuffle(items)
    half = len(items) // 2
    assert State().update(dict(items[:half])).update(dict(items[half:])).digest == expected.digest

    assert expected.digest == _reference_digest(thaw(expected))  # type: ignore[arg-type]


@given(_initial_states, _ops)
def test_digest_is_incremental(initial: dict[str, object], ops: list[Any]) -> None:
    state = State(initial)
    model = dict(initial)
    for op in ops:
        state = _apply_op(state, op)
        _apply_op_to_dict(model, op)
        fresh = State(model)
        assert state.digest == fresh.digest
        assert state.accumulator == fresh.accumulator
        assert values_identical(state.to_dict(), fresh.to_dict())
    assert state.digest == _reference_digest(state.to_dict())


@given(_small_states.flatmap(lambda a: st.tuples(st.just(a), st.one_of(_small_states, _twin_state(a)))))
def test_state_equality_is_digest_equality(pair: tuple[dict[str, object], dict[str, object]]) -> None:
    plain_a, plain_b = pair
    a, b = State(plain_a), State(plain_b)
    equal = a.digest == b.digest
    assert (a == b) == equal
    assert (a != b) == (not equal)
    assert (b == a) == equal
    assert (a == plain_b) == equal  # against a plain mapping
    assert (plain_b == a) == equal  # reflected
    assert (a == pmap(plain_b)) == equal
    # Equality agrees with the canonical encoding, not with Python's loose numerics.
    assert (canonical_json(a) == canonical_json(b)) == equal
    if equal:
        assert hash(a) == hash(b)


@given(_initial_states.map(State), _ops, _ops, _initial_states)
def test_state_delta_applies(a: State, ops: list[Any], other_ops: list[Any], unrelated: dict[str, object]) -> None:
    b = _run(a, ops)
    sibling = _run(a, other_ops)
    targets = [
        b,  # derived from a
        State(b.to_dict()),  # same content, built fresh (not derived)
        State(unrelated),  # unrelated content, built fresh
        sibling,  # derived from a common ancestor along another branch
    ]
    for source in (a, b, sibling):
        for target in targets:
            delta = state_delta(source, target)
            assert isinstance(delta, StateDelta)
            applied = source.apply(delta)
            assert applied == target
            assert applied.digest == target.digest
            assert values_identical(applied.to_dict(), target.to_dict())
            assert set(delta.set).isdisjoint(delta.removed)
    assert not state_delta(a, a)


@given(_initial_states, _ops)
def test_state_operations_do_not_mutate(initial: dict[str, object], ops: list[Any]) -> None:
    snapshot = _plain_copy(initial)
    ops_snapshot = _plain_copy(ops)
    state = State(initial)
    digest, content, size = state.digest, state.to_dict(), len(state)
    derived = state
    for op in ops:
        derived = _apply_op(derived, op)
        assert state.digest == digest
    assert values_identical(initial, snapshot)
    assert values_identical(ops, ops_snapshot)  # the values passed to set/update are untouched too
    assert state.digest == digest and len(state) == size
    assert values_identical(state.to_dict(), content)

    # Mutating the caller's data afterwards does not reach into any state.
    derived_digest, derived_content = derived.digest, derived.to_dict()
    initial["__new__"] = [1]
    for value in initial.values():
        if isinstance(value, list):
            value.append("mutated")
        elif isinstance(value, dict):
            value["mutated"] = True
    for op in ops:
        for part in op[1:]:
            if isinstance(part, list):
                part.append("mutated")
            elif isinstance(part, dict):
                part["mutated"] = True
    assert state.digest == digest and values_identical(state.to_dict(), content)
    assert derived.digest == derived_digest and values_identical(derived.to_dict(), derived_content)


# Examples ------------------------------------------------------------------------


def test_state_equals_a_plain_mapping() -> None:
    assert State({"a": 1}) == {"a": 1}
    assert {"a": 1} == State({"a": 1})
    assert State({"a": 1}) == {"a": 1.0}
    assert State({"a": [1, {"b": 2}]}) == {"a": [1.0, {"b": 2.0}]}
    assert State({"a": True}) != {"a": 1}
    assert State({"a": 1}) != {"a": True}
    assert State({"a": 0}) != {"a": False}
    assert State({"a": 1}) != {"a": 1, "b": None}
    assert State({"a": 1}) != {1: 1}  # not in the domain: unequal, not an error
    assert State({"a": 1}) != {"a": math.nan}
    assert State() == {}
    assert State({"a": 1}) != [("a", 1)]
    assert State({"a": 1}) != "a"


def test_state_is_a_mapping_with_persistent_updates() -> None:
    s = State({"b": 2, "a": 1})
    assert isinstance(s, Mapping)
    assert len(s) == 2 and "a" in s and s["b"] == 2 and sorted(s) == ["a", "b"]
    t = s.set("c", [1, 2]).remove("a").update({"b": 3})
    assert t.to_dict() == {"b": 3, "c": [1, 2]}
    assert s.to_dict() == {"a": 1, "b": 2}
    assert s.discard("a") == s.remove("a")


def test_updates_keep_the_value_given_even_when_canonically_equal() -> None:
    s = State({"a": 1, "b": [1]})
    assert type(s.set("a", 1.0)["a"]) is float
    assert type(s.update({"a": 1.0})["a"]) is float
    assert s.set("a", 1.0) == s and s.set("a", True) != s
    assert values_identical(s.update({"b": [1.0]}).to_dict(), {"a": 1, "b": [1.0]})
    target = State({"a": 1.0, "b": [True]})
    delta = state_delta(s, target)
    assert values_identical(thaw(delta.set), {"a": 1.0, "b": [True]})
    assert values_identical(s.apply(delta).to_dict(), target.to_dict())
    derived = s.set("a", 1.0)
    assert values_identical(s.apply(state_delta(s, derived)).to_dict(), derived.to_dict())


def test_remove_of_an_absent_key_returns_the_same_state() -> None:
    s = State({"a": 1})
    assert s.remove("missing") is s
    assert s.discard("missing") is s
    assert State().remove("a") == State()


def test_set_of_a_bad_value_names_the_key() -> None:
    s = State({"a": 1})
    with pytest.raises(InvalidValueError, match=r"^state\.key: nan is not allowed"):
        s.set("key", math.nan)
    with pytest.raises(InvalidValueError, match=r"^state\.key\.tasks\[1\]\.due: inf is not allowed"):
        s.set("key", {"tasks": [{}, {"due": math.inf}]})
    with pytest.raises(InvalidValueError, match=r'^state\["a b"\]: a set is not allowed'):
        s.set("a b", {1})
    with pytest.raises(InvalidValueError, match=r"^state\.key: "):
        s.update({"ok": 1, "key": b"bytes"})
    with pytest.raises(InvalidValueError, match=r"^state\.x\[0\]: "):
        State({"x": [2**53]})
    assert s == {"a": 1}  # nothing changed


def test_non_string_keys_are_refused() -> None:
    with pytest.raises(InvalidValueError, match="keys must be strings"):
        State({1: "a"})  # type: ignore[arg-type]
    with pytest.raises(InvalidValueError, match="keys must be strings"):
        State().set(1, "a")  # type: ignore[arg-type]
    with pytest.raises(InvalidValueError, match="keys must be strings"):
        State().set(None, "a")  # type: ignore[arg-type]
    with pytest.raises(InvalidValueError, match="keys must be strings"):
        State().update({("a",): 1})  # type: ignore[dict-item]
    with pytest.raises(InvalidValueError, match="lone surrogate"):
        State().set("\ud800", 1)
    with pytest.raises(InvalidValueError):
        State({"\ud800": 1})


def test_empty_state_digest_is_sha256_of_zero_accumulator() -> None:
    assert State().digest == hashlib.sha256(bytes(2048)).hexdigest()
    assert State().accumulator == bytes(2048)
    assert State({"a": 1}).remove("a").digest == State().digest


@pytest.mark.parametrize(
    ("key", "value"),
    [("a", 1), ("count", 1.0), ("é", [1, {"z": None, "b": True}]), ("", "text\n"), ("\U0001f600", -0.5)],
)
def test_one_entry_digest_matches_the_normative_encoding(key: str, value: Any) -> None:
    element = hashlib.shake_256(rfc8785.dumps([key, value])).digest(2048)
    expected = hashlib.sha256(element).hexdigest()  # 0 + element: the accumulator is the element
    assert State({key: value}).digest == expected
    assert State().set(key, value).digest == expected
    assert State({key: value}).accumulator == element


def test_two_entry_digest_is_the_lane_wise_sum() -> None:
    first = hashlib.shake_256(rfc8785.dumps(["a", 1])).digest(2048)
    second = hashlib.shake_256(rfc8785.dumps(["b", [True, "x"]])).digest(2048)
    lanes = [(x + y) % 2**16 for x, y in zip(struct.unpack("<1024H", first), struct.unpack("<1024H", second))]
    accumulator = struct.pack("<1024H", *lanes)
    expected = hashlib.sha256(accumulator).hexdigest()
    state = State({"a": 1, "b": [True, "x"]})
    assert state.accumulator == accumulator
    assert state.digest == expected
    assert State().set("b", [True, "x"]).set("a", 1).digest == expected
    # Removal subtracts lane-wise.
    assert state.remove("b").digest == hashlib.sha256(first).hexdigest()


@pytest.mark.parametrize("size", [0, 1, 2, 3, 4, 6, 7, 10])
def test_chunked_accumulation_matches_chained_sets(monkeypatch: pytest.MonkeyPatch, size: int) -> None:
    monkeypatch.setattr(stepfold.lthash, "_CHUNK", 3)
    content = {f"k{i}": [i, "v" * i, {"n": i / 7}] for i in range(size)}
    chained = State()
    for key, value in content.items():
        chained = chained.set(key, value)
    bulk = State(content)
    assert bulk.digest == chained.digest
    assert bulk.accumulator == chained.accumulator == _reference_accumulator(content)


def test_hash_is_consistent_with_equality_and_states_are_dict_keys() -> None:
    a = State({"a": 1, "b": [1, 2]})
    b = State({"b": [1.0, 2], "a": 1.0})
    c = State({"a": True, "b": [1, 2]})
    assert a == b and hash(a) == hash(b)
    assert a != c
    table = {a: "first"}
    table[b] = "second"
    table[c] = "third"
    assert len(table) == 2
    assert table[State().set("b", (1, 2)).set("a", 1)] == "second"
    assert {a, b, c} == {a, c}


def test_state_from_pairs_refuses_a_string_naming_the_path() -> None:
    with pytest.raises(InvalidValueError) as info:
        State("ab", path="initial_state")  # type: ignore[arg-type]
    assert str(info.value) == "initial_state: expected a mapping or (key, value) pairs, got str"
    with pytest.raises(InvalidValueError, match=r"^state: expected a mapping or \(key, value\) pairs, got int$"):
        State(3)  # type: ignore[arg-type]


@pytest.mark.parametrize("pair", [("a",), ("a", 1, 2), ["a", 1]])
def test_state_from_pairs_refuses_anything_but_two_tuples(pair: object) -> None:
    with pytest.raises(InvalidValueError) as info:
        State([("ok", 0), pair])  # type: ignore[list-item]
    assert str(info.value) == f"state[1]: expected a (key, value) pair, got {pair!r}"


def test_state_from_pairs_keeps_every_pair() -> None:
    assert State([("a", 1), ("b", [2])]) == {"a": 1, "b": [2]}


def test_state_repr_shows_sorted_entries_as_plain_data() -> None:
    assert repr(State()) == "State({})"
    assert repr(State({"b": [1, {"c": None}], "a": "x"})) == "State({'a': 'x', 'b': [1, {'c': None}]})"


def test_state_repr_shows_eight_entries_then_the_count() -> None:
    eight = State({f"k{i}": i for i in range(8)})
    assert repr(eight) == "State({" + ", ".join(f"'k{i}': {i}" for i in range(8)) + "})"
    nine = eight.set("k8", 8)
    assert repr(nine) == "State({" + ", ".join(f"'k{i}': {i}" for i in range(8)) + ", ... (9 entries)})"


def test_distinct_states_hash_apart_and_equal_states_alike() -> None:
    distinct = [State({"n": n}) for n in range(64)]
    assert len({hash(state) for state in distinct}) == 64  # the hash follows the digest, not a constant
    assert hash(State({"n": 1})) == hash(State({"n": 1.0}))


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: State().set(1, "a"), "state: keys must be strings, got int 1"),  # type: ignore[arg-type]
        (lambda: State().update({("a",): 1}), "state: keys must be strings, got tuple ('a',)"),  # type: ignore[dict-item]
        (lambda: State({"a": 1}).remove(1), "state: keys must be strings, got int 1"),  # type: ignore[arg-type]
        (lambda: State().remove(None), "state: keys must be strings, got NoneType None"),  # type: ignore[arg-type]
        (lambda: State({1: "a"}, path="initial_state"), "initial_state: keys must be strings, got int 1"),  # type: ignore[arg-type]
        (lambda: State([("a", 0), (2, "b")]), "state[1]: keys must be strings, got int 2"),  # type: ignore[list-item]
        (
            lambda: State().set("\ud800", 1),
            "state key: string contains a lone surrogate '\\ud800' at index 0, which is not valid Unicode",
        ),
        (lambda: State().update(3), "state update: expected a mapping, got int"),  # type: ignore[arg-type]
        (lambda: StateDelta(set=[1]), "delta.set: expected a mapping of keys to new values"),
        (lambda: StateDelta(set={"a": math.nan}), "delta.set.a: nan is not allowed (only finite numbers)"),
        (lambda: StateDelta(removed="ab"), "delta.removed: expected a list of keys"),
        (lambda: StateDelta(removed=3), "delta.removed: expected a list of keys"),
        (lambda: StateDelta(removed=["a", 1]), "delta.removed[1]: expected a string key, got 1"),
    ],
)
def test_state_refusals_name_the_key_and_where_it_came_from(make: Any, message: str) -> None:
    with pytest.raises(InvalidValueError) as info:
        make()
    assert str(info.value) == message


def test_a_state_built_from_a_state_is_equal_to_it() -> None:
    original = State({"a": [1, {"b": None}]}).set("c", 2)
    copy = State(original)
    assert copy == original and copy.digest == original.digest and copy.accumulator == original.accumulator
    assert copy.to_dict() == {"a": [1, {"b": None}], "c": 2}


def test_update_skips_unchanged_entries_and_sets_the_rest() -> None:
    state = State({"a": 1, "b": 2})
    assert state.update({"a": 1, "c": 3, "b": 2, "d": 4}).to_dict() == {"a": 1, "b": 2, "c": 3, "d": 4}
    assert state.update({"a": 1}) is state


def test_a_full_state_still_takes_new_values_for_its_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stepfold.state, "MAX_STATE_ENTRIES", 2)
    full = State({"a": 1, "b": 2})
    assert full.set("a", 10).to_dict() == {"a": 10, "b": 2}
    assert full.update({"a": 10, "b": 20}).to_dict() == {"a": 10, "b": 20}
    with pytest.raises(InvalidValueError) as info:
        full.set("c", 3)
    assert str(info.value).startswith("state: 3 entries is more than MAX_STATE_ENTRIES (2); ")
    with pytest.raises(InvalidValueError) as info:
        full.update({"a": 0, "c": 3})
    assert str(info.value).startswith("state: 3 entries is more than MAX_STATE_ENTRIES (2); ")


def test_a_delta_holds_only_real_changes() -> None:
    before = State({"a": [1], "b": 2, "gone": 0})
    after = before.set("a", [1]).set("b", 3).remove("gone").set("new", None)
    assert after["a"] is not before["a"]  # rewritten with an equal value: not a change
    delta = state_delta(before, after)
    assert delta == StateDelta(set={"b": 3, "new": None}, removed=["gone"])
    assert state_delta(before, before.set("a", [1])) == StateDelta() and not state_delta(before, before.set("a", [1]))


def test_a_delta_is_true_when_it_sets_or_removes_something() -> None:
    assert not StateDelta()
    assert StateDelta(set={"a": 1}) and StateDelta(removed=["a"])


def test_a_delta_between_states_from_different_origins_compares_every_key() -> None:
    one = State({"x": 1, "shared": 0}).set("a", 1)
    other = State({"y": 2, "shared": 0}).set("b", 2)
    delta = state_delta(one, other)
    assert delta == StateDelta(set={"y": 2, "b": 2}, removed=["a", "x"])
    assert one.apply(delta) == other


def test_accumulation_past_one_chunk_is_still_the_lane_wise_sum() -> None:
    # The lanes are summed in 32-bit slots that are folded every 65535 elements, before any can overflow:
    # 70,000 elements with lanes near 0xFFFF would overflow a slot that was never folded.
    lanes = [0xFFFF - index % 4096 for index in range(_LANES)]
    element = int.from_bytes(struct.pack(f"<{_LANES}H", *lanes), "little")
    expected = struct.pack(f"<{_LANES}H", *[lane * 70_000 % 2**16 for lane in lanes])
    assert stepfold.lthash.accumulate([element] * 70_000).to_bytes(2 * _LANES, "little") == expected


class _Key(str):
    """A str subclass equal only to itself, so a dict keeps it beside the plain string it holds (both freeze to it)."""

    def __eq__(self, other: object) -> bool:
        return self is other

    def __hash__(self) -> int:
        return id(self)


def test_a_key_beside_its_str_subclass_keeps_the_last_value_and_hashes_only_it() -> None:
    source = {"a": 1, _Key("a"): [2.0]}
    assert len(source) == 2
    state = State(source)
    assert dict(state) == {"a": freeze([2.0])}
    assert state.digest == State({"a": [2]}).digest


def test_a_state_whose_value_contains_the_state_mapping_itself_is_a_cycle_at_that_value() -> None:
    data: dict[str, object] = {}
    data["k"] = data
    with pytest.raises(InvalidValueError) as info:
        State(data)
    assert str(info.value) == "state.k: a container contains itself (a cycle)"


def test_apply_and_state_delta_refuse_what_is_not_a_delta_or_a_state() -> None:
    with pytest.raises(InvalidValueError, match=r"^delta: expected a StateDelta, got dict$"):
        State().apply({"set": {}})  # type: ignore[arg-type]
    with pytest.raises(InvalidValueError, match=r"^state_delta: expected two States, got int and dict$"):
        state_delta(1, {})  # type: ignore[arg-type]


@given(plain_states)
def test_from_parsed_is_the_state_of_the_dict_it_empties(entries: dict[str, object]) -> None:
    given_up = dict(entries)
    state = State.from_parsed(given_up)
    assert state == State(entries) and state.digest == State(entries).digest and state.hashed
    assert given_up == {}  # each entry taken out as it was frozen


def test_from_parsed_refuses_what_state_refuses_and_anything_but_a_dict() -> None:
    with pytest.raises(InvalidValueError, match=r"^doc\.a\[1\]: integer"):
        State.from_parsed({"a": [1, 2**60]}, path="doc")
    with pytest.raises(InvalidValueError, match="^doc: keys must be strings"):
        State.from_parsed({1: 2}, path="doc")  # type: ignore[dict-item]
    with pytest.raises(InvalidValueError, match="^state: expected a dict to take entries from, got PMap$"):
        State.from_parsed(pmap({"a": 1}))  # type: ignore[arg-type]
