"""`OrchestrationResult`: derived fields, `to_dict` shape and size, `from_dict` round trip and refusals."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given

from stepfold import (
    ExecutionContext,
    InvalidDocumentError,
    InvalidValueError,
    OrchestrationResult,
    State,
    StepSpec,
    WorkflowDefinition,
    resume,
    run_workflow,
)
from stepfold.messages import brief_repr
from stepfold.reader import read_result
from tests.strategies import results

REQUIRED_KEYS = {
    "id",
    "success",
    "status",
    "executed_steps",
    "final_state",
    "failed_step_id",
    "error_message",
    "lineage",
    "receipt",
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
        (
            lambda d: d.update(format="other/1"),
            r"result.format: expected 'stepfold/result/2' \(or 'stepfold/result/1'\), got 'other/1'",
        ),
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
        (
            lambda d: d["workflow"]["steps"].append({"id": "a", "kind": "runtime", "payload": {}}),
            r"duplicate step id 'a'",
        ),
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


# Every field of a document is named when it is missing, mistyped or unexpected ----------------

Path = tuple[str | int, ...]

_RECORDS: list[Path] = [
    (),
    ("workflow",),
    ("workflow", "steps", 0),
    ("workflow", "steps", 1),
    ("context",),
    ("executed_steps", 0),
    ("executed_steps", 1),
    ("lineage",),
    ("lineage", "entries", 0),
    ("lineage", "entries", 1),
    ("lineage", "entries", 0, "changes"),
    ("receipt",),
    ("receipt", "links", 0),
    ("receipt", "links", 1),
]
"""Every object of `_document()` whose keys the format fixes (the others hold states, inputs or payloads)."""

_DATA_OBJECTS: list[Path] = [
    ("lineage", "initial_state"),
    ("final_state",),
    ("context", "inputs"),
    ("context", "metadata"),
    ("workflow", "metadata"),
    ("workflow", "steps", 0, "payload"),
    ("executed_steps", 1, "payload"),
]
_ARRAYS: list[Path] = [("workflow", "steps"), ("executed_steps",), ("lineage", "entries"), ("receipt", "links")]
_STRINGS: list[Path] = [
    ("lineage", "workflow_id"),
    ("receipt", "id"),
    *[("receipt", "links", 1, name) for name in ("step_id", "status")],
]
_DIGESTS: list[Path] = [
    *[("receipt", name) for name in ("workflow_digest", "initial_state_digest", "genesis", "head")],
    *[("receipt", "links", 1, name) for name in ("step_digest", "input_digest", "state_digest", "hash")],
]


def _render(path: Path) -> str:
    return "result" + "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in path)


def _at(document: object, path: Path) -> object:
    for part in path:
        document = document[part]  # type: ignore[index]
    return document


def _replace(path: Path, value: object) -> dict[str, object]:
    document = _document()
    parent = _at(document, path[:-1])
    parent[path[-1]] = value  # type: ignore[index]
    return document


def _refusal(document: object) -> str:
    with pytest.raises(InvalidDocumentError) as info:
        OrchestrationResult.from_dict(document)  # type: ignore[arg-type]
    return str(info.value)


def test_from_dict_names_every_missing_field() -> None:
    for path in _RECORDS:
        for key in sorted(_at(_document(), path)):  # type: ignore[call-overload]
            document = _document()
            del _at(document, path)[key]  # type: ignore[attr-defined]
            assert _refusal(document) == f"{_render(path)}.{key}: missing"


def test_from_dict_names_every_unexpected_field() -> None:
    for path in _RECORDS:
        document = _document()
        record = _at(document, path)
        expected = sorted(record)  # type: ignore[call-overload]
        record["zz"] = 1  # type: ignore[index]
        assert _refusal(document) == f"{_render(path)}: unexpected keys ['zz']; expected only {expected}"


def test_from_dict_names_every_object_field_that_is_not_an_object() -> None:
    assert _refusal(7) == "result: expected an object, got int"
    for path in _RECORDS[1:] + _DATA_OBJECTS:
        assert _refusal(_replace(path, 7)) == f"{_render(path)}: expected an object, got int"


def test_from_dict_names_every_array_field_that_is_not_an_array() -> None:
    for path in _ARRAYS:
        assert _refusal(_replace(path, 7)) == f"{_render(path)}: expected an array, got int"
        assert _refusal(_replace(path, "ab")) == f"{_render(path)}: expected an array, got str"


def test_from_dict_names_every_string_field_that_is_not_a_string() -> None:
    for path in _STRINGS + _DIGESTS:
        assert _refusal(_replace(path, 7)) == f"{_render(path)}: expected a string, got int 7"
        assert _refusal(_replace(path, "\ud800")) == (
            f"{_render(path)}: string contains a lone surrogate '\\ud800' at index 0, which is not valid Unicode"
        )


@pytest.mark.parametrize(
    ("digest", "shown"),
    [
        ("abc", "'abc'"),
        ("", "''"),
        ("A" * 64, "'AAAAAAAAAAAAAAAAA...AAAAAAAAAAAAAAAAAA'"),
        ("X" * 64, "'XXXXXXXXXXXXXXXXX...XXXXXXXXXXXXXXXXXX'"),
        ("0" * 63 + "g", "'00000000000000000...00000000000000000g'"),
        ("0" * 65, "'00000000000000000...000000000000000000'"),
    ],
)
def test_from_dict_refuses_a_digest_that_is_not_64_lowercase_hex_digits(digest: str, shown: str) -> None:
    for path in _DIGESTS:
        if digest == "" and path[-1] == "input_digest":
            continue  # a step that took no input records the empty input digest
        assert _refusal(_replace(path, digest)) == f"{_render(path)}: expected 64 lowercase hex digits, got {shown}"


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda d: d["lineage"]["entries"][0]["changes"].update(removed=["ghost"]),
            "result.lineage.entries[0].changes.removed: 'ghost' is not in the state before this step",
        ),
        (
            lambda d: d["lineage"]["entries"][0]["changes"].update(set={"k": 1, "x": 2}, removed=["x"]),
            "result.lineage.entries[0].changes: key 'x' is both set and removed; a change does one or the other",
        ),
        (
            lambda d: d["lineage"]["entries"][0]["changes"].update(set={"k": 1, "x": 1}),
            "result.lineage.entries[0].changes.set: 'x' already has this value; not a change",
        ),
        (
            lambda d: d["lineage"]["entries"][0]["changes"].update(removed=7),
            "result.lineage.entries[0].changes.removed: expected a list of keys",
        ),
        (
            lambda d: d["lineage"].update(executed_step_ids=["a"]),
            "result.lineage.executed_step_ids: ['a'] disagrees with the entries ['a', 'h']",
        ),
        (
            lambda d: d["lineage"].update(workflow_id="other"),
            "result.lineage.workflow_id: 'other' is not the workflow id 'w'",
        ),
        (lambda d: d["receipt"].update(id="other"), "result.receipt.id: 'other' is not the workflow id 'w'"),
        (lambda d: d["receipt"].update(steps=["a"]), "result.receipt.steps: does not match the recorded links"),
        (
            lambda d: d["receipt"]["links"][-1].update(hash="0" * 64),
            "result.receipt.head: does not match the recorded links",
        ),
        (
            lambda d: d["lineage"]["entries"][0].update(step_id="zz"),
            "result.lineage.entries[0].step_id: 'zz' does not match executed step 'a'",
        ),
        (
            lambda d: d["lineage"]["entries"][0].update(status="done"),
            "result.lineage.entries[0].status: expected 'completed' or 'failed', got 'done'",
        ),
        (
            lambda d: d["lineage"]["entries"][0].update(status="failed"),
            "result.lineage.entries[0].changes: a failed step changes nothing",
        ),
        (
            lambda d: d["lineage"]["entries"][0].update(input="x"),
            "result.lineage.entries[0].input: a runtime step takes no input, got 'x'",
        ),
        (lambda d: d.update(error_message=3), "result.error_message: expected a string or null, got 3"),
        (
            lambda d: d.update(final_state={"x": math.nan}),
            "result.final_state: state.x: nan is not allowed (only finite numbers)",
        ),
        (
            lambda d: d["context"].update(yy=1, zz=2),
            "result.context: unexpected keys ['yy', 'zz']; expected only ['inputs', 'metadata']",
        ),
        (lambda d: d.update(success=1), "result.success: got int 1 where the lineage gives bool True"),
        (
            lambda d: d.update(run_id=type("Head", (str,), {})(d["run_id"])),
            "result.run_id: got Head 'RUNID' where the lineage gives str 'RUNID'",
        ),
        (
            lambda d: d.update(pending_step_id="h"),
            "result.pending_step_id: 'h' disagrees with the lineage, which gives None",
        ),
        (
            lambda d: d.update(failed_step_id="a"),
            "result.failed_step_id: 'a' disagrees with the lineage, which gives None",
        ),
    ],
)
def test_from_dict_refusal_messages_are_exact(edit: object, message: str) -> None:
    document = _document()
    edit(document)  # type: ignore[operator]
    assert _refusal(document) == message.replace("'RUNID'", brief_repr(str(document["run_id"])))


def test_from_dict_refuses_a_run_suspended_before_a_step_that_is_not_human() -> None:
    workflow = WorkflowDefinition(
        id="w", steps=[StepSpec("a", "runtime", {"operation": "noop"}), StepSpec("h", "human", {})]
    )
    document = run_workflow(workflow).to_dict()
    document["workflow"]["steps"][1]["kind"] = "runtime"  # type: ignore[index]
    assert (
        _refusal(document)
        == "result.status: the run stops before step 1 ('h'), which is neither a human nor an effect step"
    )


def test_from_dict_refuses_a_failed_step_that_is_not_the_last_one_run() -> None:
    steps = [StepSpec("a", "runtime", {"operation": "noop"}), StepSpec("b", "runtime", {"operation": "fail"})]
    document = run_workflow(WorkflowDefinition(id="w", steps=steps)).to_dict()
    entries = document["lineage"]["entries"]  # type: ignore[index]
    entries[0]["status"], entries[1]["status"] = "failed", "completed"
    assert _refusal(document) == "result.lineage.entries[0].status: a failed step must be the last one run"


def test_from_dict_names_both_digests_of_a_final_state_that_disagrees() -> None:
    document = _document()
    document["final_state"] = {"x": 2}
    recorded, last = State({"x": 2}).digest, State({"x": 1, "k": 1, "h": "yes"}).digest
    assert _refusal(document) == (
        f"result.final_state: digest {recorded[:12]} disagrees with the lineage's last state {last[:12]}"
    )


def test_a_result_refuses_an_unknown_status() -> None:
    result = OrchestrationResult.from_dict(_document())
    with pytest.raises(InvalidValueError) as info:
        OrchestrationResult(result.workflow, result.context, result.lineage, result.receipt, "done")
    assert str(info.value) == "status: expected one of ['completed', 'failed', 'suspended'], got 'done'"


def test_to_dict_without_states_leaves_out_both_whole_states() -> None:
    result = OrchestrationResult.from_dict(_document())
    document = result.to_dict(include_states=False)
    lineage = document["lineage"]
    assert isinstance(lineage, dict)
    assert document["final_state"] is None and lineage["initial_state"] is None
    full = result.to_dict()
    assert {**document, "final_state": full["final_state"], "lineage": {**lineage, "initial_state": {"x": 1}}} == full


def test_read_result_takes_the_states_it_is_given_in_their_place() -> None:
    result = OrchestrationResult.from_dict(_document())
    document = result.to_dict(include_states=False)
    initial, final = result.lineage.initial_state, result.final_state
    rebuilt, recorded_final = read_result(document, states=(initial, final))
    assert recorded_final is final
    assert rebuilt.lineage.initial_state is initial
    assert rebuilt.to_dict() == result.to_dict()


def test_from_dict_names_an_input_outside_the_value_domain() -> None:
    document = _document()
    document["lineage"]["entries"][1]["input"] = math.nan  # type: ignore[index]
    message = _refusal(document)
    assert message.startswith("result.lineage.entries[1].input: ")
    assert message.endswith("entries[1].input: nan is not allowed (only finite numbers)")


def test_a_result_rebuilt_from_its_document_resumes_like_the_live_one() -> None:
    steps = [
        StepSpec("a", "runtime", {"operation": "set", "key": "k", "value": 1}),
        StepSpec("h", "human", {}),
        StepSpec("b", "runtime", {"operation": "increment", "key": "k"}),
    ]
    live = run_workflow(WorkflowDefinition(id="w", steps=steps), ExecutionContext({"x": 1}))
    rebuilt = OrchestrationResult.from_dict(json.loads(json.dumps(live.to_dict())))
    assert rebuilt.pending_step_id == "h"
    assert resume(rebuilt, {"h": 2}).to_dict() == resume(live, {"h": 2}).to_dict()
