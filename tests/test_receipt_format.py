"""An independent verifier of stepfold receipts, and the tests that hold stepfold to it.

The verifier in the first half of this file implements docs/receipt-format.md
with nothing but `hashlib`, `rfc8785`, `array` and `json`: it imports no
stepfold code. The tests use stepfold's public API only to *produce* results;
from each result's `to_dict()` document (round-tripped through JSON text, as a
third party would receive it) the verifier recomputes the workflow digest, every
state digest (replaying `lineage.entries[*].changes` on
`lineage.initial_state` through an LtHash accumulator of its own), every step
and input digest, the genesis and every link, and the tests require the
document's `receipt` to be exactly the recomputed one.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import re
import sys
from array import array
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Union

import pytest
import rfc8785
from hypothesis import event, given
from hypothesis import strategies as st

import stepfold
from stepfold import ExecutionContext, OrchestrationResult, StepSpec, WorkflowDefinition
from tests.strategies import human_workflows, plain_states, plain_values, runtime_workflows

Json = Union[None, bool, int, float, str, list["Json"], dict[str, "Json"]]
"""Plain JSON data, as `json.loads` returns it."""

# ---------------------------------------------------------------------------
# The independent verifier (no stepfold imports below this line until the tests)
# ---------------------------------------------------------------------------

FORMAT_TAG = "stepfold/receipt/1"
LANES = 1024
ELEMENT_BYTES = 2 * LANES
LANE_MASK = 0xFFFF
STATUSES = ("completed", "failed")

assert array("H").itemsize == 2, "the verifier reads lanes through array('H'), which must be 16-bit"


def jcs(value: Json) -> bytes:
    """RFC 8785 canonical JSON, UTF-8 encoded."""
    return rfc8785.dumps(value)


def sha256_hex(value: Json) -> str:
    """SHA-256 (lowercase hex) of the JCS encoding of `value`."""
    return hashlib.sha256(jcs(value)).hexdigest()


def _lanes(little_endian: bytes) -> array[int]:
    lanes = array("H", little_endian)
    if sys.byteorder == "big":
        lanes.byteswap()
    return lanes


def _little_endian(lanes: array[int]) -> bytes:
    out = array("H", lanes)
    if sys.byteorder == "big":
        out.byteswap()
    return out.tobytes()


def entry_element(key: str, value: Json) -> array[int]:
    """SHAKE-256 of JCS `[key, value]`, 2048 bytes read as 1024 little-endian 16-bit lanes."""
    return _lanes(hashlib.shake_256(jcs([key, value])).digest(ELEMENT_BYTES))


class Accumulator:
    """LtHash accumulator: the lane-wise sum mod 2**16 of the elements of a state's entries."""

    def __init__(self) -> None:
        self.lanes: array[int] = _lanes(bytes(ELEMENT_BYTES))

    def add(self, key: str, value: Json) -> None:
        element = entry_element(key, value)
        self.lanes = array("H", [(a + b) & LANE_MASK for a, b in zip(self.lanes, element)])

    def subtract(self, key: str, value: Json) -> None:
        element = entry_element(key, value)
        self.lanes = array("H", [(a - b) & LANE_MASK for a, b in zip(self.lanes, element)])

    def digest(self) -> str:
        """The state digest: SHA-256 (hex) of the 2048-byte little-endian accumulator."""
        return hashlib.sha256(_little_endian(self.lanes)).hexdigest()


def state_digest(state: Mapping[str, Json]) -> str:
    """A state's digest computed from scratch, entry by entry."""
    acc = Accumulator()
    for key, value in state.items():
        acc.add(key, value)
    return acc.digest()


class ReplayedState:
    """A plain dict plus its accumulator, updated incrementally as a document's changes are replayed."""

    def __init__(self, initial: Mapping[str, Json]) -> None:
        self.data: dict[str, Json] = {}
        self.acc = Accumulator()
        self.write(initial)

    def write(self, entries: Mapping[str, Json]) -> None:
        for key, value in entries.items():
            if key in self.data:
                self.acc.subtract(key, self.data[key])
            self.acc.add(key, value)
            self.data[key] = value

    def drop(self, keys: Sequence[str]) -> None:
        for key in keys:
            if key in self.data:
                self.acc.subtract(key, self.data.pop(key))

    def digest(self) -> str:
        return self.acc.digest()


class NotVerified(AssertionError):
    """The document is not consistent with its own receipt."""


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise NotVerified(message)


def _obj(value: Json, where: str) -> dict[str, Json]:
    _check(isinstance(value, dict), f"{where}: expected an object")
    assert isinstance(value, dict)
    return value


def _arr(value: Json, where: str) -> list[Json]:
    _check(isinstance(value, list), f"{where}: expected an array")
    assert isinstance(value, list)
    return value


def _str(value: Json, where: str) -> str:
    _check(isinstance(value, str), f"{where}: expected a string")
    assert isinstance(value, str)
    return value


def recompute_receipt(doc: Mapping[str, Json]) -> dict[str, Json]:
    """The receipt section a `to_dict()` document must carry, recomputed from the rest of the document.

    Also checks what the receipt relies on: each executed step is the
    workflow's step at that position (a human step's with its input in
    `payload["input"]`), inputs agree with `context.inputs`, a failed step
    changed nothing and is last, and the replayed final state (checked both
    incrementally and from scratch) is `final_state`.
    """
    workflow = _obj(doc["workflow"], "workflow")
    workflow_id = _str(workflow["id"], "workflow.id")
    defined: list[dict[str, Json]] = []
    for index, raw in enumerate(_arr(workflow["steps"], "workflow.steps")):
        step = _obj(raw, f"workflow.steps[{index}]")
        defined.append({"id": step["id"], "kind": step["kind"], "payload": step["payload"]})
    workflow_digest = sha256_hex({"id": workflow_id, "metadata": workflow["metadata"], "steps": list(defined)})

    lineage = _obj(doc["lineage"], "lineage")
    state = ReplayedState(_obj(lineage["initial_state"], "lineage.initial_state"))
    initial_state_digest = state.digest()
    genesis = sha256_hex([FORMAT_TAG, workflow_digest, initial_state_digest])

    inputs = _obj(_obj(doc["context"], "context")["inputs"], "context.inputs")
    executed = _arr(doc["executed_steps"], "executed_steps")
    entries = _arr(lineage["entries"], "lineage.entries")
    _check(len(entries) == len(executed) <= len(defined), "lineage.entries: not one per executed step")

    previous = genesis
    links: list[Json] = []
    step_ids: list[Json] = []
    for index, raw in enumerate(entries):
        where = f"lineage.entries[{index}]"
        entry = _obj(raw, where)
        step = defined[index]
        step_id = _str(step["id"], f"workflow.steps[{index}].id")
        _check(entry["step_id"] == step_id, f"{where}.step_id: not the workflow's step {step_id!r}")
        status = _str(entry["status"], f"{where}.status")
        _check(status in STATUSES, f"{where}.status: {status!r}")
        _check(status == "completed" or index == len(entries) - 1, f"{where}: a failed step must be last")

        if step["kind"] == "human":
            given = entry["input"]
            _check(step_id in inputs and jcs(inputs[step_id]) == jcs(given), f"{where}.input: not context.inputs")
            payload = dict(_obj(step["payload"], f"workflow.steps[{index}].payload"), input=given)
            as_run: Json = {"id": step_id, "kind": step["kind"], "payload": payload}
            input_digest = sha256_hex(given)
        else:
            _check(entry["input"] is None, f"{where}.input: a {step['kind']} step takes no input")
            as_run = step
            input_digest = ""
        _check(jcs(executed[index]) == jcs(as_run), f"executed_steps[{index}]: not the step as defined")

        changes = _obj(entry["changes"], f"{where}.changes")
        written = _obj(changes["set"], f"{where}.changes.set")
        removed = [_str(key, f"{where}.changes.removed") for key in _arr(changes["removed"], f"{where}.changes.removed")]
        _check(not set(written) & set(removed), f"{where}.changes: a key both set and removed")
        _check(status == "completed" or not (written or removed), f"{where}.changes: a failed step changes nothing")
        state.write(written)
        state.drop(removed)

        step_digest = sha256_hex(step)
        digest = state.digest()
        link = sha256_hex([previous, step_digest, input_digest, digest, status])
        links.append(
            {
                "hash": link,
                "input_digest": input_digest,
                "state_digest": digest,
                "status": status,
                "step_digest": step_digest,
                "step_id": step_id,
            }
        )
        step_ids.append(step_id)
        previous = link

    final = _obj(doc["final_state"], "final_state")
    _check(jcs(state.data) == jcs(final), "final_state: not the replayed state")
    _check(state_digest(final) == state.digest(), "final_state: incremental and from-scratch digests differ")
    return {
        "genesis": genesis,
        "head": previous,
        "id": workflow_id,
        "initial_state_digest": initial_state_digest,
        "links": links,
        "steps": step_ids,
        "workflow_digest": workflow_digest,
    }


def as_received(doc: Mapping[str, object]) -> dict[str, Json]:
    """The document as a third party gets it: serialised to JSON text and parsed back."""
    parsed: Json = json.loads(json.dumps(doc))
    return _obj(parsed, "result")


# ---------------------------------------------------------------------------
# Tests
# ---------------------------------------------------------------------------

DOC = Path(__file__).resolve().parent.parent / "docs" / "receipt-format.md"

EMPTY_STATE_DIGEST = "e5a00aa9991ac8a5ee3109844d84a55583bd20572ad3ffcd42792f3c36b183ad"
WORKED_EXAMPLE = {
    "workflow digest": "116aa460f93695611a8baef027279af0045a513ca62234d0736bcfd3a395cab9",
    "initial state": "b06fe28d935a8c4fd7eabb9d2c988d69362c8b7c0ccfb56ce3fa273cb890dad5",
    "genesis": "65ca07affa91562bcbecc1dc3e82a9441a19f7d9f1200cd646de36ab4bace837",
    "link 1": "c07c60cb5481dd90537c158a5f7f7d26b430e73d2c210052eac8f7c6774c1c7f",
    "head": "becd7f8c1a6473ae2899a8d6df2bc0a7ce02410b585a050d5b860fcafbc6451c",
}
"""The values docs/receipt-format.md derives by hand; pinned so the doc, the verifier and stepfold cannot drift."""


def _verified(result: OrchestrationResult) -> dict[str, Json]:
    """The result's document, after checking its receipt is exactly the independently recomputed one."""
    doc = as_received(result.to_dict())
    recomputed = recompute_receipt(doc)
    assert recomputed == doc["receipt"]
    assert recomputed["head"] == result.receipt.head
    return doc


def _links(doc: Mapping[str, Json]) -> list[dict[str, Json]]:
    receipt = _obj(doc["receipt"], "receipt")
    return [_obj(link, "receipt.links[]") for link in _arr(receipt["links"], "receipt.links")]


@given(workflow=runtime_workflows(), initial=plain_states)
def test_independent_verifier_reproduces_receipt_head(
    workflow: WorkflowDefinition, initial: dict[str, object]
) -> None:
    result = stepfold.run_workflow(workflow, ExecutionContext(initial_state=initial))
    doc = as_received(result.to_dict())
    event(f"status: {result.status}")
    recomputed = recompute_receipt(doc)
    assert recomputed == doc["receipt"]
    assert recomputed["head"] == result.receipt.head
    assert recomputed["initial_state_digest"] == result.lineage.initial_state.digest
    assert [link["state_digest"] for link in _links(doc)] == [e.state.digest for e in result.lineage.entries]


@st.composite
def human_runs(
    draw: st.DrawFn,
) -> tuple[WorkflowDefinition, dict[str, object], dict[str, object], dict[str, object]]:
    """A human workflow, an initial state, the inputs given up front and the ones given on resume."""
    workflow = draw(human_workflows())
    initial = draw(plain_states)
    human = [step.id for step in workflow.steps if step.kind == "human"]
    inputs = {step_id: draw(plain_values) for step_id in human}
    up_front = draw(st.sets(st.sampled_from(human), max_size=len(human) - 1))
    first = {k: v for k, v in inputs.items() if k in up_front}
    later = {k: v for k, v in inputs.items() if k not in up_front}
    return workflow, initial, first, later


@given(human_runs())
def test_independent_verifier_across_suspend_and_resume(
    run: tuple[WorkflowDefinition, dict[str, object], dict[str, object], dict[str, object]],
) -> None:
    workflow, initial, first, later = run
    fresh = stepfold.run_workflow(workflow, ExecutionContext(initial_state=initial, inputs={**first, **later}))
    fresh_doc = _verified(fresh)
    partial = stepfold.run_workflow(workflow, ExecutionContext(initial_state=initial, inputs=first))
    partial_doc = _verified(partial)
    # A receipt only ever grows: the shorter run's links are a prefix of the longer run's.
    assert _links(fresh_doc)[: len(_links(partial_doc))] == _links(partial_doc)
    event(f"up front: {partial.status}")
    if partial.status == "suspended":
        resumed = stepfold.resume(partial, later)
        assert _verified(resumed) == fresh_doc


def _worked_example() -> WorkflowDefinition:
    return WorkflowDefinition(
        id="example",
        steps=[
            StepSpec("set-b", "runtime", {"operation": "set", "key": "b", "value": 2}),
            StepSpec("review", "human", {"into": "approval"}),
        ],
    )


def _doc_script_output() -> dict[str, str]:
    """Run the standalone script embedded in docs/receipt-format.md and parse its `name  hex` lines."""
    match = re.search(r"```python\n(# receipt_example\.py\n.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL)
    assert match is not None, f"{DOC}: no ```python block starting with '# receipt_example.py'"
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(match.group(1), str(DOC), "exec"), {"__name__": "receipt_example"})
    lines = (re.fullmatch(r"(.+?)\s{2,}([0-9a-f]{64})", line) for line in out.getvalue().splitlines())
    return {m.group(1): m.group(2) for m in lines if m is not None}


def test_worked_example_is_what_stepfold_and_the_doc_compute() -> None:
    result = stepfold.run_workflow(
        _worked_example(),
        ExecutionContext(initial_state={"a": 1}, inputs={"review": {"approved": True}}),
    )
    assert result.status == "completed"
    doc = _verified(result)
    links = _links(doc)
    stepfold_values: dict[str, str] = {
        "empty state": stepfold.State().digest,
        "workflow digest": result.workflow.digest,
        "initial state": result.receipt.initial_state_digest,
        "genesis": result.receipt.genesis,
        "link 1": _str(links[0]["hash"], "receipt.links[0].hash"),
        "head": result.receipt.head,
    }
    assert stepfold_values == {"empty state": EMPTY_STATE_DIGEST, **WORKED_EXAMPLE}
    assert _doc_script_output() == stepfold_values

    text = DOC.read_text(encoding="utf-8")
    for link in links:  # every digest and hash of the example appears in full in the doc
        for name in ("hash", "input_digest", "state_digest", "step_digest"):
            assert link[name] == "" or _str(link[name], name) in text, (link["step_id"], name)
    for value in stepfold_values.values():
        assert value in text
    entries: list[tuple[str, Json]] = [("a", 1), ("b", 2), ("approval", {"approved": True})]
    for key, entry in entries:
        assert _little_endian(entry_element(key, entry)).hex()[:16] in text, key


def test_worked_example_suspends_then_resumes_to_the_same_head() -> None:
    suspended = stepfold.run_workflow(_worked_example(), ExecutionContext(initial_state={"a": 1}))
    assert suspended.status == "suspended"
    assert suspended.pending_step_id == "review"
    suspended_doc = _verified(suspended)
    assert _obj(suspended_doc["receipt"], "receipt")["head"] == WORKED_EXAMPLE["link 1"]

    resumed = stepfold.resume(suspended, {"review": {"approved": True}})
    resumed_doc = _verified(resumed)
    assert resumed.receipt.head == WORKED_EXAMPLE["head"]
    fresh = stepfold.run_workflow(
        _worked_example(),
        ExecutionContext(initial_state={"a": 1}, inputs={"review": {"approved": True}}),
    )
    assert resumed_doc == as_received(fresh.to_dict())


def test_suspend_and_resume_with_two_human_steps_and_a_null_input() -> None:
    workflow = WorkflowDefinition(
        id="two-humans",
        steps=[
            StepSpec("ask", "human", {}),
            StepSpec("count", "runtime", {"operation": "increment", "key": "n", "by": 2}),
            StepSpec("confirm", "human", {"into": "ok"}),
        ],
    )
    first = stepfold.run_workflow(workflow, ExecutionContext(initial_state={"n": 1}))
    assert (first.status, first.pending_step_id, _links(_verified(first))) == ("suspended", "ask", [])
    second = stepfold.resume(first, {"ask": None})  # None counts as given: its input digest is SHA-256("null")
    assert (second.status, second.pending_step_id) == ("suspended", "confirm")
    second_links = _links(_verified(second))
    assert second_links[0]["input_digest"] == hashlib.sha256(b"null").hexdigest()
    assert second_links[1]["input_digest"] == ""
    third = stepfold.resume(second, {"confirm": [1, "two"]})
    third_doc = _verified(third)
    assert third.status == "completed"
    assert _links(third_doc)[:2] == second_links
    assert third_doc["final_state"] == {"ask": None, "n": 3, "ok": [1, "two"]}


@pytest.mark.parametrize(
    ("failing", "given"),
    [
        (StepSpec("copy-missing", "runtime", {"operation": "copy", "source": "nope", "target": "t"}), None),
        (StepSpec("approve", "human", {"operation": "fail", "reason": "rejected"}), {"approved": False}),
    ],
    ids=["runtime", "human"],
)
def test_independent_verifier_on_a_failed_run(failing: StepSpec, given: object) -> None:
    workflow = WorkflowDefinition(
        id="failing",
        steps=[
            StepSpec("set-x", "runtime", {"operation": "set", "key": "x", "value": [1, 2]}),
            failing,
            StepSpec("never", "runtime", {"operation": "set", "key": "y", "value": 0}),
        ],
    )
    inputs = {} if failing.kind != "human" else {failing.id: given}
    result = stepfold.run_workflow(workflow, ExecutionContext(initial_state={"a": 1}, inputs=inputs))
    assert (result.status, result.success, result.failed_step_id) == ("failed", False, failing.id)
    doc = _verified(result)
    before, failed = _links(doc)
    assert failed["status"] == "failed"
    assert failed["state_digest"] == before["state_digest"] == state_digest({"a": 1, "x": [1, 2]})
    assert failed["step_digest"] == sha256_hex(as_received(failing.to_dict()))
    assert failed["input_digest"] == ("" if failing.kind != "human" else sha256_hex({"approved": False}))
    entry = _obj(_arr(_obj(doc["lineage"], "lineage")["entries"], "entries")[-1], "entry")
    assert entry["changes"] == {"removed": [], "set": {}}


def _child(node: Json, key: str | int) -> Json:
    if isinstance(node, dict) and isinstance(key, str):
        return node[key]
    if isinstance(node, list) and isinstance(key, int):
        return node[key]
    raise KeyError(key)


def _set_at(doc: Json, path: Sequence[str | int], value: Json) -> None:
    *parents, last = path
    target = doc
    for key in parents:
        target = _child(target, key)
    if isinstance(target, dict) and isinstance(last, str):
        target[last] = value
    elif isinstance(target, list) and isinstance(last, int):
        target[last] = value
    else:
        raise KeyError(last)


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("lineage", "initial_state", "a"), 2),
        (("lineage", "entries", 0, "changes", "set", "b"), 3),
        (("lineage", "entries", 1, "input", "approved"), False),
        (("workflow", "steps", 0, "payload", "value"), 3),
        (("workflow", "metadata"), {"owner": "someone"}),
        (("workflow", "id"), "other"),
        (("lineage", "entries", 1, "status"), "failed"),
        (("receipt", "links", 0, "state_digest"), EMPTY_STATE_DIGEST),
        (("receipt", "head"), EMPTY_STATE_DIGEST),
    ],
)
def test_verifier_rejects_tampered_documents(path: Sequence[str | int], value: Json) -> None:
    result = stepfold.run_workflow(
        _worked_example(),
        ExecutionContext(initial_state={"a": 1}, inputs={"review": {"approved": True}}),
    )
    doc = as_received(result.to_dict())
    assert recompute_receipt(doc) == doc["receipt"]
    _set_at(doc, path, value)
    try:
        recomputed = recompute_receipt(doc)
    except NotVerified:
        return
    assert recomputed != doc["receipt"]


def test_empty_state_digest_is_sha256_of_2048_zero_bytes() -> None:
    assert state_digest({}) == hashlib.sha256(bytes(ELEMENT_BYTES)).hexdigest() == EMPTY_STATE_DIGEST
    assert stepfold.State().digest == EMPTY_STATE_DIGEST
    empty = stepfold.run_workflow(WorkflowDefinition(id="nothing"), ExecutionContext())
    doc = _verified(empty)
    receipt = _obj(doc["receipt"], "receipt")
    assert receipt["head"] == receipt["genesis"] == sha256_hex([FORMAT_TAG, receipt["workflow_digest"], EMPTY_STATE_DIGEST])


def test_integral_floats_above_2_53_follow_rfc8785() -> None:
    value = 5.433397167483369e16
    result = stepfold.run_workflow(WorkflowDefinition(id="big"), ExecutionContext(initial_state={"x": value}))
    assert result.receipt.initial_state_digest == state_digest({"x": value})
