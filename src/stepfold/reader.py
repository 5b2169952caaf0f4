"""Reading a result document (`to_dict()`) back into an `OrchestrationResult`, naming the path of the first thing wrong.

`read_result` rebuilds the workflow, context, lineage (replaying each
entry's changes onto the initial state), receipt and policy, and checks
everything derived (status, failed and pending steps, ids) against the
lineage. It does not recompute the receipt's hashes beyond what the
receipt's own fields imply: that is `verify`'s job.
"""

from __future__ import annotations

from collections.abc import Mapping

from stepfold.errors import InvalidDocumentError, InvalidValueError, UnsupportedDocumentError
from stepfold.failure import expected_failure
from stepfold.fields import (
    building,
    read_digest,
    read_field,
    read_mapping,
    read_record,
    read_sequence,
    read_text,
    read_value,
)
from stepfold.frozen import values_identical
from stepfold.lineage import COMPLETED, FAILED, SUSPENDED, Lineage, LineageEntry
from stepfold.messages import brief_repr
from stepfold.outcome import read_outcome
from stepfold.policy import TIER2_POLICY, Policy
from stepfold.receipt import RECEIPT_FORMAT, Receipt, ReceiptLink
from stepfold.result import FORMAT_2_KEYS, RESULT_FORMAT, RESULT_FORMAT_1, STATUSES, OrchestrationResult
from stepfold.state import State, StateDelta
from stepfold.workflow import ExecutionContext, StepSpec, WorkflowDefinition

__all__ = ["read_result", "read_workflow", "read_step", "document_format", "check_progress"]

_TOP_KEYS_1 = frozenset(
    {
        "context",
        "error_message",
        "executed_steps",
        "failed_step_id",
        "final_state",
        "format",
        "id",
        "lineage",
        "pending_step_id",
        "receipt",
        "status",
        "success",
        "workflow",
    }
)
_TOP_KEYS = _TOP_KEYS_1 | set(FORMAT_2_KEYS)
_WORKFLOW_KEYS = frozenset({"id", "metadata", "name", "steps"})
_LINEAGE_KEYS = frozenset({"entries", "executed_step_ids", "initial_state", "workflow_id"})
_CONTEXT_KEYS = frozenset({"inputs", "metadata"})
_ENTRY_KEYS = frozenset({"changes", "input", "status", "step_id"})
_RECEIPT_KEYS_1 = frozenset({"genesis", "head", "id", "initial_state_digest", "links", "steps", "workflow_digest"})
_RECEIPT_KEYS = _RECEIPT_KEYS_1 | {"format", "policy_digest"}
_STEP_KEYS = frozenset({"id", "kind", "payload"})
_LINK_FIELDS = ("step_id", "step_digest", "input_digest", "state_digest", "status", "hash")


def document_format(document: object) -> str:
    """The `format` of a result document (`stepfold/result/2` or `/1`); `InvalidDocumentError` for anything else."""
    fmt = read_field(read_mapping(document, "result"), "result", "format")
    if fmt not in (RESULT_FORMAT, RESULT_FORMAT_1):
        raise InvalidDocumentError(
            f"result.format: expected {RESULT_FORMAT!r} (or {RESULT_FORMAT_1!r}), got {brief_repr(fmt)}"
        )
    return str(fmt)


def read_result(
    document: Mapping[str, object],
    *,
    states: tuple[State, State] | None = None,
    policy: Policy = TIER2_POLICY,
    check_final_state: bool = False,
) -> tuple[OrchestrationResult, State]:
    """Read a `to_dict()` document into a result and the final state it records.

    With `check_final_state`, a recorded final state that is not the
    lineage's last state is refused (what `from_dict` does); without it, the
    two are returned for the caller to compare (`verify` names the step whose
    recorded state is wrong before it blames the final state). `states`,
    when given, stands in for the document's initial and final states (a
    store that keeps states by digest passes them, already built). `policy`
    is the policy a format-1 document (which records none) is taken to have
    run under.
    """
    fmt = document_format(document)
    doc = read_record(document, "result", _TOP_KEYS if fmt == RESULT_FORMAT else _TOP_KEYS_1)
    if fmt == RESULT_FORMAT_1:
        _refuse_effect_arguments(read_field(doc, "result", "workflow"))
    workflow = read_workflow(read_field(doc, "result", "workflow"))
    lineage_doc = read_record(read_field(doc, "result", "lineage"), "result.lineage", _LINEAGE_KEYS)
    context_doc = read_record(read_field(doc, "result", "context"), "result.context", _CONTEXT_KEYS)
    initial = (
        states[0]
        if states is not None
        else building(
            "result.lineage.initial_state",
            lambda: State(
                read_mapping(read_field(lineage_doc, "result.lineage", "initial_state"), "result.lineage.initial_state")
            ),
        )
    )
    context = building(
        "result.context",
        lambda: ExecutionContext(
            initial,
            read_mapping(read_field(context_doc, "result.context", "inputs"), "result.context.inputs"),
            read_mapping(read_field(context_doc, "result.context", "metadata"), "result.context.metadata"),
        ),
    )
    _check_inputs(workflow, context)
    lineage = _lineage(doc, lineage_doc, initial)
    ran_under = (
        building("result.policy", lambda: Policy.from_dict(read_field(doc, "result", "policy")))
        if fmt == RESULT_FORMAT
        else policy
    )
    receipt = _receipt(read_field(doc, "result", "receipt"), fmt)
    if receipt.policy_digest is not None and receipt.policy_digest != ran_under.digest:
        raise InvalidDocumentError("result.policy: does not hash to the receipt's policy digest")
    status = read_field(doc, "result", "status")
    if status not in STATUSES:
        raise InvalidDocumentError(f"result.status: expected one of {list(STATUSES)}, got {brief_repr(status)}")
    message = read_field(doc, "result", "error_message")
    if message is not None and not isinstance(message, str):
        raise InvalidDocumentError(f"result.error_message: expected a string or null, got {brief_repr(message)}")
    result = OrchestrationResult(workflow, context, lineage, receipt, str(status), message, ran_under)
    check_progress(result)
    _check_derived(doc, lineage_doc, result, fmt)
    if states is not None:
        final = states[1]
    else:
        recorded = read_mapping(read_field(doc, "result", "final_state"), "result.final_state")
        final = building("result.final_state", lambda: State(recorded))
    if check_final_state and final != result.final_state:
        raise InvalidDocumentError(
            f"result.final_state: digest {final.digest[:12]} disagrees with the lineage's last state "
            f"{result.final_state.digest[:12]}"
        )
    return result, final


def _refuse_effect_arguments(workflow: object) -> None:
    steps = workflow.get("steps") if isinstance(workflow, Mapping) else None
    for index, step in enumerate(steps if isinstance(steps, list) else []):
        payload = step.get("payload") if isinstance(step, Mapping) else None
        if isinstance(payload, Mapping) and "effect" in payload:
            raise UnsupportedDocumentError(
                f"result.workflow.steps[{index}].payload.effect: in a format-1 document (stepfold 0.1, which had no "
                "effects) `effect` was an ordinary argument; this stepfold reads it as an effect name, so it cannot "
                "replay the run as it was meant: verify it with stepfold 0.1"
            )


def _check_inputs(workflow: WorkflowDefinition, context: ExecutionContext) -> None:
    """Every recorded input is for a step that takes one, and an effect step's is an outcome."""
    takers = {step.id: step for step in workflow.steps if step.takes_input}
    for step_id, given in context.inputs.items():
        where = f"result.context.inputs[{brief_repr(step_id)}]"
        step = takers.get(step_id)
        if step is None:
            raise InvalidDocumentError(f"{where}: the workflow has no human or effect step {brief_repr(step_id)}")
        if step.effect is not None:
            building(where, lambda: read_outcome(given, "outcome"))


def _lineage(doc: Mapping[str, object], lineage_doc: Mapping[str, object], initial: State) -> Lineage:
    steps_doc = read_sequence(read_field(doc, "result", "executed_steps"), "result.executed_steps")
    entries_doc = read_sequence(read_field(lineage_doc, "result.lineage", "entries"), "result.lineage.entries")
    if len(steps_doc) != len(entries_doc):
        raise InvalidDocumentError(
            f"result.lineage.entries: {len(entries_doc)} entries for {len(steps_doc)} executed steps"
        )
    entries: list[LineageEntry] = []
    state = initial
    for index, (step_doc, entry_doc) in enumerate(zip(steps_doc, entries_doc)):
        where = f"result.lineage.entries[{index}]"
        step = read_step(step_doc, f"result.executed_steps[{index}]")
        entry_map = read_record(entry_doc, where, _ENTRY_KEYS)
        if read_field(entry_map, where, "step_id") != step.id:
            raise InvalidDocumentError(
                f"{where}.step_id: {brief_repr(entry_map['step_id'])} does not match executed step {brief_repr(step.id)}"
            )
        status = read_field(entry_map, where, "status")
        if status not in (COMPLETED, FAILED):
            raise InvalidDocumentError(f"{where}.status: expected 'completed' or 'failed', got {brief_repr(status)}")
        changes = read_record(read_field(entry_map, where, "changes"), f"{where}.changes", ("removed", "set"))
        for name in ("removed", "set"):
            read_field(changes, f"{where}.changes", name)
        try:
            delta = StateDelta.from_dict(changes, f"{where}.changes")
        except InvalidValueError as exc:  # named from `where` already
            raise InvalidDocumentError(str(exc)) from None
        if status == FAILED and delta:
            raise InvalidDocumentError(f"{where}.changes: a failed step changes nothing")
        _check_delta(state, delta, f"{where}.changes")
        state = state.apply(delta)
        given = read_value(read_field(entry_map, where, "input"), f"{where}.input")
        if not step.takes_input and given is not None:
            raise InvalidDocumentError(f"{where}.input: a {step.kind} step takes no input, got {brief_repr(given)}")
        entries.append(LineageEntry(step, given, state, str(status)))
    workflow_id = read_text(read_field(lineage_doc, "result.lineage", "workflow_id"), "result.lineage.workflow_id")
    return Lineage(workflow_id, initial, entries)


def _check_delta(state: State, delta: StateDelta, where: str) -> None:
    """A recorded delta holds only real changes, so every edit to it changes a state digest."""
    for key in delta.removed:
        if key not in state:
            raise InvalidDocumentError(f"{where}.removed: {brief_repr(key)} is not in the state before this step")
    for key, value in delta.set.items():
        if key in state and values_identical(state[key], value):
            raise InvalidDocumentError(f"{where}.set: {brief_repr(key)} already has this value; not a change")


def check_progress(result: OrchestrationResult) -> None:
    """The status is the one the lineage implies, so that every derived field is defined, and the error message
    the one its failed step gives; `InvalidDocumentError` naming the field otherwise (the store's rows and
    workers' results are held to it too)."""
    ran, planned = len(result.lineage.entries), len(result.workflow.steps)
    if ran > planned:
        raise InvalidDocumentError(f"result.lineage.entries: {ran} entries for a workflow of {planned} steps")
    statuses = [entry.status for entry in result.lineage.entries]
    if FAILED in statuses[:-1]:
        raise InvalidDocumentError(
            f"result.lineage.entries[{statuses.index(FAILED)}].status: a failed step must be the last one run"
        )
    if statuses and statuses[-1] == FAILED:
        implied = FAILED
    else:
        implied = COMPLETED if ran == planned else SUSPENDED
    if result.status != implied:
        raise InvalidDocumentError(
            f"result.status: {brief_repr(result.status)} disagrees with the lineage, which gives {implied!r}"
        )
    if implied == SUSPENDED and not result.workflow.steps[ran].takes_input:
        raise InvalidDocumentError(
            f"result.status: the run stops before step {ran} ({brief_repr(result.workflow.steps[ran].id)}), "
            "which is neither a human nor an effect step"
        )
    if implied == SUSPENDED and result.workflow.steps[ran].id in result.context.inputs:
        raise InvalidDocumentError(
            f"result.status: the run waits at step {ran} ({brief_repr(result.workflow.steps[ran].id)}), "
            "but its input is recorded: a run given the input would have taken the step"
        )
    _check_error_message(result)


def _check_error_message(result: OrchestrationResult) -> None:
    """A message only when a step failed, and then the one its step and recorded input give (see `failure`)."""
    message = result.error_message
    if result.status != FAILED:
        if message is not None:
            raise InvalidDocumentError(
                f"result.error_message: {brief_repr(message)} on a {result.status} run, which has none"
            )
        return
    last = result.lineage.entries[-1]
    step = result.workflow.steps[len(result.lineage.entries) - 1]
    expected, whole = building("result.error_message", lambda: expected_failure(step, last.input))
    if message is None or (message != expected if whole else not message.startswith(expected)):
        said = "is" if whole else "begins"
        raise InvalidDocumentError(
            f"result.error_message: {brief_repr(message)} is not what step "
            f"{brief_repr(step.id)} failed with (it {said} {brief_repr(expected)})"
        )


def _check_derived(
    doc: Mapping[str, object], lineage_doc: Mapping[str, object], result: OrchestrationResult, fmt: str
) -> None:
    derived: dict[str, object] = {
        "id": result.id,
        "success": result.success,
        "failed_step_id": result.failed_step_id,
        "pending_step_id": result.pending_step_id,
    }
    if fmt == RESULT_FORMAT:
        derived.update(run_id=result.run_id, waiting_for=result.waiting_for, pending_effect=result.pending_effect)
    for key, expected in derived.items():
        if read_field(doc, "result", key) != expected:
            raise InvalidDocumentError(
                f"result.{key}: {brief_repr(doc[key])} disagrees with the lineage, which gives {brief_repr(expected)}"
            )
        if type(doc[key]) is not type(expected):  # equal, but e.g. 1 for True or a str subclass
            raise InvalidDocumentError(
                f"result.{key}: got {type(doc[key]).__name__} {brief_repr(doc[key])} where the lineage gives "
                f"{type(expected).__name__} {brief_repr(expected)}"
            )
    recorded_ids = read_field(lineage_doc, "result.lineage", "executed_step_ids")
    if recorded_ids != list(result.lineage.executed_step_ids):
        raise InvalidDocumentError(
            f"result.lineage.executed_step_ids: {brief_repr(recorded_ids)} disagrees with the entries "
            f"{brief_repr(list(result.lineage.executed_step_ids))}"
        )
    if result.lineage.workflow_id != result.id:
        raise InvalidDocumentError(
            f"result.lineage.workflow_id: {brief_repr(result.lineage.workflow_id)} is not the workflow id {brief_repr(result.id)}"
        )
    if result.receipt.id != result.id:
        raise InvalidDocumentError(
            f"result.receipt.id: {brief_repr(result.receipt.id)} is not the workflow id {brief_repr(result.id)}"
        )


def read_step(value: object, where: str) -> StepSpec:
    """A step document `{"id", "kind", "payload"}`."""
    step = read_record(value, where, _STEP_KEYS)
    payload = read_mapping(read_field(step, where, "payload"), f"{where}.payload")
    return building(where, lambda: StepSpec(read_field(step, where, "id"), read_field(step, where, "kind"), payload))  # type: ignore[arg-type]


def read_workflow(value: object, where: str = "result.workflow") -> WorkflowDefinition:
    """A workflow document `{"id", "metadata", "name", "steps"}` (what `WorkflowDefinition.to_dict()` writes)."""
    doc = read_record(value, where, _WORKFLOW_KEYS)
    steps = read_sequence(read_field(doc, where, "steps"), f"{where}.steps")
    return building(
        where,
        lambda: WorkflowDefinition(
            id=read_field(doc, where, "id"),  # type: ignore[arg-type]
            steps=[read_step(step, f"{where}.steps[{i}]") for i, step in enumerate(steps)],
            metadata=read_mapping(read_field(doc, where, "metadata"), f"{where}.metadata"),
            name=read_field(doc, where, "name"),  # type: ignore[arg-type]
        ),
    )


def _receipt(value: object, fmt: str) -> Receipt:
    doc = read_record(value, "result.receipt", _RECEIPT_KEYS if fmt == RESULT_FORMAT else _RECEIPT_KEYS_1)
    links = []
    for index, raw in enumerate(read_sequence(read_field(doc, "result.receipt", "links"), "result.receipt.links")):
        where = f"result.receipt.links[{index}]"
        link = read_record(raw, where, _LINK_FIELDS)
        step_id, status = (
            read_text(read_field(link, where, name), f"{where}.{name}") for name in ("step_id", "status")
        )
        step_digest, input_digest, state_digest, chained = (
            read_digest(read_field(link, where, name), f"{where}.{name}", may_be_empty=name == "input_digest")
            for name in ("step_digest", "input_digest", "state_digest", "hash")
        )
        links.append(ReceiptLink(step_id, step_digest, input_digest, state_digest, status, chained))
    texts = {
        name: (read_text if name == "id" else read_digest)(
            read_field(doc, "result.receipt", name), f"result.receipt.{name}"
        )
        for name in ("id", "workflow_digest", "initial_state_digest", "genesis", "head")
    }
    policy_digest = None
    if fmt == RESULT_FORMAT:
        if read_field(doc, "result.receipt", "format") != RECEIPT_FORMAT:
            raise InvalidDocumentError(
                f"result.receipt.format: expected {RECEIPT_FORMAT!r}, got {brief_repr(doc['format'])}"
            )
        policy_digest = read_digest(read_field(doc, "result.receipt", "policy_digest"), "result.receipt.policy_digest")
    receipt = Receipt(
        texts["id"], texts["workflow_digest"], texts["initial_state_digest"], links, policy_digest=policy_digest
    )
    if receipt.head != texts["head"] or receipt.genesis != texts["genesis"]:
        raise InvalidDocumentError("result.receipt.head: does not match the recorded links")
    if read_field(doc, "result.receipt", "steps") != list(receipt.steps):
        raise InvalidDocumentError("result.receipt.steps: does not match the recorded links")
    return receipt
