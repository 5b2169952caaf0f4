"""`verify`: check a result's receipt chain, its recorded states, and replay it. A pure function of data.

Order of checks (the first failure decides the verdict):
1. the chain: genesis from the recorded digests, then each link's hash from
   its recorded fields (an altered, dropped, reordered or appended link
   breaks it at that link);
2. the record: the receipt binds this workflow and initial state, each link
   names the step the workflow has at that position with that step's
   digest, and each recorded state, input and status hashes to what the
   link says;
3. replay: re-running the recorded workflow from the recorded initial state
   with the recorded inputs and the given operations reproduces every link,
   the status and the error message.
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs

from stepfold.engine import run_workflow
from stepfold.errors import InvalidDocumentError, InvalidValueError, StepfoldError
from stepfold.lineage import COMPLETED, FAILED
from stepfold.operations import DEFAULT_OPERATIONS
from stepfold.operations.base import Operation
from stepfold.policy import TIER2_POLICY, Policy
from stepfold.receipt import ReceiptLink, genesis_hash, input_digest, link_hash
from stepfold.result import OrchestrationResult, read_result
from stepfold.state import State
from stepfold.values import Value, values_identical
from stepfold.workflow import ExecutionContext, StepSpec

__all__ = ["verify", "Verification", "Mismatch"]


@attrs.frozen
class Mismatch:
    """Where verification first failed: the step's position in the run and its id."""

    index: int
    step_id: str

    def __str__(self) -> str:
        return f"step {self.index} ({self.step_id!r})"


@attrs.frozen
class Verification:
    """The verdict: `ok`, how many steps checked out, the first mismatch, one sentence of reason, the replay."""

    ok: bool
    checked_steps: int
    first_mismatch: Mismatch | None
    reason: str
    replayed: OrchestrationResult | None

    def __bool__(self) -> bool:
        return self.ok


def _fail(checked: int, mismatch: Mismatch | None, reason: str, replayed: OrchestrationResult | None = None) -> Verification:
    return Verification(False, checked, mismatch, reason, replayed)


def verify(
    result: OrchestrationResult | Mapping[str, object],
    *,
    operations: Mapping[str, Operation] = DEFAULT_OPERATIONS,
    policy: Policy = TIER2_POLICY,
) -> Verification:
    """Verify a result, or a `to_dict()` document, by its receipt chain, its recorded states and a replay.

    Never raises for a bad document: one that cannot be read as a result gives `ok=False` with the reason.
    """
    if not isinstance(result, OrchestrationResult):
        try:
            document_verdict = _verify_document_chain(result)
        except InvalidValueError:  # a field no JSON encoder can hash (a lone surrogate): from_dict names it
            document_verdict = None
        if document_verdict is not None:
            return document_verdict
        try:
            result, recorded_final = read_result(result)
        except InvalidDocumentError as exc:
            return _fail(0, None, f"the document cannot be read as a result: {exc}")
    else:
        recorded_final = result.final_state
    return _verify_result(result, recorded_final, operations, policy)


def _verify_document_chain(document: object) -> Verification | None:
    """Check the raw document's chain before rebuilding it, so a damaged link is named by its position."""
    if not isinstance(document, Mapping):
        return _fail(0, None, f"the document cannot be read as a result: expected an object, got {type(document).__name__}")
    receipt = document.get("receipt")
    if not isinstance(receipt, Mapping):
        return None  # from_dict names what is missing
    links = receipt.get("links")
    if not isinstance(links, list):
        return None
    workflow_digest, state_digest = receipt.get("workflow_digest"), receipt.get("initial_state_digest")
    if not isinstance(workflow_digest, str) or not isinstance(state_digest, str):
        return None
    chain = genesis_hash(workflow_digest, state_digest)
    if receipt.get("genesis") != chain:
        return _fail(0, None, "the receipt's genesis does not hash its workflow and initial-state digests")
    for index, link in enumerate(links):
        fields = ("step_digest", "input_digest", "state_digest", "status", "hash", "step_id")
        if not isinstance(link, Mapping) or not all(isinstance(link.get(f), str) for f in fields):
            return None
        expected = link_hash(chain, link["step_digest"], link["input_digest"], link["state_digest"], link["status"])
        if link["hash"] != expected:
            return _fail(index, Mismatch(index, link["step_id"]), f"receipt link {index} ({link['step_id']!r}) does not hash its recorded fields onto the previous link")
        chain = expected
    if receipt.get("head") != chain:
        return _fail(len(links), None, "the receipt's head is not its last link")
    return None


def _verify_result(
    result: OrchestrationResult, recorded_final: State, operations: Mapping[str, Operation], policy: Policy
) -> Verification:
    receipt, lineage, workflow = result.receipt, result.lineage, result.workflow
    chain = receipt.genesis
    for index, link in enumerate(receipt.links):
        if link.hash != link_hash(chain, link.step_digest, link.input_digest, link.state_digest, link.status):
            return _fail(index, Mismatch(index, link.step_id), f"receipt link {index} ({link.step_id!r}) does not hash its recorded fields onto the previous link")
        chain = link.hash
    if receipt.workflow_digest != workflow.digest:
        return _fail(0, None, "the recorded workflow is not the one the receipt binds (workflow digest differs)")
    if receipt.initial_state_digest != lineage.initial_state.digest:
        return _fail(0, None, "the recorded initial state is not the one the receipt binds (state digest differs)")
    if len(receipt.links) != len(lineage.entries):
        index = min(len(receipt.links), len(lineage.entries))
        return _fail(index, _mismatch_at(result, index), f"the receipt has {len(receipt.links)} links for {len(lineage.entries)} executed steps")
    for index, (link, entry) in enumerate(zip(receipt.links, lineage.entries)):
        problem = _record_problem(result, index, link, entry.step, entry.input, entry.took_input, entry.state.digest, entry.status)
        if problem is not None:
            return _fail(index, Mismatch(index, link.step_id), problem)
    if recorded_final != result.final_state:
        return _fail(len(receipt.links), None, "the recorded final state differs from the state after the last step")
    return _replay(result, operations, policy)


def _record_problem(
    result: OrchestrationResult,
    index: int,
    link: ReceiptLink,
    step: StepSpec,
    given: Value,
    took_input: bool,
    state_digest: str,
    status: str,
) -> str | None:
    steps = result.workflow.steps
    if index >= len(steps):
        return f"step {index} ({link.step_id!r}) is not in the workflow, which has {len(steps)} steps"
    defined = steps[index]
    where = f"step {index} ({link.step_id!r})"
    if link.step_id != defined.id or step.id != defined.id:
        return f"{where}: the workflow has {defined.id!r} at this position"
    if link.step_digest != defined.digest:
        return f"{where}: the step digest does not match the workflow's step"
    expected_payload = defined.payload.set("input", given) if took_input else defined.payload
    if step.kind != defined.kind or not values_identical(step.payload, expected_payload):
        return f"{where}: the executed step differs from the workflow's step"
    inputs = result.context.inputs
    if not took_input and given is not None:
        return f"{where}: a {step.kind} step took no input, but one is recorded"
    if took_input and (defined.id not in inputs or not values_identical(inputs[defined.id], given)):
        return f"{where}: the recorded input differs from the run's inputs"
    if link.input_digest != input_digest(given, given=took_input):
        return f"{where}: the recorded input does not hash to the receipt's input digest"
    if link.state_digest != state_digest:
        return f"{where}: the recorded state does not hash to the receipt's state digest"
    if link.status != status or status not in (COMPLETED, FAILED):
        return f"{where}: the recorded status {status!r} differs from the receipt's {link.status!r}"
    return None


def _mismatch_at(result: OrchestrationResult, index: int) -> Mismatch | None:
    steps = result.workflow.steps
    return Mismatch(index, steps[index].id) if index < len(steps) else None


def _replay(result: OrchestrationResult, operations: Mapping[str, Operation], policy: Policy) -> Verification:
    context = ExecutionContext(result.lineage.initial_state, result.context.inputs, result.context.metadata)
    try:
        replayed = run_workflow(result.workflow, context, policy=policy, operations=operations)
    except StepfoldError as exc:
        return _fail(0, None, f"replay is impossible: {exc}")
    recorded, again = result.receipt.links, replayed.receipt.links
    for index in range(max(len(recorded), len(again))):
        if index >= len(recorded) or index >= len(again) or recorded[index] != again[index]:
            mismatch = _mismatch_at(result, index)
            what = _divergence(recorded[index] if index < len(recorded) else None, again[index] if index < len(again) else None)
            return _fail(index, mismatch, f"replay diverges at step {index} ({mismatch.step_id if mismatch else '?'!r}): {what}", replayed)
    if replayed.status != result.status or replayed.error_message != result.error_message:
        return _fail(len(recorded), None, f"replay ends {replayed.status!r} ({replayed.error_message}) where the record says {result.status!r} ({result.error_message})", replayed)
    return Verification(True, len(recorded), None, f"all {len(recorded)} steps verified: chain intact, states match, replay identical", replayed)


def _divergence(recorded: ReceiptLink | None, again: ReceiptLink | None) -> str:
    if recorded is None:
        return "the replay runs a step the record does not have"
    if again is None:
        return "the record has a step the replay does not run"
    if recorded.status != again.status:
        return f"the step {again.status} on replay but {recorded.status} in the record"
    if recorded.state_digest != again.state_digest:
        return "the step produces a different state on replay"
    return "the step's link differs on replay"
