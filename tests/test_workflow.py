"""`StepSpec`, `WorkflowDefinition` and `ExecutionContext`: frozen values that freeze their input."""

from __future__ import annotations

import hashlib
from typing import Any

import attrs
import pytest
import rfc8785
from hypothesis import example, given
from hypothesis import strategies as st
from pyrsistent import PMap, pmap

from stepfold import ExecutionContext, InvalidValueError, State, StepSpec, WorkflowDefinition, thaw
from tests.strategies import keys, plain_values


def test_step_spec_freezes_its_payload() -> None:
    payload: dict[str, object] = {"operation": "set", "key": "k", "value": [1, {"a": 2}]}
    step = StepSpec("s", "runtime", payload)
    payload["key"] = "changed"
    assert isinstance(step.payload, PMap) and step.payload["key"] == "k"
    assert step.operation == "set"
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        step.id = "t"  # type: ignore[misc]


def test_step_spec_refuses_bad_fields_naming_the_step() -> None:
    with pytest.raises(InvalidValueError, match=r"step 's' payload.value: nan is not allowed"):
        StepSpec("s", "runtime", {"value": float("nan")})
    with pytest.raises(InvalidValueError, match=r"step 's' payload.operation: expected an operation name"):
        StepSpec("s", "runtime", {"operation": 3})
    with pytest.raises(InvalidValueError, match=r"step id: expected a string, got int 3"):
        StepSpec(3, "runtime")  # type: ignore[arg-type]
    with pytest.raises(InvalidValueError, match=r"step 's' kind: expected a string"):
        StepSpec("s", None)  # type: ignore[arg-type]


def test_workflow_name_is_an_alias_of_id() -> None:
    assert WorkflowDefinition(name="n").id == "n"
    assert WorkflowDefinition(id="n").name == "n"
    assert WorkflowDefinition(id="n", name="n") == WorkflowDefinition(id="n")
    with pytest.raises(ValueError, match="id 'a' and name 'b' differ"):
        WorkflowDefinition(id="a", name="b")


def test_workflow_refuses_duplicate_and_empty_step_ids() -> None:
    step = StepSpec("a", "runtime", {"operation": "noop"})
    with pytest.raises(InvalidValueError, match=r"steps\[1\]: duplicate step id 'a' \(first used at steps\[0\]\)"):
        WorkflowDefinition(id="w", steps=[step, step])
    with pytest.raises(InvalidValueError, match=r"steps\[0\]: step id is empty"):
        WorkflowDefinition(id="w", steps=[StepSpec("", "runtime")])
    with pytest.raises(InvalidValueError, match=r"steps\[0\]: expected a StepSpec"):
        WorkflowDefinition(id="w", steps=["a"])  # type: ignore[list-item]
    with pytest.raises(InvalidValueError, match=r"steps: expected a sequence of steps, got str"):
        WorkflowDefinition(id="w", steps="ab")  # type: ignore[arg-type]


def test_workflow_accepts_step_mappings_and_freezes_metadata() -> None:
    workflow = WorkflowDefinition(
        id="w", steps=[{"id": "a", "kind": "runtime", "payload": {"operation": "noop"}}], metadata={"m": [1]}
    )
    assert workflow.steps == (StepSpec("a", "runtime", {"operation": "noop"}),)
    assert isinstance(workflow.metadata, PMap)
    assert workflow.digest == WorkflowDefinition(id="w", steps=list(workflow.steps), metadata={"m": [1]}).digest


def test_execution_context_defaults_and_freezing() -> None:
    ctx = ExecutionContext()
    assert ctx.initial_state == {} and ctx.inputs == {} and ctx.metadata == {}
    ctx = ExecutionContext(initial_state={"a": 1}, inputs={"h": None})
    assert isinstance(ctx.initial_state, State) and ctx.initial_state == {"a": 1}
    assert "h" in ctx.inputs
    with pytest.raises(InvalidValueError, match=r"initial_state.tasks\[0\].due: inf is not allowed"):
        ExecutionContext(initial_state={"tasks": [{"due": float("inf")}]})
    with pytest.raises(InvalidValueError, match=r"inputs.h: a set is not allowed"):
        ExecutionContext(inputs={"h": {1}})
    with pytest.raises(InvalidValueError, match=r"initial_state: expected a mapping"):
        ExecutionContext(initial_state=[1])  # type: ignore[arg-type]


def test_metadata_outside_the_value_domain_is_refused_naming_its_path() -> None:
    with pytest.raises(InvalidValueError) as info:
        WorkflowDefinition(id="w", metadata={"m": float("nan")})
    assert str(info.value) == "metadata.m: nan is not allowed (only finite numbers)"
    with pytest.raises(InvalidValueError) as info:
        ExecutionContext(metadata={"m": [b"x"]})
    assert str(info.value) == "metadata.m[0]: bytes is not allowed (encode it as a string, e.g. base64)"


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (
            lambda: WorkflowDefinition(id="\ud800"),
            "workflow id: string contains a lone surrogate '\\ud800' at index 0, which is not valid Unicode",
        ),
        (
            lambda: WorkflowDefinition(name="a\udfff"),
            "workflow name: string contains a lone surrogate '\\udfff' at index 1, which is not valid Unicode",
        ),
        (lambda: WorkflowDefinition(id=3), "workflow id: expected a string, got int 3"),  # type: ignore[arg-type]
        (lambda: WorkflowDefinition(name=None), "workflow name: expected a string, got NoneType None"),  # type: ignore[arg-type]
        (
            lambda: StepSpec("\ud800", "runtime"),
            "step id: string contains a lone surrogate '\\ud800' at index 0, which is not valid Unicode",
        ),
    ],
)
def test_ids_and_names_are_valid_strings(make: object, message: str) -> None:
    with pytest.raises(InvalidValueError) as info:
        make()  # type: ignore[operator]
    assert str(info.value) == message


def test_a_step_mapping_needs_only_id_and_kind() -> None:
    workflow = WorkflowDefinition(id="w", steps=[{"id": "h", "kind": "human"}])
    assert workflow.steps == (StepSpec("h", "human"),)
    assert workflow.steps[0].payload == {} and workflow.steps[0].operation is None


@pytest.mark.parametrize(
    ("step", "message"),
    [
        ({"id": "a"}, "steps[0]: a step mapping needs 'id' and 'kind' (and optional 'payload'), got keys ['id']"),
        (
            {"id": "a", "kind": "runtime", "extra": 1, "payload": {}},
            "steps[0]: a step mapping needs 'id' and 'kind' (and optional 'payload'), got keys ['extra', 'id', 'kind', 'payload']",
        ),
        ({"id": "a", "kind": "runtime", "payload": [1]}, "steps[0].payload: expected a mapping, got list"),
        (3, "steps[0]: expected a StepSpec (or a mapping with id, kind, payload), got int"),
    ],
)
def test_a_bad_step_is_refused_naming_its_index(step: object, message: str) -> None:
    with pytest.raises(InvalidValueError) as info:
        WorkflowDefinition(id="w", steps=[step])  # type: ignore[list-item]
    assert str(info.value) == message


def test_initial_state_that_is_not_a_mapping_is_refused_naming_its_type() -> None:
    with pytest.raises(InvalidValueError) as info:
        ExecutionContext(initial_state=[1])  # type: ignore[arg-type]
    assert str(info.value) == "initial_state: expected a mapping with string keys, got list"


def test_workflow_step_looks_a_step_up_by_id() -> None:
    steps = [StepSpec("a", "runtime", {"operation": "noop"}), StepSpec("b", "human", {})]
    workflow = WorkflowDefinition(id="w", steps=steps)
    assert workflow.step("b") is workflow.steps[1]
    assert workflow.step("a") is workflow.steps[0]
    with pytest.raises(KeyError) as info:
        workflow.step("c")
    assert info.value.args[0] == "workflow 'w' has no step 'c'; steps: ['a', 'b']"


def test_attrs_evolve_rebuilds_a_step_and_checks_it_again() -> None:
    step = StepSpec("a", "runtime", {"operation": "noop"})
    changed = attrs.evolve(step, payload={"operation": "set", "key": "k", "value": 1})
    assert (changed.operation, changed.effect, step.operation) == ("set", None, "noop")
    with pytest.raises(InvalidValueError, match="a human step waits for a person"):
        attrs.evolve(step, kind="human", payload={"operation": "noop", "effect": "http.get"})


@given(st.text(max_size=5), st.dictionaries(keys, plain_values, max_size=4))
@example("é", {"operation": "set", "value": 1.0, "key": "k"})
@example("s", {"\ue000": 1, "\U0001f600": [1e16, 0.5, -0.0]})
def test_a_step_digest_is_sha256_of_the_rfc8785_encoding_of_its_content(
    step_id: str, payload: dict[str, object]
) -> None:
    step = StepSpec(step_id or "s", "runtime", payload)
    content: Any = {"id": step.id, "kind": "runtime", "payload": thaw(step.payload)}
    encoded = rfc8785.dumps(content)
    assert step.canonical == encoded
    assert step.digest == hashlib.sha256(encoded).hexdigest()
    assert StepSpec(step.id, "runtime", pmap(step.payload)).digest == step.digest  # frozen input: encoded from it
