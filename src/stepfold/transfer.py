"""Results across a process boundary: what a worker sends (`pack`), and how the caller rebuilds and checks it (`unpack`).

A worker's result is not sent whole. The caller already holds what the run
started from (the chain's initial state, each call's inputs, the policy),
so a packed result carries only what the run made: the workflow's steps as
built, and per executed step its status, the entries it wrote and removed,
and its state's LtHash accumulator. A worker's answer crosses as the bytes
`dumps` writes and `loads` reads: a pickle whose frozen maps and vectors
unpickle straight into ones built as stepfold builds its own
(`collector.frozen_map`, out of the collector's walk), so the caller never
walks what it received to untrack it. Nothing is encoded to JSON and parsed
back.

`unpack` rebuilds the result the way the fold builds it, from the caller's
own context (initial state and inputs) and policy: each state is the one before with the
step's entries applied, and the receipt is chained again link by link. It
trusts exactly what the store trusts of a row it wrote: each state's
accumulator (its LtHash is not recomputed entry by entry). It recomputes
everything else the receipt binds: every step's digest from its content,
the workflow digest, every input digest, every state digest from its
accumulator, every link; the head it arrives at must be the run id the
worker reported, and its status and error message must be the ones its
steps give (as a document's are, `reader.check_progress`). A result that does not check raises `TransferError`; the
caller reports it in that call's slot, never returns it. So a result from
a worker equals, `to_dict()` for `to_dict()`, the result of the same call
run in the caller, and is no more trusted than a stored run.
"""

from __future__ import annotations

import io
import pickle
from collections.abc import Sequence
from typing import Any

from pyrsistent import PMap, PVector, pvector

from stepfold.collector import frozen_map, untrack, untrack_record
from stepfold.engine import step_as_run
from stepfold.errors import StepfoldError
from stepfold.lineage import COMPLETED, FAILED, Lineage, LineageEntry
from stepfold.messages import brief_repr
from stepfold.policy import Policy
from stepfold.reader import check_progress
from stepfold.receipt import Receipt, input_digest
from stepfold.result import OrchestrationResult
from stepfold.state import state_delta
from stepfold.values import Value
from stepfold.workflow import ExecutionContext, StepSpec, WorkflowDefinition

__all__ = ["TRANSFER_FORMAT", "TransferError", "PackedResult", "pack", "unpack", "dumps", "loads"]

TRANSFER_FORMAT = "stepfold/transfer/2"
"""The tag a worker and its caller agree on; a worker running another stepfold version is refused by it."""

PackedEntry = tuple[str, tuple[tuple[str, Value], ...], tuple[str, ...], bytes | None]
"""One executed step: `(status, entries written, keys removed, accumulator)`; accumulator None: the state is unchanged."""

PackedResult = tuple[str, str, str | None, WorkflowDefinition, tuple[PackedEntry, ...]]
"""`(run_id, status, error_message, workflow, entries)`: a pickled workflow carries its content, never its digests."""


class TransferError(StepfoldError):
    """A worker's result that does not rebuild into the run its id names (damaged, or made by other code)."""


_PVECTOR: type = type(pvector())


def _map_of(entries: dict[Any, Any]) -> PMap[Any, Any]:
    return frozen_map(entries)


def _vector_of(items: list[Any]) -> PVector[Any]:
    vector: PVector[Any] = pvector(items)
    untrack(vector)
    return vector


class _Pickler(pickle.Pickler):
    """Writes a frozen map or vector as a call to `_map_of`/`_vector_of`, which rebuild it untracked."""

    def reducer_override(self, obj: Any) -> Any:
        kind = type(obj)
        if kind is PMap:
            return _map_of, (dict(obj),)
        if kind is _PVECTOR:
            return _vector_of, (list(obj),)
        return NotImplemented


def dumps(answer: object) -> bytes:
    """A worker's answer as the bytes that cross: a pickle whose frozen values `loads` rebuilds untracked."""
    buffer = io.BytesIO()
    _Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(answer)
    return buffer.getvalue()


def loads(data: object) -> object:
    """What `dumps` wrote. Like any pickle, only for data from a process you trust (your executor's worker); what
    does not unpickle raises `TransferError`. What it holds is checked by `unpack`, result by result."""
    if not isinstance(data, bytes):
        raise TransferError(f"a worker's answer is {type(data).__name__}, not the bytes a worker writes")
    try:
        return pickle.loads(data)
    except Exception as exc:  # a truncated or foreign pickle: the transfer's failure, named as such
        raise TransferError(f"a worker's answer does not unpickle: {type(exc).__name__}: {exc}") from None


def pack(result: OrchestrationResult) -> PackedResult:
    """What a worker sends of `result`: the steps as built and, per executed step, what it changed."""
    entries: list[PackedEntry] = []
    before = result.lineage.initial_state
    for entry in result.lineage.entries:
        after = entry.state
        if after.digest == before.digest:  # a failed step's entry keeps the state before it
            entries.append((entry.status, (), (), None))
        else:
            change = state_delta(before, after)
            entries.append((entry.status, tuple(change.set.items()), tuple(change.removed), after.accumulator))
        before = after
    return (result.run_id, result.status, result.error_message, result.workflow, tuple(entries))


def unpack(packed: object, context: ExecutionContext, policy: Policy) -> OrchestrationResult:
    """The result a worker packed, rebuilt from the caller's own `context` (the run's) and `policy`, and checked.

    Raises `TransferError` unless the rebuilt receipt's head is the run id the worker reported.
    """
    if not isinstance(packed, tuple) or len(packed) != 5:
        raise TransferError(f"a worker's result is {type(packed).__name__}, not a packed result")
    run_id, status, error_message, workflow, entries = packed
    if not isinstance(status, str) or not isinstance(error_message, (str, type(None))):
        raise TransferError(f"a worker's result has status {brief_repr(status)}, message {brief_repr(error_message)}")
    if not isinstance(workflow, WorkflowDefinition) or not isinstance(entries, tuple):
        raise TransferError(f"a worker's result holds {type(workflow).__name__}, not a workflow")
    try:
        lineage, receipt = _rebuild(workflow, context, policy, entries)
        result = OrchestrationResult(workflow, context, lineage, receipt, status, error_message, policy)
        check_progress(result)
    except TransferError:
        raise
    except Exception as exc:  # anything malformed is the transfer's failure, named as such
        raise TransferError(f"a worker's result does not read back: {type(exc).__name__}: {exc}") from None
    if result.run_id != run_id:
        raise TransferError(
            f"a worker's result for workflow {workflow.id!r} does not rebuild into the run its id names "
            f"({brief_repr(run_id)}; rebuilt {result.run_id[:12]}): it was damaged on the way, or made by other code"
        )
    return result


def _rebuild(
    workflow: WorkflowDefinition, context: ExecutionContext, policy: Policy, entries: Sequence[PackedEntry]
) -> tuple[Lineage, Receipt]:
    """The lineage and receipt the fold made, from the packed entries (states by their accumulators, links rehashed)."""
    if len(entries) > len(workflow.steps):
        raise TransferError(f"a worker's result has {len(entries)} entries for {len(workflow.steps)} steps")
    _untrack_unpickled(workflow)
    state = context.initial_state
    lineage = Lineage(workflow.id, state)
    receipt = Receipt(workflow.id, workflow.digest, state.digest, policy_digest=policy.digest)
    for step, (status, written, removed, accumulator) in zip(workflow.steps, entries):
        if status not in (COMPLETED, FAILED):
            raise TransferError(f"step {step.id!r}: status {status!r} is not an executed step's")
        given: Value = None
        executed, digest_of_input = step, ""
        if step.takes_input:
            if step.id not in context.inputs:
                raise TransferError(f"step {step.id!r} ran without its input")
            given = context.inputs[step.id]
            executed, digest_of_input = step_as_run(step, given), input_digest(given, given=True)
        if accumulator is not None:
            state = state.changed_under(written, removed, accumulator)
        lineage = lineage.append(LineageEntry(executed, given, state, status))
        receipt = receipt.extend(step.id, step.digest, digest_of_input, state.digest, status)
    return lineage, receipt


def _untrack_unpickled(workflow: WorkflowDefinition) -> None:
    """An unpickled workflow's records, untracked as the ones built here are (`stepfold.collector`); its frozen
    values came through `loads` already untracked (or, pickled otherwise, are only left for the collector to walk)."""
    untrack_record(workflow, WorkflowDefinition)
    untrack(workflow.steps)
    for step in workflow.steps:
        untrack_record(step, StepSpec)
