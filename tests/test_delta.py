"""`StateDelta`: what one state changed relative to another, and its document `{"removed", "set"}`."""

from __future__ import annotations

import pytest

from stepfold import InvalidValueError, StateDelta, freeze


def test_to_dict_and_from_dict_are_inverse_with_removed_keys_sorted() -> None:
    delta = StateDelta({"a": [1], "b": {"c": None}}, ["z", "y"])
    assert delta.removed == ("y", "z") and delta.set == freeze({"a": [1], "b": {"c": None}})
    assert delta.to_dict() == {"removed": ["y", "z"], "set": {"a": [1], "b": {"c": None}}}
    assert StateDelta.from_dict(delta.to_dict()) == delta


def test_an_empty_delta_is_false_and_any_change_is_true() -> None:
    assert not StateDelta() and StateDelta().to_dict() == {"removed": [], "set": {}}
    assert StateDelta({"a": 1}) and StateDelta(removed=["a"])


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ([1], 'lineage[2].delta: expected {"removed": [...], "set": {...}}, got list'),
        ({"set": {}}, """lineage[2].delta: expected {"removed": [...], "set": {...}}, got ["'set'"]"""),
        (
            {"set": {}, "removed": [], "x": 1},
            """lineage[2].delta: expected {"removed": [...], "set": {...}}, got ["'removed'", "'set'", "'x'"]""",
        ),
        ({"set": [], "removed": []}, "lineage[2].delta.set: expected a mapping of keys to new values"),
        ({"set": {}, "removed": "a"}, "lineage[2].delta.removed: expected a list of keys"),
        ({"set": {}, "removed": 3}, "lineage[2].delta.removed: expected a list of keys"),
        ({"set": {}, "removed": [1]}, "lineage[2].delta.removed[0]: expected a string key, got 1"),
        ({"set": {}, "removed": ["a", None]}, "lineage[2].delta.removed[1]: expected a string key, got None"),
        ({"set": {}, "removed": ["a", "b", "a"]}, "lineage[2].delta.removed[2]: key 'a' is listed twice"),
        (
            {"set": {"b": 1, "a": 2}, "removed": ["b", "a"]},
            "lineage[2].delta: key 'a' is both set and removed; a change does one or the other",
        ),
        (
            {"set": {"a": float("nan")}, "removed": []},
            "lineage[2].delta.set.a: nan is not allowed (only finite numbers)",
        ),
    ],
)
def test_from_dict_refuses_a_document_naming_where_and_what(document: object, message: str) -> None:
    with pytest.raises(InvalidValueError) as info:
        StateDelta.from_dict(document, "lineage[2].delta")
    assert str(info.value) == message


def test_from_dict_names_delta_by_default() -> None:
    with pytest.raises(InvalidValueError) as info:
        StateDelta.from_dict(None)
    assert str(info.value) == 'delta: expected {"removed": [...], "set": {...}}, got NoneType'
