"""`verify`: an unedited result passes, any single edit to what the receipt covers fails, replay names the step."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pyrsistent import pmap

from stepfold import (
    DEFAULT_OPERATIONS,
    ExecutionContext,
    Mismatch,
    OrchestrationResult,
    Policy,
    State,
    StepSpec,
    Verification,
    WorkflowDefinition,
    run_mission,
    run_workflow,
    verify,
)
from stepfold.lineage import Lineage, LineageEntry
from stepfold.operations import Operation
from stepfold.receipt import Receipt, link_hash
from tests.strategies import results

Path = tuple[str | int, ...]


def _leaves_and_nodes(node: object, path: Path = ()) -> Iterator[Path]:
    yield path
    if isinstance(node, dict):
        for key, child in node.items():
            yield from _leaves_and_nodes(child, (*path, key))
    elif isinstance(node, list):
        for index, child in enumerate(node):
            yield from _leaves_and_nodes(child, (*path, index))


def _covered_paths(document: dict[str, object]) -> list[Path]:
    """Every node the receipt covers: all but the context's metadata and inputs no step consumed."""
    executed = set(document["lineage"]["executed_step_ids"])  # type: ignore[index]
    paths = []
    for path in _leaves_and_nodes(document):
        if not path or path[:2] == ("context", "metadata") or path == ("context",):
            continue
        if path[:2] == ("context", "inputs") and (len(path) == 2 or path[2] not in executed):
            continue
        paths.append(path)
    return paths


def _get(document: object, path: Path) -> object:
    for part in path:
        document = document[part]  # type: ignore[index]
    return document


def _different(value: object) -> object:
    """A value whose canonical encoding differs from `value`'s."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, (int, float)):
        bumped = value + 1
        return bumped if bumped != value else (-value if value else 1)
    if isinstance(value, str):
        return value[:-1] + ("0" if value[-1:] != "0" else "1") if value else "x"
    if value is None:
        return 0
    if isinstance(value, list):
        return [*value, "extra"]
    assert isinstance(value, dict)
    return {**value, "zz-extra": "extra"}


@st.composite
def edited_documents(draw: st.DrawFn) -> tuple[dict[str, object], Path, str]:
    result = draw(results())
    document = result.to_dict()
    path = draw(st.sampled_from(_covered_paths(document)))
    edited = copy.deepcopy(document)
    parent = _get(edited, path[:-1])
    key = path[-1]
    target = _get(edited, path)
    kinds = ["replace"]
    if isinstance(parent, dict) and not (path[:2] == ("context", "inputs") and len(path) == 3):
        kinds.append("delete")
    if isinstance(target, list) and len(target) >= 2:
        kinds.append("swap")
    kind = draw(st.sampled_from(kinds))
    if kind == "replace":
        parent[key] = _different(target)  # type: ignore[index]
    elif kind == "delete":
        assert isinstance(parent, dict)
        del parent[key]
    else:
        assert isinstance(target, list)
        i = draw(st.integers(0, len(target) - 2))
        target[i], target[i + 1] = target[i + 1], target[i]
        if target[i] == target[i + 1]:
            target.append("extra")
    return edited, path, kind


@given(results())
def test_unedited_result_verifies(result: OrchestrationResult) -> None:
    verdict = verify(result)
    assert verdict.ok, verdict.reason
    assert verdict.checked_steps == len(result.executed_steps)
    assert verdict.first_mismatch is None
    assert verdict.replayed is not None and verdict.replayed.to_dict() == result.to_dict()


@given(results())
def test_loaded_document_verifies_like_the_live_result(result: OrchestrationResult) -> None:
    live = verify(result)
    loaded = verify(json.loads(json.dumps(result.to_dict())))
    assert (loaded.ok, loaded.checked_steps, loaded.first_mismatch, loaded.reason) == (
        live.ok,
        live.checked_steps,
        live.first_mismatch,
        live.reason,
    )


@given(edited_documents())
def test_any_single_edit_to_a_covered_field_fails_verification(case: tuple[dict[str, object], Path, str]) -> None:
    document, path, kind = case
    verdict = verify(document)
    assert not verdict.ok, f"{kind} at {path} went unnoticed"
    assert verdict.reason


def _daily() -> OrchestrationResult:
    with open("examples/daily_state.json", encoding="utf-8") as handle:
        state = json.load(handle)
    inputs = {"daily-confirm-priorities": {"approved": True}}
    return run_mission("daily_loop", ExecutionContext(initial_state=state, inputs=inputs), {"date": "2026-11-24"})


def test_changed_operation_is_reported_at_the_first_step_it_changes() -> None:
    result = _daily()

    def other_priorities(state: State, step: StepSpec) -> State:
        return state.set("priorities", ["t4"])

    verdict = verify(result, operations=DEFAULT_OPERATIONS.set("daily.prioritise", other_priorities))
    assert not verdict.ok
    assert verdict.first_mismatch == Mismatch(1, "daily-generate-priorities")
    assert str(verdict.first_mismatch) == "step 2 ('daily-generate-priorities')"
    assert verdict.checked_steps == 1
    assert "the record is intact, but replay diverges at step 2" in verdict.reason
    assert verdict.replayed is not None and verdict.replayed.final_state.to_dict()["priorities"] == ["t4"]


def test_a_step_state_edit_names_that_step() -> None:
    document = _daily().to_dict()
    document["lineage"]["entries"][1]["changes"]["set"]["priorities"] = ["t1"]  # type: ignore[index]
    verdict = verify(document)
    assert (verdict.ok, verdict.first_mismatch, verdict.checked_steps) == (
        False,
        Mismatch(1, "daily-generate-priorities"),
        1,
    )
    assert "state does not hash" in verdict.reason


@pytest.mark.parametrize(
    ("edit", "reason"),
    [
        (lambda d: d["receipt"]["links"].pop(), "receipt's head is not its last link"),
        (
            lambda d: d["receipt"]["links"][0].update(state_digest="0" * 64),
            "receipt link 1 ('daily-summarise-yesterday') does not hash",
        ),
        (lambda d: d["final_state"].update(extra=1), "final state differs"),
        (lambda d: d["lineage"]["initial_state"].pop("journal"), "initial state is not the one the receipt binds"),
        (lambda d: d["workflow"]["metadata"].update(mission="x"), "workflow is not the one the receipt binds"),
    ],
)
def test_each_kind_of_damage_has_its_reason(edit: object, reason: str) -> None:
    document = _daily().to_dict()
    edit(document)  # type: ignore[operator]
    verdict = verify(document)
    assert not verdict.ok and reason in verdict.reason


def test_unreadable_documents_fail_without_raising() -> None:
    junk: object
    for junk in ({}, {"receipt": 3}, [], "text", {"format": "stepfold/result/1"}):
        verdict = verify(junk)  # type: ignore[arg-type]
        assert not verdict.ok and verdict.replayed is None
        assert "cannot be read" in verdict.reason


def test_replay_impossible_is_a_verdict_not_an_exception() -> None:
    result = run_workflow(WorkflowDefinition(id="w", steps=[StepSpec("a", "runtime", {"operation": "noop"})]))
    verdict = verify(result, operations=pmap())
    assert verdict.verdict == "unverifiable" and verdict.replayed is None
    assert (
        "the record is intact but cannot be replayed here" in verdict.reason
        and "unknown operation 'noop'" in verdict.reason
    )


# Each verdict, field by field ------------------------------------------------------------------


def _verdict(subject: object, **options: object) -> tuple[bool, int, Mismatch | None, str]:
    verdict = verify(subject, **options)  # type: ignore[arg-type]
    assert isinstance(verdict, Verification)
    return verdict.ok, verdict.checked_steps, verdict.first_mismatch, verdict.reason


_TWO_STEPS = WorkflowDefinition(
    id="w",
    steps=[StepSpec("a", "runtime", {"operation": "set", "key": "k", "value": 1}), StepSpec("h", "human", {})],
)


def _two_steps() -> OrchestrationResult:
    return run_workflow(_TWO_STEPS, ExecutionContext({"x": 1}, inputs={"h": "yes"}))


def _with_link(result: OrchestrationResult, index: int, **changes: str) -> OrchestrationResult:
    links = result.receipt.links
    receipt = attrs.evolve(result.receipt, links=links.set(index, attrs.evolve(links[index], **changes)))
    return attrs.evolve(result, receipt=receipt)


def test_a_verified_run_says_how_many_steps_checked_out() -> None:
    verdict = verify(_two_steps())
    assert (verdict.ok, verdict.checked_steps, verdict.first_mismatch) == (True, 2, None)
    assert verdict.reason == (
        "all 2 steps verified: chain intact, states match, replay identical; "
        "policy: at most 5 steps and 2 human steps; kinds human, runtime; any effect"
    )
    assert bool(verdict) is True and bool(verify([])) is False  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        ([], "the document cannot be read as a result: expected an object, got list"),
        ("text", "the document cannot be read as a result: expected an object, got str"),
        ({}, "the document cannot be read as a result: result.format: missing"),
    ],
)
def test_a_document_that_is_no_result_checks_no_step(document: object, reason: str) -> None:
    assert _verdict(document) == (False, 0, None, reason)
    assert verify(document).replayed is None  # type: ignore[arg-type]


def test_a_document_whose_digests_cannot_be_hashed_is_named_by_from_dict() -> None:
    document = _two_steps().to_dict()
    document["receipt"]["workflow_digest"] = 3  # type: ignore[index]
    assert _verdict(document) == (
        False,
        0,
        None,
        "the document cannot be read as a result: result.receipt.workflow_digest: expected a string, got int 3",
    )
    document["receipt"]["workflow_digest"] = "\ud800"  # type: ignore[index]
    assert _verdict(document) == (
        False,
        0,
        None,
        "the document cannot be read as a result: result.receipt.workflow_digest: "
        "string contains a lone surrogate '\\ud800' at index 0, which is not valid Unicode",
    )


def test_a_document_link_missing_a_field_is_named_by_from_dict() -> None:
    document = _two_steps().to_dict()
    del document["receipt"]["links"][0]["status"]  # type: ignore[index]
    assert _verdict(document) == (
        False,
        0,
        None,
        "the document cannot be read as a result: result.receipt.links[0].status: missing",
    )


def test_a_document_chain_is_checked_link_by_link() -> None:
    document = _two_steps().to_dict()
    document["receipt"]["genesis"] = "0" * 64  # type: ignore[index]
    assert _verdict(document) == (
        False,
        0,
        None,
        "the receipt's genesis does not hash its workflow, initial-state and policy digests",
    )
    document = _two_steps().to_dict()
    document["receipt"]["links"][1]["state_digest"] = "0" * 64  # type: ignore[index]
    assert _verdict(document) == (
        False,
        1,
        Mismatch(1, "h"),
        "receipt link 2 ('h') does not hash its recorded fields onto the previous link",
    )
    document = _two_steps().to_dict()
    document["receipt"]["head"] = "0" * 64  # type: ignore[index]
    assert _verdict(document) == (False, 2, None, "the receipt's head is not its last link")


def test_a_live_result_chain_is_checked_link_by_link() -> None:
    result = _with_link(_two_steps(), 1, state_digest="0" * 64)
    assert _verdict(result) == (
        False,
        1,
        Mismatch(1, "h"),
        "receipt link 2 ('h') does not hash its recorded fields onto the previous link",
    )


def test_a_receipt_binding_another_workflow_or_initial_state_fails_at_step_zero() -> None:
    result = _two_steps()
    other = WorkflowDefinition(id="w", steps=_TWO_STEPS.steps, metadata={"m": 1})
    assert _verdict(attrs.evolve(result, workflow=other)) == (
        False,
        0,
        None,
        "the recorded workflow is not the one the receipt binds (workflow digest differs)",
    )
    lineage = attrs.evolve(result.lineage, initial_state=State({"x": 2}))
    assert _verdict(attrs.evolve(result, lineage=lineage)) == (
        False,
        0,
        None,
        "the recorded initial state is not the one the receipt binds (state digest differs)",
    )


def test_a_receipt_and_a_lineage_of_different_lengths_fail_where_they_part() -> None:
    result = _two_steps()
    shorter = attrs.evolve(result, lineage=attrs.evolve(result.lineage, entries=result.lineage.entries[:1]))
    assert _verdict(shorter) == (False, 1, Mismatch(1, "h"), "the receipt has 2 links for 1 executed steps")
    extra = result.receipt.extend("ghost", "0" * 64, "", result.final_state.digest, "completed")
    assert _verdict(attrs.evolve(result, receipt=extra)) == (
        False,
        2,
        None,
        "the receipt has 3 links for 2 executed steps",
    )


def test_a_step_beyond_the_workflow_is_named() -> None:
    result = _two_steps()
    receipt = result.receipt.extend("ghost", "0" * 64, "", result.final_state.digest, "completed")
    ghost = LineageEntry(StepSpec("ghost", "runtime", {"operation": "noop"}), None, result.final_state, "completed")
    damaged = attrs.evolve(result, receipt=receipt, lineage=result.lineage.append(ghost))
    assert _verdict(damaged) == (
        False,
        2,
        Mismatch(2, "ghost"),
        "step 3 ('ghost') is not in the workflow, which has 2 steps",
    )


def test_a_link_naming_another_step_is_refused() -> None:
    document = _two_steps().to_dict()
    document["receipt"]["links"][0]["step_id"] = "zz"  # type: ignore[index]
    document["receipt"]["steps"][0] = "zz"  # type: ignore[index]
    assert _verdict(document) == (False, 0, Mismatch(0, "zz"), "step 1 ('zz'): the workflow has 'a' at this position")


@pytest.mark.parametrize("edit", [lambda inputs: inputs.update(h="no"), lambda inputs: inputs.pop("h")])
def test_a_recorded_input_must_be_the_runs_input(edit: object) -> None:
    document = _two_steps().to_dict()
    edit(document["context"]["inputs"])  # type: ignore[index,operator]
    assert _verdict(document) == (
        False,
        1,
        Mismatch(1, "h"),
        "step 2 ('h'): the recorded input differs from the run's inputs",
    )


def test_a_link_must_carry_the_digest_of_the_workflows_step() -> None:
    document = _two_steps().to_dict()
    receipt = document["receipt"]
    assert isinstance(receipt, dict)
    receipt["links"][0]["step_digest"] = "0" * 64
    previous = receipt["genesis"]
    for link in receipt["links"]:  # re-chain, so that only the comparison with the workflow can see the edit
        link["hash"] = previous = link_hash(
            previous, link["step_digest"], link["input_digest"], link["state_digest"], link["status"]
        )
    receipt["head"] = previous
    document["run_id"] = previous
    assert _verdict(document) == (
        False,
        0,
        Mismatch(0, "a"),
        "step 1 ('a'): the step digest does not match the workflow's step",
    )


def test_a_status_the_receipt_does_not_record_is_refused() -> None:
    result = _two_steps()
    entries = result.lineage.entries
    lineage = attrs.evolve(result.lineage, entries=entries.set(0, attrs.evolve(entries[0], status="failed")))
    assert _verdict(attrs.evolve(result, lineage=lineage)) == (
        False,
        0,
        Mismatch(0, "a"),
        "step 1 ('a'): the recorded status 'failed' differs from the receipt's 'completed'",
    )


def test_a_final_state_that_is_not_the_last_steps_state_is_refused() -> None:
    document = _two_steps().to_dict()
    document["final_state"] = {"x": 1}
    assert _verdict(document) == (False, 2, None, "the recorded final state differs from the state after the last step")


def test_a_run_recorded_under_another_policy_than_the_expected_one_is_tampered() -> None:
    verdict = verify(_two_steps(), policy=Policy(max_steps=1))
    assert (verdict.verdict, verdict.checked_steps, verdict.first_mismatch, verdict.replayed) == (
        "tampered",
        2,
        None,
        None,
    )
    assert verdict.reason == (
        "the run was made under policy (at most 5 steps and 2 human steps; kinds human, runtime; any effect), "
        "not the expected (at most 1 step and 2 human steps; kinds human, runtime; any effect)"
    )


def _fails_now(state: State, step: StepSpec) -> State:
    raise ValueError("changed")


def _sets_two(state: State, step: StepSpec) -> State:
    return state.set("k", 2)


@pytest.mark.parametrize(
    ("operation", "what"),
    [
        (_fails_now, "the step failed on replay but completed in the record"),
        (_sets_two, "the step produces a different state on replay"),
    ],
)
def test_replay_names_how_the_first_diverging_step_differs(operation: Operation, what: str) -> None:
    verdict = verify(_two_steps(), operations=DEFAULT_OPERATIONS.set("set", operation))
    assert (verdict.ok, verdict.checked_steps, verdict.first_mismatch) == (False, 0, Mismatch(0, "a"))
    assert verdict.reason == f"the record is intact, but replay diverges at step 1 ('a'): {what}"
    assert verdict.replayed is not None


def _chained(workflow: WorkflowDefinition, statuses: list[str]) -> OrchestrationResult:
    """A record of `workflow` whose steps ended with `statuses` and left the state as it was."""
    state = State()
    lineage = Lineage(workflow.id, state)
    receipt = Receipt(workflow.id, workflow.digest, state.digest)
    for step, status in zip(workflow.steps, statuses):
        lineage = lineage.append(LineageEntry(step, None, state, status))
        receipt = receipt.extend(step.id, step.digest, "", state.digest, status)
    return OrchestrationResult(workflow, ExecutionContext(), lineage, receipt, "completed")


def test_replay_that_runs_further_than_the_record_names_the_first_extra_step() -> None:
    workflow = WorkflowDefinition(id="w", steps=[StepSpec(s, "runtime", {"operation": "noop"}) for s in "ab"])
    verdict = verify(_chained(workflow, ["completed"]))
    assert (verdict.ok, verdict.checked_steps, verdict.first_mismatch) == (False, 1, Mismatch(1, "b"))
    assert (
        verdict.reason
        == "the record is intact, but replay diverges at step 2 ('b'): the replay runs a step the record does not have"
    )


def test_a_record_that_runs_further_than_the_replay_names_the_first_extra_step() -> None:
    steps = [StepSpec("a", "runtime", {"operation": "fail"}), StepSpec("b", "runtime", {"operation": "noop"})]
    verdict = verify(_chained(WorkflowDefinition(id="w", steps=steps), ["failed", "completed"]))
    assert (verdict.ok, verdict.checked_steps, verdict.first_mismatch) == (False, 1, Mismatch(1, "b"))
    assert (
        verdict.reason
        == "the record is intact, but replay diverges at step 2 ('b'): the record has a step the replay does not run"
    )


def test_a_replay_ending_otherwise_than_the_record_says_so() -> None:
    workflow = WorkflowDefinition(id="w", steps=[StepSpec("a", "runtime", {"operation": "fail", "reason": "no"})])
    document = run_workflow(workflow).to_dict()
    document["error_message"] = "other"
    verdict = verify(document)
    assert (verdict.ok, verdict.checked_steps, verdict.first_mismatch) == (False, 1, None)
    assert verdict.reason == (
        "replay ends 'failed' (step 'a' (operation 'fail') failed: OperationError: no) where the record says 'failed' (other)"
    )
    assert (
        verdict.replayed is not None
        and verdict.replayed.error_message == "step 'a' (operation 'fail') failed: OperationError: no"
    )


def test_an_executed_step_must_be_the_workflows_step() -> None:
    document = _two_steps().to_dict()
    document["executed_steps"][0]["payload"]["value"] = 2  # type: ignore[index]
    assert _verdict(document) == (
        False,
        0,
        Mismatch(0, "a"),
        "step 1 ('a'): the executed step differs from the workflow's step",
    )
