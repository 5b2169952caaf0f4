"""`OrchestrationResult`: derived fields, `to_dict` shape and size, `from_dict` round trip and refusals."""

from __future__ import annotations

import json

import pytest
from hypothesis import given

from stepfold import (
    ExecutionContext,
    InvalidDocumentError,
    OrchestrationResult,
    State,
    StepSpec,
    WorkflowDefinition,
    run_workflow,
)
from tests.strategies import results

REQUIRED_KEYS = {
    "id", "success", "status", "executed_steps", "final_state", "failed_step_id", "error_message", "lineage", "receipt",
}


def _plain_and_sorted(value: object, path: str = "doc") -> None:
    if isinstance(value, dict):
        assert list(value) == sorted(value), f"{path}: keys not sorted"
        for key, item in value.items():
            assert isinstance(key, str)
            _plain_and_sorted(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _plain_and_sorted(item, f"{path}[{index}]")
    else:
        assert value is None or type(value) in (str, int, float, bool), f"{path}: {type(value).__name__}"


@given(results())
def test_to_dict_from_dict_round_trip(result: OrchestrationResult) -> None:
    document = result.to_dict()
    through_json = json.loads(json.dumps(document))
    rebuilt = OrchestrationResult.from_dict(through_json)
    assert rebuilt.to_dict() == document
    assert rebuilt.receipt.head == result.receipt.head
    assert rebuilt.final_state == result.final_state
    assert rebuilt == result


@given(results())
def test_to_dict_is_plain_json_with_sorted_keys(result: OrchestrationResult) -> None:
    document = result.to_dict()
    _plain_and_sorted(document)
    assert REQUIRED_KEYS <= set(document)
    lineage = document["lineage"]
    receipt = document["receipt"]
    assert isinstance(lineage, dict) and isinstance(receipt, dict)
    assert lineage["workflow_id"] == receipt["id"] == document["id"]
    assert lineage["executed_step_ids"] == receipt["steps"] == [s.id for s in result.executed_steps]
    assert receipt["head"] == result.receipt.head
    assert json.dumps(document) == json.dumps(document, sort_keys=True)


def test_to_dict_size_is_state_plus_changes_not_steps_times_state() -> None:
    big = {f"key{i:05d}": {"n": i, "name": f"item {i}"} for i in range(5000)}
    steps = [StepSpec(f"s{i}", "runtime", {"operation": "increment", "key": "counter"}) for i in range(5)]
    result = run_workflow(WorkflowDefinition(id="w", steps=steps), ExecutionContext(initial_state=big))
    size = len(json.dumps(result.to_dict()))
    one_state = len(json.dumps(big))
    assert size < 2 * one_state + 10_000  # initial + final + five tiny deltas
    entries = result.to_dict()["lineage"]["entries"]  # type: ignore[index]
    assert entries[2]["changes"] == {"removed": [], "set": {"counter": 3}}


def test_derived_fields_follow_the_lineage() -> None:
    workflow = WorkflowDefinition(id="w", steps=[StepSpec("a", "runtime", {"operation": "fail", "reason": "no"})])
    result = run_workflow(workflow)
    assert (result.id, result.success, result.failed_step_id, result.pending_step_id) == ("w", False, "a", None)
    assert result.final_state == State()


def _document() -> dict[str, object]:
    workflow = WorkflowDefinition(
        id="w",
        steps=[StepSpec("a", "runtime", {"operation": "set", "key": "k", "value": 1}), StepSpec("h", "human", {})],
    )
    return run_workflow(workflow, ExecutionContext({"x": 1}, inputs={"h": "yes"})).to_dict()


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d.pop("workflow"), r"result.workflow: missing"),
        (lambda d: d.update(format="other/1"), r"result.format: expected 'stepfold/result/1'"),
        (lambda d: d.update(status="done"), r"result.status: expected one of"),
        (lambda d: d.update(success=False), r"result.success: False disagrees with the lineage"),
        (lambda d: d.update(id="other"), r"result.id: 'other' disagrees"),
        (lambda d: d["final_state"].update(k=2), r"result.final_state: digest .* disagrees"),
        (lambda d: d["lineage"]["entries"].pop(), r"result.lineage.entries: 1 entries for 2 executed steps"),
        (lambda d: d["lineage"]["entries"][0].update(step_id="zz"), r"entries\[0\].step_id: 'zz' does not match"),
        (lambda d: d["lineage"]["entries"][0]["changes"].update(set=[1]), r"entries\[0\].changes"),
        (lambda d: d["lineage"].update(initial_state={"x": float("nan")}), r"result.lineage.initial_state: .*nan"),
        (lambda d: d["receipt"]["links"][-1].update(hash="0" * 64), r"result.receipt.head: does not match"),
        (lambda d: d["receipt"].update(links="x"), r"result.receipt.links: expected an array"),
        (lambda d: d["executed_steps"][1].update(kind=3), r"result.executed_steps\[1\]"),
        (lambda d: d["workflow"]["steps"].append({"id": "a", "kind": "runtime", "payload": {}}), r"duplicate step id 'a'"),
    ],
)
def test_from_dict_refuses_a_damaged_document_naming_the_field(edit: object, message: str) -> None:
    document = _document()
    edit(document)  # type: ignore[operator]
    with pytest.raises(InvalidDocumentError, match=message):
        OrchestrationResult.from_dict(document)


def test_from_dict_refuses_what_is_not_a_document() -> None:
    junk: object
    for junk in ([], "x", None, 3):
        with pytest.raises(InvalidDocumentError, match="result: expected an object"):
            OrchestrationResult.from_dict(junk)  # type: ignore[arg-type]
