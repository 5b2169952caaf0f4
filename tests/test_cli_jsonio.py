"""`stepfold.cli.jsonio`: strict JSON in; a state frozen as it is parsed is the state frozen after."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stepfold import freeze
from stepfold.cli.jsonio import decode_json

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=4),
    max_leaves=20,
)


@given(st.dictionaries(st.text(max_size=4), json_values, max_size=5))
def test_frozen_as_parsed_equals_frozen_after(document: dict[str, object]) -> None:
    text = json.dumps(document)
    parsed = decode_json(text, frozen=True)
    assert parsed == freeze(decode_json(text))
    assert freeze(parsed) is parsed  # already frozen: freezing checks it and copies nothing


@pytest.mark.parametrize("frozen", [False, True])
def test_duplicate_keys_are_refused_either_way(frozen: bool) -> None:
    with pytest.raises(ValueError, match="duplicate key 'a'"):
        decode_json('{"x": [{"a": 1, "a": 2}]}', frozen=frozen)
