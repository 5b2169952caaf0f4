"""`verify`: is this document an authentic record of running this workflow, under this policy, from this state, with these inputs, and does this code reproduce it?

A pure function of data. The verdict is one of:

- `"ok"`: the chain and the record are intact and (unless `replay=False`)
  replaying them with the given operations reproduces every link, the
  status and the error message;
- `"tampered"`: the chain, a recorded state, input, status, the policy or
  the expected head does not match: this is not the record of what was run;
- `"diverged"`: the record is intact, but replaying it gives something
  else: the code changed, or an operation is not deterministic;
- `"unverifiable"`: the record is intact but cannot be replayed here (an
  operation this environment lacks, a policy it cannot run under).

Order of checks (the first failure decides): the chain (genesis from the
recorded digests, then each link from its recorded fields), the record (the
receipt binds this workflow, initial state and policy; each link names the
workflow's step at that position with its digest, and each recorded state,
input and status hashes to what the link says; the final state is the last
step's), the anchors (`expect_head`, an expected `policy`), then the replay.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import attrs

from stepfold.canonical import sha256_json
from stepfold.divergence import first_divergence
from stepfold.engine import replay, step_as_run
from stepfold.errors import (
    EnvelopeViolation,
    InvalidDocumentError,
    InvalidValueError,
    StepfoldError,
    UnsupportedDocumentError,
)
from stepfold.frozen import values_identical
from stepfold.lineage import COMPLETED, FAILED
from stepfold.messages import brief_repr
from stepfold.operations import DEFAULT_OPERATIONS
from stepfold.operations.base import Operation, require_operations
from stepfold.policy import TIER2_POLICY, Policy
from stepfold.reader import read_result
from stepfold.receipt import ReceiptLink, genesis_hash, input_digest, link_hash
from stepfold.rehash import content_digests
from stepfold.result import OrchestrationResult
from stepfold.state import State
from stepfold.values import Value
from stepfold.verdict import DIVERGED, OK, TAMPERED, UNVERIFIABLE, VERDICTS, Mismatch, Verification
from stepfold.workflow import StepSpec

__all__ = [
    "verify",
    "Verification",
    "Mismatch",
    "VERDICTS",
    "OK",
    "TAMPERED",
    "DIVERGED",
    "UNVERIFIABLE",
]


def _verdict(
    verdict: str,
    checked: int,
    mismatch: Mismatch | None,
    reason: str,
    policy: Policy | None = None,
    replayed: OrchestrationResult | None = None,
) -> Verification:
    return Verification(verdict, checked, mismatch, reason, policy, replayed)


def _all_steps(count: int) -> str:
    """`all 3 steps`, `1 step`: how a reason counts what it checked."""
    return "1 step" if count == 1 else f"all {count} steps"


def verify(
    result: OrchestrationResult | Mapping[str, object],
    *,
    operations: Mapping[str, Operation] = DEFAULT_OPERATIONS,
    policy: Policy | None = None,
    replay: bool = True,
    expect_head: str | None = None,
    trust_accumulators: bool = False,
) -> Verification:
    """Verify a result, or a `to_dict()` document: its chain, its record, its anchors, then (unless `replay=False`) a replay.

    The run is checked under the policy it recorded. `policy`, when given, is
    the policy you expect: a run recorded under another is "tampered" (a
    format-1 document, which records none, is checked under `policy`, default
    `TIER2_POLICY`). `expect_head` is a head kept somewhere you trust: a
    consistent chain ending elsewhere is "tampered". `replay=False` checks
    the chain and the record only and needs no operations. Never raises for
    a bad document: it is "tampered", with the reason (a bad argument, e.g.
    `operations` that is not a mapping, is an `InvalidValueError`). A state whose
    accumulator was taken as given (loaded from a store, unpickled) has its
    digest recomputed from its entries; `trust_accumulators=True` skips that
    (for a store checking rows it wrote itself).

    >>> from stepfold import StepSpec, WorkflowDefinition, run_workflow
    >>> done = run_workflow(WorkflowDefinition(id="w", steps=[StepSpec("a", "runtime", {"operation": "noop"})]))
    >>> verify(done).verdict
    'ok'
    >>> verify(done, expect_head="0" * 64).verdict
    'tampered'
    """
    if policy is not None and not isinstance(policy, Policy):
        raise InvalidValueError(f"policy: expected a Policy or None, got {type(policy).__name__}")
    require_operations(operations)  # the caller's argument, not the document's: refused, never a verdict
    if expect_head is not None and not isinstance(expect_head, str):
        raise InvalidValueError(f"expect_head: expected a head (64 hex digits) or None, got {brief_repr(expect_head)}")
    if isinstance(result, OrchestrationResult):
        if (
            result.receipt.policy_digest is None and policy is not None
        ):  # format 1 binds no policy: check under the given one
            result = attrs.evolve(result, policy=policy)
        recorded_final = result.final_state
    else:
        try:
            problem = _document_chain_problem(result)
        except InvalidValueError:  # a field no JSON encoder can hash (a lone surrogate): the reader names it
            problem = None
        if problem is not None:
            return problem
        try:
            result, recorded_final = read_result(result, policy=TIER2_POLICY if policy is None else policy)
        except UnsupportedDocumentError as exc:
            return _verdict(UNVERIFIABLE, 0, None, f"the document cannot be interpreted here: {exc}")
        except InvalidDocumentError as exc:
            return _verdict(TAMPERED, 0, None, f"the document cannot be read as a result: {exc}")
    return _verify_result(result, recorded_final, operations, policy, replay, expect_head, trust_accumulators)


def _chain_problem(genesis: str, links: Iterable[tuple[str, str, str, str, str, str]]) -> tuple[int, str, str] | None:
    """Walk a chain of `(step_id, step_digest, input_digest, state_digest, status, hash)` links from `genesis`.

    Returns `(index, step_id, recorded hash)` of the first link that does not
    hash its recorded fields onto the previous one, or None; the head is the
    last link's recorded hash.
    """
    chain = genesis
    for index, (step_id, step_digest, digest_of_input, state_digest, status, recorded) in enumerate(links):
        if recorded != link_hash(chain, step_digest, digest_of_input, state_digest, status):
            return index, step_id, recorded
        chain = recorded
    return None


def _link_problem(index: int, step_id: str) -> str:
    return f"receipt link {index + 1} ({step_id!r}) does not hash its recorded fields onto the previous link"


def _document_chain_problem(document: object) -> Verification | None:
    """Check the raw document's chain before rebuilding it, so a damaged link is named by its position."""
    if not isinstance(document, Mapping):
        return _verdict(
            TAMPERED,
            0,
            None,
            f"the document cannot be read as a result: expected an object, got {type(document).__name__}",
        )
    receipt = document.get("receipt")
    links = receipt.get("links") if isinstance(receipt, Mapping) else None
    if not isinstance(receipt, Mapping) or not isinstance(links, list):
        return None  # the reader names what is missing
    workflow_digest, state_digest = receipt.get("workflow_digest"), receipt.get("initial_state_digest")
    policy_digest = receipt.get("policy_digest")
    if not isinstance(workflow_digest, str) or not isinstance(state_digest, str):
        return None
    if "policy_digest" in receipt and not isinstance(policy_digest, str):
        return None
    policy_document = document.get("policy")
    if (
        isinstance(policy_digest, str)
        and isinstance(policy_document, Mapping)
        and sha256_json(policy_document) != policy_digest
    ):
        return _verdict(TAMPERED, 0, None, "the recorded policy does not hash to the policy digest the receipt binds")
    if receipt.get("genesis") != genesis_hash(
        workflow_digest, state_digest, policy_digest if isinstance(policy_digest, str) else None
    ):
        return _verdict(
            TAMPERED, 0, None, "the receipt's genesis does not hash its workflow, initial-state and policy digests"
        )
    fields = ("step_id", "step_digest", "input_digest", "state_digest", "status", "hash")
    rows = []
    for link in links:
        if not isinstance(link, Mapping) or not all(isinstance(link.get(name), str) for name in fields):
            return None
        rows.append(tuple(str(link[name]) for name in fields))
    broken = _chain_problem(str(receipt["genesis"]), rows)  # type: ignore[arg-type]
    if broken is not None:
        index, step_id, _ = broken
        return _verdict(TAMPERED, index, Mismatch(index, step_id), _link_problem(index, step_id))
    head = rows[-1][-1] if rows else receipt["genesis"]
    if receipt.get("head") != head:
        return _verdict(TAMPERED, len(rows), None, "the receipt's head is not its last link")
    return None


def _rows(links: Iterable[ReceiptLink]) -> Iterable[tuple[str, str, str, str, str, str]]:
    for link in links:
        yield link.step_id, link.step_digest, link.input_digest, link.state_digest, link.status, link.hash


def _verify_result(
    result: OrchestrationResult,
    recorded_final: State,
    operations: Mapping[str, Operation],
    expected_policy: Policy | None,
    replay: bool,
    expect_head: str | None,
    trust_accumulators: bool,
) -> Verification:
    receipt, lineage, workflow = result.receipt, result.lineage, result.workflow
    policy = result.policy
    broken = _chain_problem(receipt.genesis, _rows(receipt.links))
    if broken is not None:
        index, step_id, _ = broken
        return _verdict(TAMPERED, index, Mismatch(index, step_id), _link_problem(index, step_id), policy)
    if receipt.policy_digest is not None and receipt.policy_digest != policy.digest:
        return _verdict(
            TAMPERED, 0, None, "the recorded policy is not the one the receipt binds (policy digest differs)", policy
        )
    if receipt.workflow_digest != workflow.digest:
        return _verdict(
            TAMPERED,
            0,
            None,
            "the recorded workflow is not the one the receipt binds (workflow digest differs)",
            policy,
        )
    digests = [state.digest for state in lineage.states] if trust_accumulators else content_digests(lineage.states)
    if receipt.initial_state_digest != digests[0]:
        return _verdict(
            TAMPERED,
            0,
            None,
            "the recorded initial state is not the one the receipt binds (state digest differs)",
            policy,
        )
    if len(receipt.links) != len(lineage.entries):
        index = min(len(receipt.links), len(lineage.entries))
        return _verdict(
            TAMPERED,
            index,
            _mismatch_at(result, index),
            f"the receipt has {len(receipt.links)} links for {len(lineage.entries)} executed steps",
            policy,
        )
    for index, (link, entry) in enumerate(zip(receipt.links, lineage.entries)):
        problem = _record_problem(
            result, index, link, entry.step, entry.input, entry.took_input, digests[index + 1], entry.status
        )
        if problem is not None:
            return _verdict(TAMPERED, index, Mismatch(index, link.step_id), problem, policy)
    steps = len(receipt.links)
    if recorded_final != result.final_state:
        return _verdict(
            TAMPERED, steps, None, "the recorded final state differs from the state after the last step", policy
        )
    if expect_head is not None and receipt.head != expect_head:
        return _verdict(
            TAMPERED,
            steps,
            None,
            f"the chain is intact but ends at head {receipt.head[:16]}…, not the expected {expect_head[:16]}…",
            policy,
        )
    if receipt.policy_digest is not None and expected_policy is not None and expected_policy != policy:
        return _verdict(
            TAMPERED,
            steps,
            None,
            f"the run was made under policy ({policy.describe()}), not the expected ({expected_policy.describe()})",
            policy,
        )
    if not replay:
        return _verdict(
            OK,
            steps,
            None,
            f"chain and record of {_all_steps(steps)} intact (not replayed); policy: {policy.describe()}",
            policy,
        )
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
        return f"step {index + 1} ({link.step_id!r}) is not in the workflow, which has {len(steps)} steps"
    defined = steps[index]
    where = f"step {index + 1} ({link.step_id!r})"
    if link.step_id != defined.id or step.id != defined.id:
        return f"{where}: the workflow has {defined.id!r} at this position"
    if link.step_digest != defined.digest:
        return f"{where}: the step digest does not match the workflow's step"
    if took_input != defined.takes_input:
        return f"{where}: the executed step differs from the workflow's step"
    try:
        expected = step_as_run(defined, given) if took_input else defined
    except InvalidValueError as exc:
        return f"{where}: {exc}"
    if step.kind != defined.kind or not values_identical(step.payload, expected.payload):
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
    try:
        replayed = replay(result, operations=operations)
    except EnvelopeViolation as exc:
        return _verdict(UNVERIFIABLE, 0, None, f"the record is intact but cannot be replayed here: {exc}", policy)
    except StepfoldError as exc:
        verdict = DIVERGED if isinstance(exc, InvalidValueError) else UNVERIFIABLE
        return _verdict(verdict, 0, None, f"the record is intact but replaying it is refused: {exc}", policy)
    diverged = first_divergence(result, replayed)
    if diverged is not None:
        index, what = diverged
        mismatch = Mismatch(index, result.workflow.steps[index].id)
        return _verdict(
            DIVERGED,
            index,
            mismatch,
            f"the record is intact, but replay diverges at {mismatch}: {what}",
            policy,
            replayed,
        )
    recorded = result.receipt.links
    if replayed.status != result.status or replayed.error_message != result.error_message:
        return _verdict(
            DIVERGED,
            len(recorded),
            None,
            f"replay ends {replayed.status!r} ({replayed.error_message}) where the record says {result.status!r} ({result.error_message})",
            policy,
            replayed,
        )
    return _verdict(
        OK,
        len(recorded),
        None,
        f"{_all_steps(len(recorded))} verified: chain intact, states match, replay identical; policy: {policy.describe()}",
        policy,
        replayed,
    )
