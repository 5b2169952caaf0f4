"""`stepfold.cli.jsonio`: strict JSON in; a `--state` document is the State of its content."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stepfold import State, freeze
from stepfold.cli.jsonio import UsageError, decode_json, read_state_argument
from stepfold.errors import InvalidValueError

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=4),
    max_leaves=20,
)


@given(st.dictionaries(st.text(max_size=4), json_values, max_size=5))
def test_a_state_argument_is_the_state_of_its_document(document: dict[str, object]) -> None:
    state = read_state_argument(json.dumps(document))
    assert state == State(document) and state.digest == State(document).digest
    assert state.to_dict() == freeze(document) and state.hashed


@pytest.mark.parametrize("text", ['{"a": 1, "a": 2}', '{"x": [{"b": 0, "a": 1, "b": 2, "a": 3}]}'])
def test_duplicate_keys_are_refused_naming_the_first_repeated(text: str) -> None:
    with pytest.raises(ValueError, match="duplicate key '(a|b)'$") as caught:
        decode_json(text)
    assert caught.value.args[0].endswith("'a'" if text.startswith('{"a"') else "'b'")


def test_a_state_argument_outside_the_value_domain_is_refused_by_place() -> None:
    with pytest.raises(InvalidValueError, match=r"^initial_state\.a\.b: string contains a lone surrogate"):
        read_state_argument('{"z": 1, "a": {"b": "\\ud800"}}')
    with pytest.raises(UsageError, match="^--state: invalid JSON: NaN is not allowed in JSON input$"):
        read_state_argument('{"a": NaN}')
