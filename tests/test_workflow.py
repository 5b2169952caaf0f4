"""`StepSpec`, `WorkflowDefinition` and `ExecutionContext`: frozen values that freeze their input."""

from __future__ import annotations

import attrs
import pytest
from pyrsistent import PMap

from stepfold import ExecutionContext, InvalidValueError, State, StepSpec, WorkflowDefinition


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
    workflow = WorkflowDefinition(id="w", steps=[{"id": "a", "kind": "runtime", "payload": {"operation": "noop"}}], metadata={"m": [1]})
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
