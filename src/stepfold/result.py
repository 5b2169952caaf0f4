"""`OrchestrationResult`: what a run returns, and its plain-JSON form (`to_dict` / `from_dict`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TypeVar

import attrs

from stepfold.errors import InvalidDocumentError, InvalidValueError
from stepfold.lineage import COMPLETED, FAILED, SUSPENDED, Lineage, LineageEntry
from stepfold.receipt import Receipt, ReceiptLink
from stepfold.state import State, StateDelta, state_delta
from stepfold.values import Value, brief_repr, freeze, thaw, values_identical
from stepfold.workflow import HUMAN, ExecutionContext, StepSpec, WorkflowDefinition

__all__ = ["OrchestrationResult", "RESULT_FORMAT", "STATUSES", "read_result"]

RESULT_FORMAT = "stepfold/result/1"
"""The `format` tag of a `to_dict()` document."""

STATUSES = (COMPLETED, FAILED, SUSPENDED)
"""The statuses a run can end in."""

T = TypeVar("T")


def _check_status(_instance: object, _attribute: object, value: object) -> None:
    if value not in STATUSES:
        raise InvalidValueError(f"status: expected one of {list(STATUSES)}, got {brief_repr(value)}")


@attrs.frozen
class OrchestrationResult:
    """The outcome of a run: status, the workflow and context it ran, its lineage and its receipt.

    `id`, `success`, `executed_steps`, `final_state`, `failed_step_id` and
    `pending_step_id` are derived from those, so they cannot disagree.
    """

    workflow: WorkflowDefinition
    context: ExecutionContext
    lineage: Lineage
    receipt: Receipt
    status: str = attrs.field(validator=_check_status)  # type: ignore[assignment,unused-ignore]
    error_message: str | None = None

    @property
    def id(self) -> str:
        """The workflow's id (also `lineage.workflow_id` and `receipt.id`)."""
        return self.workflow.id

    @property
    def success(self) -> bool:
        """False only when a step failed; a suspended run has not failed."""
        return self.status != FAILED

    @property
    def executed_steps(self) -> tuple[StepSpec, ...]:
        """The steps that ran, in order, as run (a human step's input in `payload["input"]`)."""
        return tuple(entry.step for entry in self.lineage.entries)

    @property
    def final_state(self) -> State:
        """The state after the last successful step."""
        return self.lineage.final_state

    @property
    def failed_step_id(self) -> str | None:
        """The id of the step that failed, when the run failed."""
        return self.lineage.entries[-1].step.id if self.status == FAILED else None

    @property
    def pending_step_id(self) -> str | None:
        """The id of the human step waiting for input, when the run is suspended."""
        if self.status != SUSPENDED:
            return None
        return self.workflow.steps[len(self.lineage.entries)].id

    def to_dict(self, *, include_states: bool = True) -> dict[str, object]:
        """Plain JSON data, keys sorted at every level; holds the initial and final states plus each step's changes.

        Its size is O(state + changes), never O(steps x state). With
        `include_states=False` the two whole states are None (a store that
        keeps states by digest uses this, so saving costs O(changes)).
        """
        entries = []
        previous = self.lineage.initial_state
        for entry in self.lineage.entries:
            delta = state_delta(previous, entry.state)
            entries.append(
                {
                    "changes": {"removed": list(delta.removed), "set": thaw(delta.set)},
                    "input": thaw(entry.input),
                    "status": entry.status,
                    "step_id": entry.step.id,
                }
            )
            previous = entry.state
        return {
            "context": {"inputs": thaw(self.context.inputs), "metadata": thaw(self.context.metadata)},
            "error_message": self.error_message,
            "executed_steps": [step.to_dict() for step in self.executed_steps],
            "failed_step_id": self.failed_step_id,
            "final_state": self.final_state.to_dict() if include_states else None,
            "format": RESULT_FORMAT,
            "id": self.id,
            "lineage": {
                "entries": entries,
                "executed_step_ids": list(self.lineage.executed_step_ids),
                "initial_state": self.lineage.initial_state.to_dict() if include_states else None,
                "workflow_id": self.lineage.workflow_id,
            },
            "pending_step_id": self.pending_step_id,
            "receipt": self.receipt.to_dict(),
            "status": self.status,
            "success": self.success,
            "workflow": self.workflow.to_dict(),
        }

    @classmethod
    def from_dict(cls, document: Mapping[str, object]) -> OrchestrationResult:
        """Rebuild the result a `to_dict()` document describes; `from_dict(r.to_dict()).to_dict() == r.to_dict()`.

        A document that is not one (missing or mistyped fields, derived fields
        that disagree with the lineage) raises `InvalidDocumentError` naming
        the field. It does not re-check hashes: that is `verify`'s job.
        """
        result, recorded_final = read_result(document)
        if recorded_final != result.final_state:
            raise InvalidDocumentError(
                f"result.final_state: digest {recorded_final.digest[:12]} disagrees with the lineage's last state "
                f"{result.final_state.digest[:12]}"
            )
        return result


def read_result(
    document: Mapping[str, object], *, states: tuple[State, State] | None = None
) -> tuple[OrchestrationResult, State]:
    """Read a `to_dict()` document into a result and the final state it records, without comparing the two.

    `from_dict` refuses a document whose final state disagrees with its
    lineage; `verify` reads with this instead, so that it can name the step
    whose recorded state is wrong before it blames the final state.
    `states`, when given, stands in for the document's initial and final
    states (a store that keeps states by digest passes them, already built).
    """
    return _Reader(document, states).result()


class _Reader:
    """Reads a document field by field, naming the path of the first thing wrong."""

    def __init__(self, document: object, states: tuple[State, State] | None) -> None:
        self.document = _record(document, "result", _TOP_KEYS)
        self.states = states

    def result(self) -> tuple[OrchestrationResult, State]:
        doc = self.document
        fmt = _field(doc, "result", "format")
        if fmt != RESULT_FORMAT:
            raise InvalidDocumentError(f"result.format: expected {RESULT_FORMAT!r}, got {brief_repr(fmt)}")
        workflow = _build("result.workflow", lambda: _workflow(_record(_field(doc, "result", "workflow"), "result.workflow", _WORKFLOW_KEYS)))
        lineage_doc = _record(_field(doc, "result", "lineage"), "result.lineage", _LINEAGE_KEYS)
        context_doc = _record(_field(doc, "result", "context"), "result.context", _CONTEXT_KEYS)
        initial = self.states[0] if self.states is not None else _build(
            "result.lineage.initial_state",
            lambda: State(_mapping(_field(lineage_doc, "result.lineage", "initial_state"), "result.lineage.initial_state")),
        )
        context = _build(
            "result.context",
            lambda: ExecutionContext(
                initial,
                _mapping(_field(context_doc, "result.context", "inputs"), "result.context.inputs"),
                _mapping(_field(context_doc, "result.context", "metadata"), "result.context.metadata"),
            ),
        )
        steps_doc = _sequence(_field(doc, "result", "executed_steps"), "result.executed_steps")
        entries_doc = _sequence(_field(lineage_doc, "result.lineage", "entries"), "result.lineage.entries")
        if len(steps_doc) != len(entries_doc):
            raise InvalidDocumentError(
                f"result.lineage.entries: {len(entries_doc)} entries for {len(steps_doc)} executed steps"
            )
        entries: list[LineageEntry] = []
        state = initial
        for index, (step_doc, entry_doc) in enumerate(zip(steps_doc, entries_doc)):
            where = f"result.lineage.entries[{index}]"
            step = _build(f"result.executed_steps[{index}]", lambda: _step(step_doc, f"result.executed_steps[{index}]"))
            entry_map = _record(entry_doc, where, _ENTRY_KEYS)
            if _field(entry_map, where, "step_id") != step.id:
                raise InvalidDocumentError(
                    f"{where}.step_id: {brief_repr(entry_map['step_id'])} does not match executed step {brief_repr(step.id)}"
                )
            status = _field(entry_map, where, "status")
            if status not in (COMPLETED, FAILED):
                raise InvalidDocumentError(f"{where}.status: expected 'completed' or 'failed', got {brief_repr(status)}")
            changes = _record(_field(entry_map, where, "changes"), f"{where}.changes", _CHANGES_KEYS)
            delta = _build(
                f"{where}.changes",
                lambda: StateDelta(_field(changes, f"{where}.changes", "set"), _field(changes, f"{where}.changes", "removed")),
            )
            if status == FAILED and delta:
                raise InvalidDocumentError(f"{where}.changes: a failed step changes nothing")
            _check_delta(state, delta, f"{where}.changes")
            state = state.apply(delta)
            given = _value(_field(entry_map, where, "input"), f"{where}.input")
            if step.kind != HUMAN and given is not None:
                raise InvalidDocumentError(f"{where}.input: a {step.kind} step takes no input, got {brief_repr(given)}")
            entries.append(LineageEntry(step, given, state, str(status)))
        lineage = Lineage(_text(_field(lineage_doc, "result.lineage", "workflow_id"), "result.lineage.workflow_id"), initial, entries)
        receipt = _build("result.receipt", lambda: _receipt(_record(_field(doc, "result", "receipt"), "result.receipt", _RECEIPT_KEYS)))
        status = _field(doc, "result", "status")
        if status not in STATUSES:
            raise InvalidDocumentError(f"result.status: expected one of {list(STATUSES)}, got {brief_repr(status)}")
        message = _field(doc, "result", "error_message")
        if message is not None and not isinstance(message, str):
            raise InvalidDocumentError(f"result.error_message: expected a string or null, got {brief_repr(message)}")
        result = OrchestrationResult(workflow, context, lineage, receipt, str(status), message)
        _check_progress(result)
        _check_derived(doc, lineage_doc, result)
        if self.states is not None:
            return result, self.states[1]
        recorded = _mapping(_field(doc, "result", "final_state"), "result.final_state")
        return result, _build("result.final_state", lambda: State(recorded))


def _check_delta(state: State, delta: StateDelta, where: str) -> None:
    """A recorded delta holds only real changes, so every edit to it changes a state digest."""
    for key in delta.removed:
        if key not in state:
            raise InvalidDocumentError(f"{where}.removed: {brief_repr(key)} is not in the state before this step")
        if key in delta.set:
            raise InvalidDocumentError(f"{where}: {brief_repr(key)} is both set and removed")
    for key, value in delta.set.items():
        if key in state and values_identical(state[key], value):
            raise InvalidDocumentError(f"{where}.set: {brief_repr(key)} already has this value; not a change")


def _check_progress(result: OrchestrationResult) -> None:
    """The status is the one the lineage implies, so that every derived field is defined."""
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
    if implied == SUSPENDED and result.workflow.steps[ran].kind != HUMAN:
        raise InvalidDocumentError(
            f"result.status: the run stops before step {ran} ({brief_repr(result.workflow.steps[ran].id)}), "
            "which is not a human step"
        )


def _check_derived(doc: Mapping[str, object], lineage_doc: Mapping[str, object], result: OrchestrationResult) -> None:
    derived: dict[str, object] = {
        "id": result.id,
        "success": result.success,
        "failed_step_id": result.failed_step_id,
        "pending_step_id": result.pending_step_id,
    }
    for key, expected in derived.items():
        if _field(doc, "result", key) != expected or type(doc[key]) is not type(expected):
            raise InvalidDocumentError(
                f"result.{key}: {brief_repr(doc[key])} disagrees with the lineage, which gives {brief_repr(expected)}"
            )
    recorded_ids = _field(lineage_doc, "result.lineage", "executed_step_ids")
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
        raise InvalidDocumentError(f"result.receipt.id: {brief_repr(result.receipt.id)} is not the workflow id {brief_repr(result.id)}")


def _build(where: str, make: Callable[[], T]) -> T:
    try:
        return make()
    except InvalidDocumentError:
        raise
    except (InvalidValueError, ValueError, TypeError, KeyError) as exc:
        raise InvalidDocumentError(f"{where}: {exc}") from None


_TOP_KEYS = frozenset({
    "context", "error_message", "executed_steps", "failed_step_id", "final_state", "format", "id", "lineage",
    "pending_step_id", "receipt", "status", "success", "workflow",
})
_WORKFLOW_KEYS = frozenset({"id", "metadata", "name", "steps"})
_LINEAGE_KEYS = frozenset({"entries", "executed_step_ids", "initial_state", "workflow_id"})
_CONTEXT_KEYS = frozenset({"inputs", "metadata"})
_ENTRY_KEYS = frozenset({"changes", "input", "status", "step_id"})
_CHANGES_KEYS = frozenset({"removed", "set"})
_RECEIPT_KEYS = frozenset({"genesis", "head", "id", "initial_state_digest", "links", "steps", "workflow_digest"})
_STEP_KEYS = frozenset({"id", "kind", "payload"})


def _record(value: object, where: str, keys: frozenset[str]) -> Mapping[str, object]:
    """A mapping with no keys beyond `keys`: anything extra in a verified document is refused."""
    mapping = _mapping(value, where)
    extra = sorted(brief_repr(key) for key in mapping if key not in keys)
    if extra:
        raise InvalidDocumentError(f"{where}: unexpected keys [{', '.join(extra)}]; expected only {sorted(keys)}")
    return mapping


def _mapping(value: object, where: str) -> Mapping[str, object]:
    if not isinstance(value, Mapping):
        raise InvalidDocumentError(f"{where}: expected an object, got {type(value).__name__}")
    return value


def _sequence(value: object, where: str) -> Sequence[object]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise InvalidDocumentError(f"{where}: expected an array, got {type(value).__name__}")
    return value


def _field(mapping: Mapping[str, object], where: str, key: str) -> object:
    if key not in mapping:
        raise InvalidDocumentError(f"{where}.{key}: missing")
    return mapping[key]


def _value(value: object, where: str) -> Value:
    """A field holding a value: frozen, or refused naming `where` (once)."""
    try:
        return freeze(value, path=where)
    except InvalidValueError as exc:  # the message already names `where`
        raise InvalidDocumentError(str(exc)) from None


def _text(value: object, where: str) -> str:
    """A string field: a str that is in the value domain (no lone surrogates)."""
    if not isinstance(value, str):
        raise InvalidDocumentError(f"{where}: expected a string, got {type(value).__name__} {brief_repr(value)}")
    return str(_value(value, where))


def _digest(value: object, where: str, *, may_be_empty: bool = False) -> str:
    """A digest field: 64 lowercase hex digits, as every digest stepfold writes (`""` where `may_be_empty`)."""
    text = _text(value, where)
    if text == "" and may_be_empty:
        return text
    if len(text) != 64 or text.strip("0123456789abcdef"):
        raise InvalidDocumentError(f"{where}: expected 64 lowercase hex digits, got {brief_repr(text)}")
    return text


def _step(value: object, where: str) -> StepSpec:
    step = _record(value, where, _STEP_KEYS)
    payload = _mapping(_field(step, where, "payload"), f"{where}.payload")
    return StepSpec(_field(step, where, "id"), _field(step, where, "kind"), payload)  # type: ignore[arg-type]


def _workflow(doc: Mapping[str, object]) -> WorkflowDefinition:
    steps = _sequence(_field(doc, "result.workflow", "steps"), "result.workflow.steps")
    return WorkflowDefinition(
        id=_field(doc, "result.workflow", "id"),  # type: ignore[arg-type]
        steps=[_step(step, f"result.workflow.steps[{i}]") for i, step in enumerate(steps)],
        metadata=_mapping(_field(doc, "result.workflow", "metadata"), "result.workflow.metadata"),
        name=_field(doc, "result.workflow", "name"),  # type: ignore[arg-type]
    )


_LINK_FIELDS = ("step_id", "step_digest", "input_digest", "state_digest", "status", "hash")


def _receipt(doc: Mapping[str, object]) -> Receipt:
    links = []
    for index, raw in enumerate(_sequence(_field(doc, "result.receipt", "links"), "result.receipt.links")):
        where = f"result.receipt.links[{index}]"
        link = _record(raw, where, frozenset(_LINK_FIELDS))
        step_id, status = (_text(_field(link, where, name), f"{where}.{name}") for name in ("step_id", "status"))
        step_digest, input_digest, state_digest, chained = (
            _digest(_field(link, where, name), f"{where}.{name}", may_be_empty=name == "input_digest")
            for name in ("step_digest", "input_digest", "state_digest", "hash")
        )
        links.append(ReceiptLink(step_id, step_digest, input_digest, state_digest, status, chained))
    texts = {
        name: (_text if name == "id" else _digest)(_field(doc, "result.receipt", name), f"result.receipt.{name}")
        for name in ("id", "workflow_digest", "initial_state_digest", "genesis", "head")
    }
    receipt = Receipt(texts["id"], texts["workflow_digest"], texts["initial_state_digest"], links)
    if receipt.head != texts["head"] or receipt.genesis != texts["genesis"]:
        raise InvalidDocumentError("result.receipt.head: does not match the recorded links")
    steps = _field(doc, "result.receipt", "steps")
    if steps != list(receipt.steps):
        raise InvalidDocumentError("result.receipt.steps: does not match the recorded links")
    return receipt

