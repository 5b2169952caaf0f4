"""An independent verifier of stepfold receipts, and the tests that hold stepfold to it.

The verifier in the first half of this file implements docs/receipt-format.md
with nothing but `hashlib`, `rfc8785`, `array` and `json`: it uses no
stepfold code. The tests use stepfold's public API only to *produce* results;
from each result's `to_dict()` document (round-tripped through JSON text, as a
third party would receive it) the verifier recomputes the policy digest, the
workflow digest, every state digest (replaying `lineage.entries[*].changes` on
`lineage.initial_state` through an LtHash accumulator of its own), every step
and input digest (checking each effect step's outcome and the step as it ran),
the genesis and every link, and the status fields a document derives from
them; the tests require the document's `receipt` to be exactly the recomputed
one. Documents of format 2 (what stepfold writes) and of format 1 (stepfold
0.1, which bound no policy) are both checked.
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
from stepfold import ExecutionContext, OrchestrationResult, Policy, StepSpec, WorkflowDefinition
from stepfold.effects import EffectCall, drive, next_call
from tests.strategies import human_workflows, ops_steps, plain_states, plain_values, runtime_workflows, small_keys

Json = Union[None, bool, int, float, str, list["Json"], dict[str, "Json"]]
"""Plain JSON data, as `json.loads` returns it."""

# ---------------------------------------------------------------------------
# The independent verifier (no stepfold code is used below this line until the tests)
# ---------------------------------------------------------------------------

RESULT_FORMAT = "stepfold/result/2"
RESULT_FORMAT_1 = "stepfold/result/1"
RECEIPT_FORMAT = "stepfold/receipt/2"
RECEIPT_FORMAT_1 = "stepfold/receipt/1"
RECEIPT_FORMATS = {RESULT_FORMAT: RECEIPT_FORMAT, RESULT_FORMAT_1: RECEIPT_FORMAT_1}
FORMAT_2_KEYS = ("pending_effect", "policy", "run_id", "waiting_for")
"""The top-level keys of a format-2 document that a format-1 document lacks."""
FORMAT_2_RECEIPT_KEYS = ("format", "policy_digest")
"""The receipt keys of a format-2 document that a format-1 receipt lacks."""
POLICY_KEYS = frozenset({"allowed_effects", "allowed_kinds", "max_human_steps", "max_steps"})
EFFECT_KEY_TAG = "stepfold/effect-key/1"
HUMAN = "human"
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


def _same(a: Json, b: Json) -> bool:
    """Equal as JSON values: the same JCS encoding (so `true` is not `1`, and `1.0` is `1`)."""
    return jcs(a) == jcs(b)


def _sorted_names(value: Json) -> bool:
    """A list of strings, sorted by code point, each once (how a policy document lists names)."""
    if not isinstance(value, list):
        return False
    names = [name for name in value if isinstance(name, str)]
    return len(names) == len(value) and names == sorted(set(names))


def policy_digest(policy: Json) -> str:
    """H(policy document), after checking it is one: exactly the four keys, names sorted and unique, counts >= 0."""
    doc = _obj(policy, "policy")
    _check(set(doc) == POLICY_KEYS, f"policy: expected exactly the keys {sorted(POLICY_KEYS)}, got {sorted(doc)}")
    _check(_sorted_names(doc["allowed_kinds"]), "policy.allowed_kinds: not a sorted list of unique names")
    effects = doc["allowed_effects"]
    _check(
        effects is None or (_sorted_names(effects) and "" not in _arr(effects, "")),
        "policy.allowed_effects: not null or sorted unique non-empty names",
    )
    for name in ("max_human_steps", "max_steps"):
        count = doc[name]
        _check(type(count) is int and count >= 0, f"policy.{name}: expected an int >= 0")
    return sha256_hex(doc)


def genesis_hash(receipt_format: str, workflow_digest: str, initial_state_digest: str, policy_hash: str | None) -> str:
    """Format 2: H(["stepfold/receipt/2", wd, isd, pd]); format 1: H(["stepfold/receipt/1", wd, isd])."""
    if receipt_format == RECEIPT_FORMAT_1:
        _check(policy_hash is None, "a format-1 genesis binds no policy")
        return sha256_hex([RECEIPT_FORMAT_1, workflow_digest, initial_state_digest])
    _check(receipt_format == RECEIPT_FORMAT and policy_hash is not None, f"receipt format {receipt_format!r}")
    return sha256_hex([RECEIPT_FORMAT, workflow_digest, initial_state_digest, policy_hash])


def link_hash(previous: str, step_digest: str, input_digest: str, state_digest: str, status: str) -> str:
    """H([previous, step_digest, input_digest, state_digest, status])."""
    return sha256_hex([previous, step_digest, input_digest, state_digest, status])


def effect_key(previous_link: str, step_id: str) -> str:
    """The idempotency key of an effect step: H(["stepfold/effect-key/1", previous_link, step_id])."""
    return sha256_hex([EFFECT_KEY_TAG, previous_link, step_id])


def effect_of(step: Mapping[str, Json], where: str, fmt: str = RESULT_FORMAT) -> str | None:
    """The effect a step performs (`payload["effect"]` of a step that is not human), or None.

    Format 1 has no effect steps: to stepfold 0.1, `effect` was an argument like any other.
    """
    payload = _obj(step["payload"], f"{where}.payload")
    if "effect" not in payload or fmt == RESULT_FORMAT_1:
        return None
    effect = payload["effect"]
    _check(isinstance(effect, str) and effect != "", f"{where}.payload.effect: expected a non-empty string")
    _check(step["kind"] != HUMAN, f"{where}: a human step cannot name an effect")
    assert isinstance(effect, str)
    return effect


def takes_input(step: Mapping[str, Json], where: str, fmt: str = RESULT_FORMAT) -> bool:
    """A human step (a person's input) or an effect step (its outcome) runs on `context.inputs[step.id]`."""
    return step["kind"] == HUMAN or effect_of(step, where, fmt) is not None


def read_outcome(value: Json, where: str) -> tuple[bool, Json]:
    """`(True, V)` for `{"ok": true, "value": V, "attempts": n}`, `(False, None)` for a failed outcome; else NotVerified."""
    outcome = _obj(value, where)
    ok = outcome.get("ok")
    _check(ok is True or ok is False, f"{where}.ok: expected true or false")
    expected = {"ok", "value", "attempts"} if ok else {"ok", "error", "attempts"}
    _check(set(outcome) == expected, f"{where}: expected exactly the keys {sorted(expected)}, got {sorted(outcome)}")
    attempts = outcome["attempts"]
    _check(type(attempts) is int and attempts >= 1, f"{where}.attempts: expected an int >= 1")
    if ok:
        return True, outcome["value"]
    error = _obj(outcome["error"], f"{where}.error")
    _check(set(error) == {"type", "message"}, f"{where}.error: expected exactly the keys ['message', 'type']")
    _check(isinstance(error["type"], str) and error["type"] != "", f"{where}.error.type: expected a non-empty string")
    _check(isinstance(error["message"], str), f"{where}.error.message: expected a string")
    return False, None


def recompute_receipt(doc: Mapping[str, Json]) -> dict[str, Json]:
    """The receipt section a `to_dict()` document must carry, recomputed from the rest of the document.

    Also checks what the receipt relies on: the format's keys; each executed
    step is the workflow's step at that position as it ran (a human step's
    with its input in `payload["input"]`, an ok effect outcome's value there,
    a failed outcome's step as defined); inputs agree with `context.inputs`;
    a failed step changed nothing and is last; the replayed final state
    (checked both incrementally and from scratch) is `final_state`; and the
    derived fields (`status`, `success`, `failed_step_id`,
    `pending_step_id`, and in format 2 `run_id`, `waiting_for`,
    `pending_effect`) are the ones the links imply.
    """
    fmt = _str(doc["format"], "format")
    _check(fmt in RECEIPT_FORMATS, f"format: {fmt!r} is not a result format")
    receipt_format = RECEIPT_FORMATS[fmt]
    if fmt == RESULT_FORMAT:
        _check(all(key in doc for key in FORMAT_2_KEYS), f"a {fmt} document has the keys {list(FORMAT_2_KEYS)}")
        policy_hash: str | None = policy_digest(doc["policy"])
    else:
        _check(not any(key in doc for key in FORMAT_2_KEYS), f"a {fmt} document has none of {list(FORMAT_2_KEYS)}")
        policy_hash = None

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
    genesis = genesis_hash(receipt_format, workflow_digest, initial_state_digest, policy_hash)

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
        payload = _obj(step["payload"], f"workflow.steps[{index}].payload")

        as_run: Json
        if takes_input(step, f"workflow.steps[{index}]", fmt):
            given = entry["input"]
            _check(step_id in inputs and _same(inputs[step_id], given), f"{where}.input: not context.inputs")
            input_digest = sha256_hex(given)  # a person's input, or an effect's whole outcome
            if effect_of(step, f"workflow.steps[{index}]", fmt) is None:
                as_run = {"id": step_id, "kind": step["kind"], "payload": dict(payload, input=given)}
            else:
                ok, value = read_outcome(given, f"{where}.input")
                if ok:
                    as_run = {"id": step_id, "kind": step["kind"], "payload": dict(payload, input=value)}
                else:  # nothing ran: the step as defined, failed
                    _check(status == "failed", f"{where}.status: a failed outcome fails its step")
                    as_run = step
        else:
            _check(entry["input"] is None, f"{where}.input: a {step['kind']} step takes no input")
            as_run = step
            input_digest = ""
        _check(_same(executed[index], as_run), f"executed_steps[{index}]: not the step as it ran")

        changes = _obj(entry["changes"], f"{where}.changes")
        _check(set(changes) == {"removed", "set"}, f"{where}.changes: expected the keys ['removed', 'set']")
        written = _obj(changes["set"], f"{where}.changes.set")
        removed = [
            _str(key, f"{where}.changes.removed") for key in _arr(changes["removed"], f"{where}.changes.removed")
        ]
        _check(not set(written) & set(removed), f"{where}.changes: a key both set and removed")
        _check(status == "completed" or not (written or removed), f"{where}.changes: a failed step changes nothing")
        state.write(written)
        state.drop(removed)

        step_digest = sha256_hex(step)
        digest = state.digest()
        link = link_hash(previous, step_digest, input_digest, digest, status)
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
    _check(_same(state.data, final), "final_state: not the replayed state")
    _check(state_digest(final) == state.digest(), "final_state: incremental and from-scratch digests differ")
    _check_derived(doc, workflow_id, defined, entries, inputs, step_ids, previous)
    receipt: dict[str, Json] = {
        "genesis": genesis,
        "head": previous,
        "id": workflow_id,
        "initial_state_digest": initial_state_digest,
        "links": links,
        "steps": step_ids,
        "workflow_digest": workflow_digest,
    }
    if policy_hash is not None:
        receipt.update(format=receipt_format, policy_digest=policy_hash)
    return dict(sorted(receipt.items()))


def _check_derived(
    doc: Mapping[str, Json],
    workflow_id: str,
    defined: Sequence[Mapping[str, Json]],
    entries: Sequence[Json],
    inputs: Mapping[str, Json],
    step_ids: Sequence[Json],
    head: str,
) -> None:
    """The fields a document derives from its links: where the run stopped and why."""
    last = _obj(entries[-1], "lineage.entries[-1]") if entries else None
    failed_step_id: Json = None
    pending: Mapping[str, Json] | None = None
    if last is not None and last["status"] == "failed":
        status, failed_step_id = "failed", last["step_id"]
    elif len(entries) == len(defined):
        status = "completed"
    else:
        status, pending = "suspended", defined[len(entries)]
        where = f"workflow.steps[{len(entries)}]"
        _check(
            takes_input(pending, where, _str(doc["format"], "format")),
            f"{where}: a run only stops before a human or an effect step",
        )
        _check(_str(pending["id"], f"{where}.id") not in inputs, f"{where}: its input is given, so the run goes on")
    derived: dict[str, Json] = {
        "id": workflow_id,
        "status": status,
        "success": status != "failed",
        "failed_step_id": failed_step_id,
        "pending_step_id": None if pending is None else pending["id"],
    }
    if doc["format"] == RESULT_FORMAT:
        effect = None if pending is None else effect_of(pending, "pending step")
        derived.update(
            run_id=head,
            waiting_for=None if pending is None else ("effect" if effect is not None else "human"),
            pending_effect=effect,
        )
    for key, expected in derived.items():
        _check(_same(doc[key], expected), f"{key}: {doc[key]!r}, but the links give {expected!r}")
    lineage = _obj(doc["lineage"], "lineage")
    _check(_same(lineage["executed_step_ids"], list(step_ids)), "lineage.executed_step_ids: not the executed steps")
    _check(_same(lineage["workflow_id"], derived["id"]), "lineage.workflow_id: not the workflow id")


def effect_keys(doc: Mapping[str, Json]) -> dict[str, str]:
    """The idempotency key of every effect step the run executed or waits at, by step id.

    The key of the step at position j is H(["stepfold/effect-key/1",
    previous, step id]), `previous` being the receipt head just before it:
    the genesis for j = 0, link j - 1 otherwise. Checks the receipt first.
    """
    receipt = recompute_receipt(doc)
    _check(_same(receipt, doc["receipt"]), "receipt: not the recomputed one")
    steps = [
        _obj(step, "workflow.steps[]") for step in _arr(_obj(doc["workflow"], "workflow")["steps"], "workflow.steps")
    ]
    chain = [_str(receipt["genesis"], "genesis")]
    chain += [_str(_obj(link, "link")["hash"], "link.hash") for link in _arr(receipt["links"], "links")]
    reached = len(chain) if doc["status"] == "suspended" else len(chain) - 1  # a suspended run waits at step len(links)
    return {
        _str(step["id"], "step.id"): effect_key(previous, _str(step["id"], "step.id"))
        for step, previous in zip(steps[:reached], chain)
        if effect_of(step, "step", _str(doc["format"], "format")) is not None
    }


def rechain(doc: dict[str, Json]) -> None:
    """Recompute, in place, `doc`'s receipt hashes from its workflow and its links' other fields.

    The workflow digest and each link's step digest from `doc.workflow`, the
    genesis with the tag of `doc.format` (and `receipt.policy_digest` in
    format 2), then every link's hash and the head; each link's input digest,
    state digest and status are kept.
    """
    workflow = _obj(doc["workflow"], "workflow")
    steps = [_obj(step, "workflow.steps[]") for step in _arr(workflow["steps"], "workflow.steps")]
    defined: list[Json] = [{"id": step["id"], "kind": step["kind"], "payload": step["payload"]} for step in steps]
    receipt = _obj(doc["receipt"], "receipt")
    receipt["workflow_digest"] = sha256_hex({"id": workflow["id"], "metadata": workflow["metadata"], "steps": defined})
    policy_hash = receipt.get("policy_digest")
    previous = genesis_hash(
        RECEIPT_FORMATS[_str(doc["format"], "format")],
        _str(receipt["workflow_digest"], "receipt.workflow_digest"),
        _str(receipt["initial_state_digest"], "receipt.initial_state_digest"),
        None if policy_hash is None else _str(policy_hash, "receipt.policy_digest"),
    )
    receipt["genesis"] = previous
    for index, raw in enumerate(_arr(receipt["links"], "receipt.links")):
        link = _obj(raw, "receipt.links[]")
        link["step_digest"] = sha256_hex(defined[index])
        fields = [_str(link[name], name) for name in ("step_digest", "input_digest", "state_digest", "status")]
        link["hash"] = previous = link_hash(previous, *fields)
    receipt["head"] = previous


def as_format_1(doc: Mapping[str, Json]) -> dict[str, Json]:
    """A format-2 document rewritten as stepfold 0.1 wrote it: no policy, no new keys, a format-1 chain.

    Drops `policy`, `run_id`, `waiting_for`, `pending_effect` and the
    receipt's `format` and `policy_digest`, tags it `stepfold/result/1`, and
    recomputes the genesis with the format-1 tag and from it every link and
    the head (each link's other fields are unchanged).
    """
    out = _obj(json.loads(json.dumps(doc)), "result")
    for key in FORMAT_2_KEYS:
        del out[key]
    out["format"] = RESULT_FORMAT_1
    receipt = _obj(out["receipt"], "receipt")
    for key in FORMAT_2_RECEIPT_KEYS:
        del receipt[key]
    rechain(out)
    return out


def as_received(doc: Mapping[str, object]) -> dict[str, Json]:
    """The document as a third party gets it: serialised to JSON text and parsed back."""
    parsed: Json = json.loads(json.dumps(doc))
    return _obj(parsed, "result")


# ---------------------------------------------------------------------------
# Tests
# ---------------------------------------------------------------------------

DOC = Path(__file__).resolve().parent.parent / "docs" / "receipt-format.md"

EMPTY_STATE_DIGEST = "e5a00aa9991ac8a5ee3109844d84a55583bd20572ad3ffcd42792f3c36b183ad"
DEFAULT_POLICY_DIGEST = "515b915cf6dd67984f2a4faf0738959baba138069cd6dd6275dc43599f210bd4"
WORKED_EXAMPLE = {
    "workflow digest": "116aa460f93695611a8baef027279af0045a513ca62234d0736bcfd3a395cab9",
    "initial state": "b06fe28d935a8c4fd7eabb9d2c988d69362c8b7c0ccfb56ce3fa273cb890dad5",
    "policy digest": DEFAULT_POLICY_DIGEST,
    "genesis": "3652aedd4816c27dbdabc4a7b308d2cf178d5b08c6211e6b4d1303f89391319e",
    "link 1": "3b109aba2b536a5ea23fc507b349474690403caccde9f8897b4a49f9ec6fd0d9",
    "head": "93d82b7f71beb4d81ace9c3fd4bd8d660975bf98875fe3180d5ec4e26e8da05c",
    "format 1 genesis": "65ca07affa91562bcbecc1dc3e82a9441a19f7d9f1200cd646de36ab4bace837",
    "format 1 head": "becd7f8c1a6473ae2899a8d6df2bc0a7ce02410b585a050d5b860fcafbc6451c",
}
"""The values docs/receipt-format.md derives for its first example (format 2, and the same run in format 1,
whose values are the ones stepfold 0.1 wrote); pinned so the doc, the verifier and stepfold cannot drift."""
EFFECT_EXAMPLE = {
    "effect workflow": "c1bfdc3124b4c3557244df92216f239aadc2dca92eab73e0a7cdcc83becdcc3a",
    "effect genesis": "302039877243dbefd432ab895bc08f670c258a6b02fe165b7ab185ef62c1c4b8",
    "effect key": "ca1fdc76c9eb953924bbcc588296341f5844f0382eab41acd0391c011a168c5c",
    "effect input": "075d43011d2e68200159f817ac33984d2fe7753530008966f87fa08c17da9f0a",
    "effect state": "a1ebf57e8ada8f3c0c29a327c88ecd5dc0b531a24598a2b05aacaa1735c3ee9a",
    "effect head": "e25f183603fb7fc247b42769cb8a09f101827fc123535ebf8eea326d37a2f41a",
    "failed input": "47903817eea1af6e7c72e606fad564ba8d4801cbf6682b1fbc40fd2dc25cb6fa",
    "failed head": "fb01b52e06057a5792ae19af9fdc03a1b4af958b60f42b9e242299850b990659",
}
"""The values docs/receipt-format.md derives for its effect example (one effect step, ok and failed outcomes)."""
EXAMPLE_OUTCOME: dict[str, object] = {"ok": True, "value": {"temp": 21}, "attempts": 1}
EXAMPLE_FAILED: dict[str, object] = {
    "ok": False,
    "error": {"type": "TimeoutError", "message": "no answer"},
    "attempts": 3,
}


def _verified(result: OrchestrationResult) -> dict[str, Json]:
    """The result's document, after checking its receipt is exactly the independently recomputed one."""
    doc = as_received(result.to_dict())
    recomputed = recompute_receipt(doc)
    assert recomputed == doc["receipt"]
    assert recomputed["head"] == result.receipt.head == result.run_id
    return doc


def _links(doc: Mapping[str, Json]) -> list[dict[str, Json]]:
    receipt = _obj(doc["receipt"], "receipt")
    return [_obj(link, "receipt.links[]") for link in _arr(receipt["links"], "receipt.links")]


def _entries(doc: Mapping[str, Json]) -> list[dict[str, Json]]:
    entries = _arr(_obj(doc["lineage"], "lineage")["entries"], "lineage.entries")
    return [_obj(entry, "lineage.entries[]") for entry in entries]


def _check_format_1(doc: Mapping[str, Json]) -> dict[str, Json]:
    """`doc` rewritten as format 1: the verifier accepts it, and so does stepfold (verify, and read and write back)."""
    old = as_format_1(doc)
    assert recompute_receipt(old) == old["receipt"]
    verification = stepfold.verify(old)
    assert verification.verdict == "ok", verification.reason
    assert OrchestrationResult.from_dict(old).to_dict() == old
    return old


@given(workflow=runtime_workflows(), initial=plain_states)
def test_independent_verifier_reproduces_receipt_head(workflow: WorkflowDefinition, initial: dict[str, object]) -> None:
    result = stepfold.run_workflow(workflow, ExecutionContext(initial_state=initial))
    doc = as_received(result.to_dict())
    event(f"status: {result.status}")
    recomputed = recompute_receipt(doc)
    assert recomputed == doc["receipt"]
    assert recomputed["head"] == result.receipt.head == doc["run_id"]
    assert recomputed["policy_digest"] == result.policy.digest == DEFAULT_POLICY_DIGEST
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
        assert (partial_doc["waiting_for"], partial_doc["pending_effect"]) == ("human", None)
        resumed = stepfold.resume(partial, later)
        assert _verified(resumed) == fresh_doc


# --- effect steps -----------------------------------------------------------

EFFECT_NAMES = ("fetch", "notify")
SERVICE = "service"
"""A step kind of its own, allowed by some generated policies: effect steps need not be runtime steps."""

ok_outcomes = st.builds(
    lambda value, attempts: stepfold.ok_outcome(value, attempts=attempts), plain_values, st.integers(1, 3)
)
failed_outcomes = st.builds(
    lambda kind, message, attempts: stepfold.failed_outcome(kind, message, attempts=attempts),
    st.sampled_from(["TimeoutError", "ConnectionError", "InvalidValueError"]),
    st.text(max_size=8),
    st.integers(1, 3),
)
outcomes = st.one_of(ok_outcomes, ok_outcomes, ok_outcomes, failed_outcomes)
"""Effect outcomes, three in four ok."""


@st.composite
def effect_step(draw: st.DrawFn, index: int, kind: str) -> StepSpec:
    """An effect step: `record` (with or without `into`), an operation that ignores the value, or one that fails."""
    payload: dict[str, object] = {"effect": draw(st.sampled_from(EFFECT_NAMES))}
    shape = draw(st.sampled_from(["record", "into", "into", "preset", "set", "set", "fail"]))
    if shape == "into":
        payload["into"] = draw(small_keys)
    elif shape == "preset":  # an `input` in the definition is replaced by the outcome's value when the step runs
        payload.update(into=draw(small_keys), input="preset")
    elif shape == "set":
        payload.update(operation="set", key=draw(small_keys), value=draw(plain_values))
    elif shape == "fail":  # an ok outcome whose operation fails: a failed step run on the value
        payload.update(operation="fail", reason="refused")
    return StepSpec(f"e{index}", kind, payload)


EffectRun = tuple[WorkflowDefinition, Policy, dict[str, object], dict[str, object], dict[str, object]]


@st.composite
def effect_runs(draw: st.DrawFn) -> EffectRun:
    """A workflow with 1..3 effect steps among runtime and human ones, its policy, an initial state,
    the inputs (outcomes for effect steps) given up front and the ones given on resume."""
    policy = draw(
        st.sampled_from(
            [
                stepfold.TIER2_POLICY,
                Policy(max_steps=6, max_human_steps=1, allowed_kinds={"runtime", "human", SERVICE}),
                Policy(max_steps=5, allowed_effects=EFFECT_NAMES),
            ]
        )
    )
    effects = draw(st.integers(1, 3))
    humans = draw(st.integers(0, min(policy.max_human_steps, policy.max_steps - effects)))
    runtime = draw(st.integers(0, policy.max_steps - effects - humans))
    kinds = draw(st.permutations(["effect"] * effects + ["human"] * humans + ["runtime"] * runtime))
    effect_kinds = sorted(policy.allowed_kinds - {"human"})
    steps: list[StepSpec] = []
    inputs: dict[str, object] = {}
    for index, kind in enumerate(kinds):
        if kind == "effect":
            step = draw(effect_step(index, draw(st.sampled_from(effect_kinds))))
            inputs[step.id] = draw(outcomes)
        elif kind == "human":
            step = StepSpec(f"h{index}", "human", {"into": draw(small_keys)})
            inputs[step.id] = draw(plain_values)
        else:
            step = draw(ops_steps(index))
        steps.append(step)
    workflow = WorkflowDefinition(id="effects", steps=steps)
    up_front = draw(st.sets(st.sampled_from(sorted(inputs))))
    first = {k: v for k, v in inputs.items() if k in up_front}
    later = {k: v for k, v in inputs.items() if k not in up_front}
    return workflow, policy, draw(plain_states), first, later


@given(effect_runs())
def test_independent_verifier_on_runs_with_effect_steps(run: EffectRun) -> None:
    workflow, policy, initial, first, later = run
    fresh = stepfold.run_workflow(
        workflow, ExecutionContext(initial_state=initial, inputs={**first, **later}), policy=policy
    )
    fresh_doc = _verified(fresh)
    assert fresh_doc["policy"] == policy.to_dict()
    assert _obj(fresh_doc["receipt"], "receipt")["policy_digest"] == policy_digest(fresh_doc["policy"]) == policy.digest
    event(f"fresh: {fresh.status}")
    partial = stepfold.run_workflow(workflow, ExecutionContext(initial_state=initial, inputs=first), policy=policy)
    partial_doc = _verified(partial)
    assert _links(fresh_doc)[: len(_links(partial_doc))] == _links(partial_doc)
    keys = effect_keys(partial_doc)
    assert {k: v for k, v in effect_keys(fresh_doc).items() if k in keys} == keys
    event(f"up front: {partial.status} {partial.waiting_for}")
    if partial.status == "suspended":
        resumed = stepfold.resume(partial, later)
        assert _verified(resumed) == fresh_doc
        if partial.waiting_for == "effect":
            assert next_call(partial).key == keys[_str(partial_doc["pending_step_id"], "pending_step_id")]


def test_suspended_at_an_effect_step_then_resumed_with_its_outcome() -> None:
    workflow = WorkflowDefinition(
        id="fetch-then-set",
        steps=[
            StepSpec("set-city", "runtime", {"operation": "set", "key": "city", "value": "Oslo"}),
            StepSpec("fetch-weather", "runtime", {"effect": "fetch", "into": "weather", "units": "metric"}),
            StepSpec("review", "human", {"into": "approval"}),
        ],
    )
    suspended = stepfold.run_workflow(workflow, ExecutionContext(initial_state={"a": 1}))
    doc = _verified(suspended)
    assert (doc["status"], doc["pending_step_id"], doc["waiting_for"], doc["pending_effect"]) == (
        "suspended",
        "fetch-weather",
        "effect",
        "fetch",
    )
    assert doc["run_id"] == _links(doc)[0]["hash"]
    key = effect_key(_str(doc["run_id"], "run_id"), "fetch-weather")
    assert effect_keys(doc) == {"fetch-weather": key}
    call = next_call(suspended)
    assert (call.key, call.step_id, call.effect) == (key, "fetch-weather", "fetch")
    assert stepfold.thaw(call.arguments) == {"into": "weather", "units": "metric"}  # the payload without `effect`

    outcome = stepfold.ok_outcome({"temp": 21, "sky": ["clear"]}, attempts=2)
    at_review = stepfold.resume(suspended, {"fetch-weather": outcome})
    review_doc = _verified(at_review)
    assert (review_doc["pending_step_id"], review_doc["waiting_for"], review_doc["pending_effect"]) == (
        "review",
        "human",
        None,
    )
    link = _links(review_doc)[1]
    assert link["input_digest"] == sha256_hex(
        as_received({"v": stepfold.thaw(outcome)})["v"]
    )  # the whole outcome, attempts included
    assert _arr(review_doc["executed_steps"], "executed_steps")[1] == {
        "id": "fetch-weather",
        "kind": "runtime",
        "payload": {"effect": "fetch", "input": {"sky": ["clear"], "temp": 21}, "into": "weather", "units": "metric"},
    }
    assert _entries(review_doc)[1]["input"] == {"attempts": 2, "ok": True, "value": {"sky": ["clear"], "temp": 21}}
    assert effect_keys(review_doc) == {"fetch-weather": key}  # the key of a position never changes

    done = stepfold.resume(at_review, {"review": True})
    fresh = stepfold.run_workflow(
        workflow, ExecutionContext(initial_state={"a": 1}, inputs={"fetch-weather": outcome, "review": True})
    )
    assert _verified(done) == _verified(fresh)
    assert done.final_state.to_dict() == {
        "a": 1,
        "approval": True,
        "city": "Oslo",
        "weather": {"sky": ["clear"], "temp": 21},
    }


def test_drive_hands_each_effect_handler_the_documented_idempotency_key() -> None:
    workflow = WorkflowDefinition(
        id="two-effects",
        steps=[
            StepSpec("fetch-a", "runtime", {"effect": "fetch", "into": "a"}),
            StepSpec("count", "runtime", {"operation": "increment", "key": "n"}),
            StepSpec("fetch-b", "runtime", {"effect": "fetch"}),
        ],
    )
    calls: list[EffectCall] = []

    def fetch(call: EffectCall) -> object:
        calls.append(call)
        return {"step": call.step_id, "attempt": call.attempt}

    result = drive(workflow, ExecutionContext(initial_state={"n": 0}), effects={"fetch": fetch})
    doc = _verified(result)
    assert result.status == "completed"
    links = _links(doc)
    receipt = _obj(doc["receipt"], "receipt")
    assert [(c.step_id, c.key) for c in calls] == [
        ("fetch-a", effect_key(_str(receipt["genesis"], "genesis"), "fetch-a")),
        ("fetch-b", effect_key(_str(links[1]["hash"], "hash"), "fetch-b")),
    ]
    assert effect_keys(doc) == {c.step_id: c.key for c in calls}
    assert doc["final_state"] == {
        "a": {"attempt": 1, "step": "fetch-a"},
        "fetch-b": {"attempt": 1, "step": "fetch-b"},
        "n": 1,
    }


@pytest.mark.parametrize("kind", ["runtime", SERVICE])
def test_a_failed_outcome_fails_its_step_without_running_it(kind: str) -> None:
    policy = Policy(allowed_kinds={"runtime", "human", SERVICE})
    fetch = StepSpec("fetch", kind, {"effect": "fetch", "operation": "set", "key": "k", "value": 1})
    workflow = WorkflowDefinition(
        id="failing-effect",
        steps=[
            StepSpec("set-x", "runtime", {"operation": "set", "key": "x", "value": 1}),
            fetch,
            StepSpec("never", "human", {}),
        ],
    )
    outcome = stepfold.failed_outcome("ConnectionError", "refused", attempts=3)
    result = stepfold.run_workflow(workflow, ExecutionContext(inputs={"fetch": outcome, "never": 1}), policy=policy)
    doc = _verified(result)
    assert (doc["status"], doc["success"], doc["failed_step_id"], doc["waiting_for"], doc["run_id"]) == (
        "failed",
        False,
        "fetch",
        None,
        _links(doc)[-1]["hash"],
    )
    assert _arr(doc["executed_steps"], "executed_steps")[-1] == as_received(fetch.to_dict())  # as defined: nothing ran
    failed = _links(doc)[-1]
    assert (failed["status"], failed["state_digest"]) == ("failed", state_digest({"x": 1}))
    assert failed["input_digest"] == sha256_hex(
        {"attempts": 3, "error": {"message": "refused", "type": "ConnectionError"}, "ok": False}
    )
    assert _entries(doc)[-1]["changes"] == {"removed": [], "set": {}}
    assert "ConnectionError: refused" in _str(doc["error_message"], "error_message")


# --- the worked examples ----------------------------------------------------


def _worked_example() -> WorkflowDefinition:
    return WorkflowDefinition(
        id="example",
        steps=[
            StepSpec("set-b", "runtime", {"operation": "set", "key": "b", "value": 2}),
            StepSpec("review", "human", {"into": "approval"}),
        ],
    )


def _effect_example() -> WorkflowDefinition:
    return WorkflowDefinition(
        id="weather", steps=[StepSpec("fetch-weather", "runtime", {"effect": "fetch", "into": "weather"})]
    )


def _doc_script_output() -> dict[str, str]:
    """Run the standalone script embedded in docs/receipt-format.md and parse its `name  hex` lines."""
    match = re.search(r"```python\n(# receipt_example\.py\n.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL)
    assert match is not None, f"{DOC}: no ```python block starting with '# receipt_example.py'"
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(match.group(1), str(DOC), "exec"), {"__name__": "receipt_example"})
    lines = (re.fullmatch(r"(.+?)\s{2,}([0-9a-f]{64})", line) for line in out.getvalue().splitlines())
    printed = {m.group(1): m.group(2) for m in lines if m is not None}
    shown = re.search(r"Its output:\n\n```\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL)
    assert shown is not None and shown.group(1) == out.getvalue(), (
        "the doc's 'Its output' is not what the script prints"
    )
    return printed


def _doc_json_blocks() -> list[Json]:
    """Every ```json block of docs/receipt-format.md, parsed."""
    blocks = re.findall(r"```json\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL)
    return [json.loads(block) for block in blocks]


def test_worked_example_is_what_stepfold_and_the_doc_compute() -> None:
    result = stepfold.run_workflow(
        _worked_example(),
        ExecutionContext(initial_state={"a": 1}, inputs={"review": {"approved": True}}),
    )
    assert result.status == "completed"
    doc = _verified(result)
    links = _links(doc)
    old = _check_format_1(doc)
    old_receipt = _obj(old["receipt"], "receipt")
    stepfold_values: dict[str, str] = {
        "empty state": stepfold.State().digest,
        "workflow digest": result.workflow.digest,
        "initial state": result.receipt.initial_state_digest,
        "policy digest": result.policy.digest,
        "genesis": result.receipt.genesis,
        "link 1": _str(links[0]["hash"], "receipt.links[0].hash"),
        "head": result.receipt.head,
        "format 1 genesis": _str(old_receipt["genesis"], "genesis"),
        "format 1 head": _str(old_receipt["head"], "head"),
    }
    assert stepfold_values == {"empty state": EMPTY_STATE_DIGEST, **WORKED_EXAMPLE}
    script = _doc_script_output()
    assert {name: script[name] for name in stepfold_values} == stepfold_values
    assert stepfold.TIER2_POLICY.to_dict() == {
        "allowed_effects": None,
        "allowed_kinds": ["human", "runtime"],
        "max_human_steps": 2,
        "max_steps": 5,
    }

    blocks = _doc_json_blocks()
    assert doc["receipt"] in blocks, "the doc shows the worked example's receipt as stepfold writes it"
    assert doc["policy"] in blocks, "the doc shows the default policy document"
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
    assert _obj(suspended_doc["receipt"], "receipt")["head"] == WORKED_EXAMPLE["link 1"] == suspended_doc["run_id"]
    assert (suspended_doc["waiting_for"], suspended_doc["pending_effect"]) == ("human", None)

    resumed = stepfold.resume(suspended, {"review": {"approved": True}})
    resumed_doc = _verified(resumed)
    assert resumed.receipt.head == WORKED_EXAMPLE["head"]
    fresh = stepfold.run_workflow(
        _worked_example(),
        ExecutionContext(initial_state={"a": 1}, inputs={"review": {"approved": True}}),
    )
    assert resumed_doc == as_received(fresh.to_dict())


def test_effect_worked_example_is_what_stepfold_and_the_doc_compute() -> None:
    suspended = stepfold.run_workflow(_effect_example())
    waiting = _verified(suspended)
    assert (waiting["status"], waiting["waiting_for"], waiting["pending_effect"], waiting["pending_step_id"]) == (
        "suspended",
        "effect",
        "fetch",
        "fetch-weather",
    )
    assert waiting["run_id"] == EFFECT_EXAMPLE["effect genesis"]
    key = next_call(suspended).key
    assert effect_keys(waiting) == {"fetch-weather": key}

    result = stepfold.resume(suspended, {"fetch-weather": stepfold.ok_outcome({"temp": 21})})
    doc = _verified(result)
    fresh = stepfold.run_workflow(_effect_example(), ExecutionContext(inputs={"fetch-weather": EXAMPLE_OUTCOME}))
    assert as_received(fresh.to_dict()) == doc
    driven = drive(_effect_example(), effects={"fetch": lambda call: {"temp": 21}})
    assert as_received(driven.to_dict()) == doc
    failed = stepfold.run_workflow(_effect_example(), ExecutionContext(inputs={"fetch-weather": EXAMPLE_FAILED}))
    failed_doc = _verified(failed)
    assert failed.status == "failed"
    (link,) = _links(doc)
    (failed_link,) = _links(failed_doc)
    stepfold_values = {
        "effect workflow": result.workflow.digest,
        "effect genesis": result.receipt.genesis,
        "effect key": key,
        "effect input": _str(link["input_digest"], "input_digest"),
        "effect state": _str(link["state_digest"], "state_digest"),
        "effect head": result.receipt.head,
        "failed input": _str(failed_link["input_digest"], "input_digest"),
        "failed head": failed.receipt.head,
    }
    assert stepfold_values == EFFECT_EXAMPLE
    assert failed_link["state_digest"] == EMPTY_STATE_DIGEST
    script = _doc_script_output()
    assert {name: script[name] for name in stepfold_values} == stepfold_values

    blocks = _doc_json_blocks()
    assert doc["executed_steps"] in blocks, "the doc shows the effect step as it ran"
    assert _entries(doc) in blocks, "the doc shows the effect step's lineage entry"
    assert doc["receipt"] in blocks, "the doc shows the effect example's receipt"
    assert failed_doc["executed_steps"] == _obj(waiting["workflow"], "workflow")["steps"]  # as defined: nothing ran
    text = DOC.read_text(encoding="utf-8")
    for value in stepfold_values.values():
        assert value in text
    assert _str(link["step_digest"], "step_digest") in text


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
        (
            StepSpec("check", "runtime", {"effect": "fetch", "operation": "fail", "reason": "no"}),
            {"ok": True, "value": 7, "attempts": 1},
        ),
    ],
    ids=["runtime", "human", "effect-ok-but-operation-fails"],
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
    inputs = {} if not failing.takes_input else {failing.id: given}
    result = stepfold.run_workflow(workflow, ExecutionContext(initial_state={"a": 1}, inputs=inputs))
    assert (result.status, result.success, result.failed_step_id) == ("failed", False, failing.id)
    doc = _verified(result)
    before, failed = _links(doc)
    assert failed["status"] == "failed"
    assert failed["state_digest"] == before["state_digest"] == state_digest({"a": 1, "x": [1, 2]})
    assert failed["step_digest"] == sha256_hex(as_received(failing.to_dict()))
    assert failed["input_digest"] == ("" if not failing.takes_input else sha256_hex(as_received({"v": given})["v"]))
    assert _entries(doc)[-1]["changes"] == {"removed": [], "set": {}}
    if failing.effect is not None:  # the outcome was ok, so the step ran on its value
        assert _obj(_arr(doc["executed_steps"], "executed_steps")[-1], "step")["payload"] == {
            "effect": "fetch",
            "input": 7,
            "operation": "fail",
            "reason": "no",
        }


# --- format 1 ---------------------------------------------------------------


def test_a_format_1_document_still_verifies() -> None:
    result = stepfold.run_workflow(
        _worked_example(),
        ExecutionContext(initial_state={"a": 1}, inputs={"review": {"approved": True}}),
    )
    old = _check_format_1(_verified(result))
    assert old["format"] == RESULT_FORMAT_1
    assert not set(FORMAT_2_KEYS) & set(old)
    receipt = _obj(old["receipt"], "receipt")
    assert not set(FORMAT_2_RECEIPT_KEYS) & set(receipt)
    assert (receipt["genesis"], receipt["head"]) == (
        WORKED_EXAMPLE["format 1 genesis"],
        WORKED_EXAMPLE["format 1 head"],
    )
    assert receipt["genesis"] == sha256_hex(
        [RECEIPT_FORMAT_1, receipt["workflow_digest"], receipt["initial_state_digest"]]
    )
    # Links hash the same fields in both formats; only the chain's start differs.
    assert [{k: v for k, v in link.items() if k != "hash"} for link in _links(old)] == [
        {k: v for k, v in link.items() if k != "hash"} for link in _links(_verified(result))
    ]
    # A format-1 document is read back as format 1: its receipt binds no policy and it writes no format-2 keys.
    read = OrchestrationResult.from_dict(old)
    assert (read.receipt.policy_digest, read.receipt.genesis, read.run_id) == (
        None,
        receipt["genesis"],
        receipt["head"],
    )

    # Each half of the format is checked: format-2 keys in a format-1 document, or a format-2 genesis, fail.
    mixed = dict(old, policy=as_received(stepfold.TIER2_POLICY.to_dict()))
    with pytest.raises(NotVerified):
        recompute_receipt(mixed)
    assert stepfold.verify(mixed).verdict == "tampered"
    relabelled = as_received(result.to_dict())
    relabelled["format"] = RESULT_FORMAT_1
    with pytest.raises(NotVerified):
        recompute_receipt(relabelled)


@given(st.one_of(human_runs(), st.builds(lambda w, s: (w, s, {}, {}), runtime_workflows(), plain_states)))
def test_format_1_documents_of_generated_runs_verify(
    run: tuple[WorkflowDefinition, dict[str, object], dict[str, object], dict[str, object]],
) -> None:
    workflow, initial, first, later = run
    partial = stepfold.run_workflow(workflow, ExecutionContext(initial_state=initial, inputs=first))
    old = _check_format_1(_verified(partial))
    event(f"status: {partial.status}")
    if partial.status == "suspended":  # a format-1 run resumes into a format-1 chain, the one a fresh format-1 run has
        resumed = stepfold.resume(OrchestrationResult.from_dict(old), later)
        fresh = stepfold.run_workflow(workflow, ExecutionContext(initial_state=initial, inputs={**first, **later}))
        assert as_received(resumed.to_dict()) == as_format_1(_verified(fresh))


def _format_1_document_with_an_effect_argument() -> dict[str, Json]:
    """A document as stepfold 0.1 wrote it for a step with an argument named `effect` (an ordinary argument then)."""
    workflow = WorkflowDefinition(
        id="old",
        steps=[
            StepSpec("s", "runtime", {"operation": "set", "key": "k", "value": 1, "tag": "notify"}),
            StepSpec("h", "human", {"into": "answer", "tag": "ask"}),
        ],
    )
    doc = as_format_1(_verified(stepfold.run_workflow(workflow, ExecutionContext(inputs={"h": "yes"}))))
    steps = _arr(_obj(doc["workflow"], "workflow")["steps"], "steps") + _arr(doc["executed_steps"], "executed_steps")
    for step in steps:
        payload = _obj(_obj(step, "step")["payload"], "payload")
        payload["effect"] = payload.pop("tag")
    rechain(doc)
    return doc


def test_in_format_1_an_effect_argument_is_an_ordinary_argument() -> None:
    doc = _format_1_document_with_an_effect_argument()
    receipt = recompute_receipt(doc)
    assert receipt == doc["receipt"]
    assert [link["input_digest"] for link in _links(doc)] == ["", sha256_hex("yes")]
    with pytest.raises(NotVerified):  # in format 2 the same steps would be an effect step and an invalid human step
        recompute_receipt(dict(doc, format=RESULT_FORMAT))


def test_a_format_1_document_with_an_effect_argument_is_unverifiable_here_not_tampered() -> None:
    # stepfold 0.1 had no effects: `effect` was an ordinary argument there, which this stepfold cannot replay as meant.
    doc = _format_1_document_with_an_effect_argument()
    recompute_receipt(doc)  # the independent verifier accepts it: the record is intact
    verdict = stepfold.verify(doc)
    assert verdict.verdict == "unverifiable" and "verify it with stepfold 0.1" in verdict.reason


# --- tampering --------------------------------------------------------------


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


def _rejected(doc: dict[str, Json], path: Sequence[str | int], value: Json) -> None:
    assert recompute_receipt(doc) == doc["receipt"]
    _set_at(doc, path, value)
    try:
        recomputed = recompute_receipt(doc)
    except NotVerified:
        return
    assert recomputed != doc["receipt"]


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
        (("policy", "max_steps"), 6),
        (("policy", "allowed_kinds"), ["runtime", "human"]),
        (("receipt", "policy_digest"), EMPTY_STATE_DIGEST),
        (("receipt", "format"), RECEIPT_FORMAT_1),
        (("run_id",), WORKED_EXAMPLE["link 1"]),
        (("waiting_for",), "human"),
        (("status",), "suspended"),
    ],
)
def test_verifier_rejects_tampered_documents(path: Sequence[str | int], value: Json) -> None:
    result = stepfold.run_workflow(
        _worked_example(),
        ExecutionContext(initial_state={"a": 1}, inputs={"review": {"approved": True}}),
    )
    _rejected(as_received(result.to_dict()), path, value)


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("lineage", "entries", 0, "input", "value", "temp"), 22),
        (("lineage", "entries", 0, "input", "attempts"), 2),
        (("lineage", "entries", 0, "input", "attempts"), 0),
        (("lineage", "entries", 0, "input", "ok"), False),
        (("lineage", "entries", 0, "input"), {"temp": 21}),
        (("executed_steps", 0, "payload", "input"), {"attempts": 1, "ok": True, "value": {"temp": 21}}),
        (("context", "inputs", "fetch-weather", "attempts"), 2),
        (("workflow", "steps", 0, "payload", "effect"), "fetch-again"),
        (("pending_effect",), "fetch"),
    ],
)
def test_verifier_rejects_tampered_effect_documents(path: Sequence[str | int], value: Json) -> None:
    result = stepfold.run_workflow(_effect_example(), ExecutionContext(inputs={"fetch-weather": EXAMPLE_OUTCOME}))
    _rejected(as_received(result.to_dict()), path, value)


def test_verifier_rejects_a_failed_outcome_on_a_completed_step() -> None:
    result = stepfold.run_workflow(_effect_example(), ExecutionContext(inputs={"fetch-weather": EXAMPLE_FAILED}))
    doc = as_received(result.to_dict())
    assert recompute_receipt(doc) == doc["receipt"]
    _set_at(doc, ("lineage", "entries", 0, "status"), "completed")
    with pytest.raises(NotVerified, match="a failed outcome fails its step"):
        recompute_receipt(doc)


def test_empty_state_digest_is_sha256_of_2048_zero_bytes() -> None:
    assert state_digest({}) == hashlib.sha256(bytes(ELEMENT_BYTES)).hexdigest() == EMPTY_STATE_DIGEST
    assert stepfold.State().digest == EMPTY_STATE_DIGEST
    empty = stepfold.run_workflow(WorkflowDefinition(id="nothing"), ExecutionContext())
    doc = _verified(empty)
    receipt = _obj(doc["receipt"], "receipt")
    assert (
        receipt["head"]
        == receipt["genesis"]
        == doc["run_id"]
        == sha256_hex([RECEIPT_FORMAT, receipt["workflow_digest"], EMPTY_STATE_DIGEST, DEFAULT_POLICY_DIGEST])
    )


def test_integral_floats_above_2_53_follow_rfc8785() -> None:
    value = 5.433397167483369e16
    result = stepfold.run_workflow(WorkflowDefinition(id="big"), ExecutionContext(initial_state={"x": value}))
    assert result.receipt.initial_state_digest == state_digest({"x": value})
