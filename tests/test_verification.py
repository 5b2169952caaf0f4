"""`verify`: an unedited result passes, any single edit to what the receipt covers fails, replay names the step."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from typing import Any

import attrs
import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from pyrsistent import pmap

from stepfold import (
    DEFAULT_OPERATIONS,
    TIER2_POLICY,
    AntiFailureViolation,
    ExecutionContext,
    InvalidInputError,
    InvalidValueError,
    Mismatch,
    OrchestrationResult,
    Policy,
    State,
    StateDelta,
    StepSpec,
    Verification,
    WorkflowDefinition,
    failed_outcome,
    ok_outcome,
    resume,
    run_mission,
    run_workflow,
    verify,
)
from stepfold.lineage import Lineage, LineageEntry
from stepfold.operations import Operation
from stepfold.receipt import Receipt, genesis_hash, input_digest, link_hash
from tests.strategies import ops_steps, plain_states, plain_values, results, small_keys

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
def edited_documents(
    draw: st.DrawFn,
    source: st.SearchStrategy[OrchestrationResult] | None = None,
    skip: frozenset[Path] = frozenset(),
) -> tuple[dict[str, object], Path, str]:
    """A result's document with one covered node replaced, deleted or swapped (never a node in `skip`)."""
    result = draw(results() if source is None else source)
    return draw(_edits(result.to_dict(), skip))


@st.composite
def _edits(draw: st.DrawFn, document: dict[str, object], skip: frozenset[Path]) -> tuple[dict[str, object], Path, str]:
    """`document` with one covered node (not in `skip`) replaced, deleted or swapped."""
    path = draw(st.sampled_from([path for path in _covered_paths(document) if path not in skip]))
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


def _sets_many(state: State, step: StepSpec) -> State:
    """Leaves five keys otherwise than the record: the reason names the first three (sorted) and counts the rest."""
    return state.remove("k").update({f"x{n}": n for n in range(4)})


@pytest.mark.parametrize(
    ("operation", "what"),
    [
        (
            _fails_now,
            "the step failed on replay but completed in the record "
            "(step 'a' (operation 'set') failed: ValueError: changed)",
        ),
        (_sets_two, "the step produces a different state on replay: 'k' is 2 on replay, 1 in the record"),
        (
            _sets_many,
            "the step produces a different state on replay: 'k' is absent on replay, 1 in the record; "
            "'x0' is 0 on replay, absent in the record; 'x1' is 1 on replay, absent in the record; and 2 more keys",
        ),
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
    document["error_message"] = "step 'a' (operation 'fail') failed: OperationError: other"
    assert verify(document, replay=False).ok  # the reason is the operation's own: only replay can check it
    verdict = verify(document)
    assert (verdict.ok, verdict.verdict, verdict.checked_steps, verdict.first_mismatch) == (False, "diverged", 1, None)
    assert verdict.reason == (
        "replay ends 'failed' (step 'a' (operation 'fail') failed: OperationError: no) where the record says "
        "'failed' (step 'a' (operation 'fail') failed: OperationError: other)"
    )
    assert (
        verdict.replayed is not None
        and verdict.replayed.error_message == "step 'a' (operation 'fail') failed: OperationError: no"
    )


@pytest.mark.parametrize("replay", [False, True])
def test_an_error_message_the_record_contradicts_is_tampered(replay: bool) -> None:
    """What the record binds of a failure (its step, its operation; an effect's whole outcome) is checked without replay."""
    failing = WorkflowDefinition(id="w", steps=[StepSpec("a", "runtime", {"operation": "fail", "reason": "no"})])
    completing = WorkflowDefinition(id="w", steps=[StepSpec("a", "runtime", {"operation": "noop"})])
    edits = [
        (run_workflow(failing).to_dict(), "disk full", "'disk full' is not what step 'a' failed with (it begins "),
        (run_workflow(failing).to_dict(), None, "None is not what step 'a' failed with"),
        (
            run_workflow(completing).to_dict(),
            "step 'a' failed",
            "\"step 'a' failed\" on a completed run, which has none",
        ),
    ]
    for document, message, reason in edits:
        document["error_message"] = message
        verdict = verify(document, replay=replay)
        assert verdict.verdict == "tampered", (message, verdict)
        assert f"result.error_message: {reason}" in verdict.reason, verdict.reason


def test_an_executed_step_must_be_the_workflows_step() -> None:
    document = _two_steps().to_dict()
    document["executed_steps"][0]["payload"]["value"] = 2  # type: ignore[index]
    assert _verdict(document) == (
        False,
        0,
        Mismatch(0, "a"),
        "step 1 ('a'): the executed step differs from the workflow's step",
    )


# Verification you can rely on (DESIGN.md): one law per test ------------------------------------

Json = Any
"""A plain JSON document (what `to_dict()` returns), edited freely by the tests below."""

EFFECT_NAMES = ("clock.now", "http.get", "tests.run")


@st.composite
def _input_for(draw: st.DrawFn, step: StepSpec) -> object:
    """A value a step can take: anything for a human `record` step, one of the two outcome shapes for an effect step."""
    if step.effect is None:
        return draw(plain_values)
    failed = failed_outcome("TimeoutError", "no answer", attempts=draw(st.integers(1, 3)))
    return draw(st.one_of(plain_values.map(ok_outcome), st.just(failed)))


@st.composite
def policed_runs(draw: st.DrawFn) -> OrchestrationResult:
    """Runs of 0..10 steps (runtime, human, effect and a third kind) under a generated policy that admits them.

    Some inputs are missing (the run suspends there); a suspended run is
    sometimes resumed, with no policy given (it continues under its own).
    """
    count = draw(st.integers(0, 10))
    steps: list[StepSpec] = []
    for index in range(count):
        shape = draw(st.sampled_from(["op", "op", "human", "effect", "review"]))
        if shape == "human":
            steps.append(StepSpec(f"h{index}", "human", {"into": draw(small_keys)}))
        elif shape == "effect":
            kind = draw(st.sampled_from(["runtime", "review"]))
            steps.append(StepSpec(f"e{index}", kind, {"effect": draw(st.sampled_from(EFFECT_NAMES)), "into": "fx"}))
        elif shape == "review":
            runtime = draw(ops_steps(index))
            steps.append(StepSpec(runtime.id, "review", runtime.payload))
        else:
            steps.append(draw(ops_steps(index)))
    inputs = {step.id: draw(_input_for(step)) for step in steps if step.takes_input and draw(st.integers(0, 4))}
    humans = sum(step.kind == "human" for step in steps)
    used_effects = {step.effect for step in steps if step.effect is not None}
    policy = Policy(
        max_steps=count + draw(st.integers(0, 3)),
        max_human_steps=humans + draw(st.integers(0, 2)),
        allowed_kinds={step.kind for step in steps} | draw(st.sets(st.sampled_from(["runtime", "human", "review"]))),
        allowed_effects=draw(st.one_of(st.none(), st.sets(st.sampled_from(EFFECT_NAMES)).map(used_effects.union))),
    )
    context = ExecutionContext(initial_state=draw(plain_states), inputs=inputs, metadata={"by": "test"})
    result = run_workflow(WorkflowDefinition(id="w", steps=steps), context, policy=policy)
    while result.pending_step is not None and draw(st.booleans()):
        result = resume(result, {result.pending_step.id: draw(_input_for(result.pending_step))})
    return result


def _wide_policy_run() -> OrchestrationResult:
    """Eight steps, one effect, two human steps: more than TIER2 allows, so only its own policy replays it."""
    policy = Policy(max_steps=10, max_human_steps=3, allowed_effects={"http.get"})
    steps = [StepSpec(f"s{i}", "runtime", {"operation": "increment", "key": "n", "by": i}) for i in range(5)]
    steps += [
        StepSpec("fetch", "runtime", {"effect": "http.get", "into": "page"}),
        StepSpec("approve", "human", {}),
        StepSpec("note", "human", {"into": "notes"}),
    ]
    inputs = {"fetch": ok_outcome({"status": 200}), "approve": {"approved": True}}
    suspended = run_workflow(WorkflowDefinition(id="wide", steps=steps), ExecutionContext(inputs=inputs), policy=policy)
    return resume(suspended, {"note": "looks fine"})


@example(_wide_policy_run())
@given(policed_runs())
def test_every_genuine_run_verifies_under_its_own_policy(result: OrchestrationResult) -> None:
    document = result.to_dict()
    assert document["policy"] == result.policy.to_dict()
    assert document["receipt"]["policy_digest"] == result.policy.digest  # type: ignore[index]
    for subject in (result, document, json.loads(json.dumps(document))):
        verdict = verify(subject)
        assert verdict.verdict == "ok", verdict.reason
        assert verdict.ok and bool(verdict)
        assert verdict.policy == result.policy
        assert verdict.checked_steps == len(result.executed_steps)
        assert verdict.reason.endswith(f"policy: {result.policy.describe()}")
        assert verify(subject, policy=result.policy).verdict == "ok"
    if result.policy != TIER2_POLICY:  # expecting another policy than the recorded one is an anchor that fails
        expected_other = verify(document, policy=TIER2_POLICY)
        assert expected_other.verdict == "tampered" and "not the expected" in expected_other.reason


def test_the_wide_run_exceeds_the_default_policy() -> None:
    """The example above means something: under TIER2 this workflow would not even start."""
    result = _wide_policy_run()
    assert (result.status, len(result.executed_steps)) == ("completed", 8)
    with pytest.raises(AntiFailureViolation):
        run_workflow(result.workflow, result.context)


def _policy_edits(policy: Json) -> Iterator[tuple[str, Json]]:
    """Every single edit of a recorded policy document: each field replaced, removed, or the object replaced."""
    for name, value in policy.items():
        if name in ("max_steps", "max_human_steps"):
            replacements = [value + 1, value - 1, float(value), str(value), None, True, False, [value]]
        elif value is None:  # allowed_effects: any effect
            replacements = [[], ["http.get"], "http.get", {}]
        else:
            replacements = [None, [], [*value, "zz-new"], value[1:], sorted({*value, "review", "human"}), value * 2]
            replacements += [list(reversed(value)), ",".join(value), {}]
        for replacement in replacements:
            if json.dumps(replacement) != json.dumps(value):
                yield f"policy.{name} = {replacement!r}", {**policy, name: replacement}
        yield f"policy.{name} removed", {key: kept for key, kept in policy.items() if key != name}
    yield "policy with an extra key", {**policy, "note": "edited"}
    for other in (TIER2_POLICY, Policy(max_steps=99), Policy(allowed_kinds={"runtime"}), Policy(allowed_effects=[])):
        if other.to_dict() != policy:
            yield f"policy = {other.to_dict()}", other.to_dict()
    yield "policy = null", None
    yield "policy = []", []


def _policy_edited_documents(document: Json) -> Iterator[tuple[str, Json]]:
    for what, edited_policy in _policy_edits(document["policy"]):
        edited = copy.deepcopy(document)
        edited["policy"] = edited_policy
        yield what, edited
    edited = copy.deepcopy(document)
    del edited["policy"]
    yield "policy removed", edited
    other = Policy(max_steps=99)
    for digest in ("0" * 64, document["receipt"]["policy_digest"].upper(), TIER2_POLICY.digest, other.digest, "", None):
        if digest != document["receipt"]["policy_digest"]:
            edited = copy.deepcopy(document)
            edited["receipt"]["policy_digest"] = digest
            yield f"receipt.policy_digest = {digest!r}", edited
    edited = copy.deepcopy(document)
    del edited["receipt"]["policy_digest"]
    yield "receipt.policy_digest removed", edited
    if document["policy"] != other.to_dict():  # the policy and its digest edited together: the genesis gives it away
        edited = copy.deepcopy(document)
        edited["policy"], edited["receipt"]["policy_digest"] = other.to_dict(), other.digest
        yield "policy and receipt.policy_digest", edited
        edited = copy.deepcopy(edited)
        receipt = edited["receipt"]
        receipt["genesis"] = genesis_hash(receipt["workflow_digest"], receipt["initial_state_digest"], other.digest)
        yield "policy, receipt.policy_digest and receipt.genesis", edited


@given(policed_runs())
def test_any_edit_of_the_recorded_policy_is_tampered(result: OrchestrationResult) -> None:
    document = result.to_dict()
    edits = list(_policy_edited_documents(document))
    assert len(edits) >= 30
    for what, edited in edits:
        for replay in (True, False):
            verdict = verify(edited, replay=replay)
            assert verdict.verdict == "tampered", f"{what} (replay={replay}) gave {verdict.verdict}: {verdict.reason}"
            assert verdict.replayed is None and verdict.reason


def _score(state: State, step: StepSpec) -> State:
    return state.set("score", len(state))


ACME_OPERATIONS = DEFAULT_OPERATIONS.set("acme.score", _score)
"""The defaults plus an operation `acme.score` that a verifier's environment may lack."""


def _acme_run() -> OrchestrationResult:
    workflow = WorkflowDefinition(
        id="acme",
        steps=[
            StepSpec("seed", "runtime", {"operation": "set", "key": "a", "value": 1}),
            StepSpec("score", "runtime", {"operation": "acme.score"}),
            StepSpec("ask", "human", {}),
        ],
    )
    return run_workflow(workflow, ExecutionContext(inputs={"ask": "yes"}), operations=ACME_OPERATIONS)


def test_missing_code_is_unverifiable_not_tampered() -> None:
    result = _acme_run()
    assert result.final_state == {"a": 1, "score": 1, "ask": "yes"}
    for subject in (result, result.to_dict()):
        verdict = verify(subject)  # this environment has only the default operations
        assert (verdict.verdict, verdict.ok, verdict.first_mismatch, verdict.replayed) == (
            "unverifiable",
            False,
            None,
            None,
        )
        assert "cannot be replayed here" in verdict.reason and "unknown operation 'acme.score'" in verdict.reason
        assert verdict.policy == result.policy
        for operations in (DEFAULT_OPERATIONS, pmap()):
            chain_only = verify(subject, operations=operations, replay=False)
            assert chain_only.verdict == "ok", chain_only.reason
        assert verify(subject, operations=ACME_OPERATIONS).verdict == "ok"
    edited = result.to_dict()
    edited["lineage"]["entries"][1]["changes"]["set"]["score"] = 2  # type: ignore[index]
    assert verify(edited).verdict == "tampered"  # the record is checked before anyone asks for the code


def _tick(state: State, step: StepSpec) -> State:
    n = step.payload["n"]
    return state.set(f"k{n}", n)


def _changed_tick(changed_at: int, how: str) -> Operation:
    def tick(state: State, step: StepSpec) -> State:
        n = step.payload["n"]
        if n != changed_at:
            return state.set(f"k{n}", n)
        if how == "raises":
            raise RuntimeError("the new code refuses")
        return state.set(f"k{n}", -1)

    return tick


@given(st.integers(1, 6), st.integers(0, 6), st.data())
def test_changed_operation_is_diverged(length: int, human_at: int, data: st.DataObject) -> None:
    """Same operation name, other behaviour: "diverged", at the first step whose replay differs."""
    steps = [StepSpec(f"t{n}", "runtime", {"operation": "acme.tick", "n": n}) for n in range(length)]
    steps.insert(min(human_at, length), StepSpec("ask", "human", {}))
    workflow = WorkflowDefinition(id="ticks", steps=steps)
    policy = Policy(max_steps=7)
    result = run_workflow(
        workflow,
        ExecutionContext(inputs={"ask": "go"}),
        policy=policy,
        operations=DEFAULT_OPERATIONS.set("acme.tick", _tick),
    )
    assert result.status == "completed"
    changed_at = data.draw(st.integers(0, length - 1), label="changed_at")
    how = data.draw(st.sampled_from(["state", "raises"]), label="how")
    index = [step.id for step in steps].index(f"t{changed_at}")
    what = {
        "state": "the step produces a different state on replay",
        "raises": "the step failed on replay but completed in the record",
    }[how]
    changed = DEFAULT_OPERATIONS.set("acme.tick", _changed_tick(changed_at, how))
    for subject in (result, result.to_dict()):
        verdict = verify(subject, operations=changed)
        assert verdict.verdict == "diverged"
        assert verdict.first_mismatch == Mismatch(index, f"t{changed_at}")
        assert verdict.checked_steps == index
        assert verdict.reason.startswith(  # then what differed: the keys, or the replay's failure
            f"the record is intact, but replay diverges at step {index + 1} ('t{changed_at}'): {what} "
            if how == "raises"
            else f"the record is intact, but replay diverges at step {index + 1} ('t{changed_at}'): {what}: "
        ), verdict.reason
        assert verdict.replayed is not None and verdict.policy == policy
        assert verify(subject, operations=changed, replay=False).verdict == "ok"


_UNBOUND = frozenset({("error_message",)})
"""The one covered node the receipt does not bind (docs/receipt-format.md, section 10): only a replay sees it."""


@given(st.one_of(results(), policed_runs()), st.data())
def test_chain_only_needs_no_operations(result: OrchestrationResult, data: st.DataObject) -> None:
    document = result.to_dict()
    for subject in (result, document):
        verdict = verify(subject, operations=pmap(), replay=False)
        assert verdict.verdict == "ok", verdict.reason
        assert (verdict.checked_steps, verdict.replayed) == (len(result.executed_steps), None)
        assert "(not replayed)" in verdict.reason
    edited, path, kind = data.draw(_edits(document, _UNBOUND), label="edit")
    verdict = verify(edited, operations=pmap(), replay=False)
    assert verdict.verdict == "tampered", f"{kind} at {path}: {verdict.verdict}: {verdict.reason}"


def test_an_edited_failure_reason_is_seen_only_by_a_replay() -> None:
    """The receipt does not bind an operation's reason for failing (documented): without the code an edit of it
    passes, as long as the message still names the step and operation the record binds."""
    workflow = WorkflowDefinition(id="w", steps=[StepSpec("a", "runtime", {"operation": "fail", "reason": "no"})])
    document = run_workflow(workflow).to_dict()
    document["error_message"] = "step 'a' (operation 'fail') failed: all is well"
    assert verify(document, replay=False).verdict == "ok"
    assert verify(document).verdict == "diverged"


def forged(document: Json, step_id: str, new_input: Json) -> Json:
    """The document as a forger would rewrite it: a human `record` step's input changed, everything re-derived.

    The input is changed wherever it is recorded (the context, the lineage
    entry, the executed step, the state the step wrote), then every state
    digest is recomputed from the initial state and the changes, and the
    genesis, every link, the head and the run id are recomputed from those:
    a document that is consistent through and through.
    """
    doc = copy.deepcopy(document)
    index = doc["lineage"]["executed_step_ids"].index(step_id)
    defined = next(step for step in doc["workflow"]["steps"] if step["id"] == step_id)
    doc["context"]["inputs"][step_id] = new_input
    doc["lineage"]["entries"][index]["input"] = new_input
    doc["executed_steps"][index]["payload"]["input"] = new_input
    doc["lineage"]["entries"][index]["changes"]["set"][defined["payload"].get("into", step_id)] = new_input
    rechain(doc)
    return doc


def rechain(doc: Json) -> None:
    """Recompute, in place, every state digest, the final state, the genesis, every link, the head and the run id."""
    receipt = doc["receipt"]
    state = State(doc["lineage"]["initial_state"])
    receipt["initial_state_digest"] = state.digest
    receipt["genesis"] = previous = genesis_hash(receipt["workflow_digest"], state.digest, receipt.get("policy_digest"))
    for entry, link in zip(doc["lineage"]["entries"], receipt["links"]):
        state = state.apply(StateDelta.from_dict(entry["changes"]))
        link["input_digest"] = input_digest(entry["input"], given=link["input_digest"] != "")
        link["state_digest"] = state.digest
        link["hash"] = previous = link_hash(
            previous, link["step_digest"], link["input_digest"], link["state_digest"], link["status"]
        )
    receipt["head"] = previous
    doc["final_state"] = state.to_dict()
    if "run_id" in doc:
        doc["run_id"] = previous


DECISION = WorkflowDefinition(
    id="payout",
    steps=[
        StepSpec("amount", "runtime", {"operation": "set", "key": "amount", "value": 1200}),
        StepSpec("decide", "human", {"into": "decision"}),
        StepSpec("log", "runtime", {"operation": "append", "key": "log", "value": "decided"}),
        StepSpec("sign-off", "human", {}),
    ],
)
"""A person's decision between runtime steps, and a second human step after it (so a run can wait there)."""


def decided(approved: bool, *, sign_off: bool = True) -> OrchestrationResult:
    """A genuine run of `DECISION` with this decision (suspended at `sign-off` unless `sign_off`)."""
    inputs: dict[str, object] = {"decide": {"approved": approved}}
    if sign_off:
        inputs["sign-off"] = "ok"
    return run_workflow(DECISION, ExecutionContext(initial_state={"case": 7}, inputs=inputs))


@pytest.mark.parametrize("sign_off", [True, False])
def test_a_consistent_forgery_fails_against_the_expected_head(sign_off: bool) -> None:
    genuine = decided(True, sign_off=sign_off)
    genuine_head = genuine.receipt.head
    document = forged(genuine.to_dict(), "decide", {"approved": False})
    assert document["final_state"]["decision"] == {"approved": False}
    assert document["receipt"]["head"] != genuine_head
    assert document == decided(False, sign_off=sign_off).to_dict()  # indistinguishable from a genuine other run
    for replay in (True, False):
        assert verify(document, replay=replay).verdict == "ok"  # the chain alone proves nothing against a rewrite
        anchored = verify(document, replay=replay, expect_head=genuine_head)
        assert (anchored.verdict, anchored.replayed, anchored.checked_steps) == (
            "tampered",
            None,
            len(genuine.lineage.entries),
        )
        assert anchored.reason == (
            f"the chain is intact but ends at head {document['receipt']['head'][:16]}…, "
            f"not the expected {genuine_head[:16]}…"
        )
        assert verify(genuine, replay=replay, expect_head=genuine_head).verdict == "ok"
        assert verify(OrchestrationResult.from_dict(document), replay=replay, expect_head=genuine_head).verdict == (
            "tampered"
        )


@given(edited_documents(source=st.one_of(results(), policed_runs())))
def test_a_reason_names_the_first_step_one_based_and_what_differed(case: tuple[dict[str, object], Path, str]) -> None:
    document, path, kind = case
    verdict = verify(document)
    assert verdict.verdict in ("tampered", "diverged"), f"{kind} at {path}"
    mismatch = verdict.first_mismatch
    if mismatch is not None:
        assert f"{mismatch.index + 1} ({mismatch.step_id!r})" in verdict.reason, verdict.reason
        assert str(mismatch) == f"step {mismatch.index + 1} ({mismatch.step_id!r})"
        assert verdict.checked_steps == mismatch.index
        _, _, what = verdict.reason.partition(f"{mismatch.index + 1} ({mismatch.step_id!r})")
        assert len(what.strip(" :")) > 10, verdict.reason  # and then says what differed


@pytest.mark.parametrize(
    ("subject", "options", "verdict"),
    [
        (_two_steps, {}, "ok"),
        (lambda: _with_link(_two_steps(), 0, state_digest="0" * 64), {}, "tampered"),
        (_two_steps, {"operations": DEFAULT_OPERATIONS.set("set", _sets_two)}, "diverged"),
        (_two_steps, {"operations": pmap()}, "unverifiable"),
    ],
)
def test_ok_and_bool_are_the_verdict(
    subject: Callable[[], OrchestrationResult], options: dict[str, Any], verdict: str
) -> None:
    verification = verify(subject(), **options)
    assert verification.verdict == verdict
    assert verification.ok is (verdict == "ok") is bool(verification)
    assert verdict in ("ok", "tampered", "diverged", "unverifiable")


def _format_1(result: OrchestrationResult) -> OrchestrationResult:
    """The same run as stepfold 0.1 recorded it: no policy bound, the links re-chained from a format-1 genesis."""
    receipt = Receipt(result.id, result.workflow.digest, result.lineage.initial_state.digest)
    for link in result.receipt.links:
        receipt = receipt.extend(link.step_id, link.step_digest, link.input_digest, link.state_digest, link.status)
    return attrs.evolve(result, receipt=receipt)


def _seven_noops() -> WorkflowDefinition:
    return WorkflowDefinition(id="seven", steps=[StepSpec(f"s{i}", "runtime", {"operation": "noop"}) for i in range(7)])


def test_format_1_documents_verify_under_tier2_unless_a_policy_is_given() -> None:
    small = _format_1(_two_steps()).to_dict()
    assert small["format"] == "stepfold/result/1" and "policy" not in small
    verdict = verify(small)
    assert (verdict.verdict, verdict.policy) == ("ok", TIER2_POLICY)
    assert verdict.reason.endswith(f"policy: {TIER2_POLICY.describe()}")
    one_step = Policy(max_steps=1)
    assert (verify(small, policy=one_step).verdict, verify(small, policy=one_step).policy) == ("unverifiable", one_step)
    assert verify(small, policy=one_step, replay=False).verdict == "ok"  # a format-1 record binds no policy
    wide = Policy(max_steps=10)
    seven = _format_1(run_workflow(_seven_noops(), policy=wide)).to_dict()
    under_tier2 = verify(seven)
    assert (under_tier2.verdict, under_tier2.policy) == ("unverifiable", TIER2_POLICY)
    assert "the policy allows at most 5" in under_tier2.reason
    under_wide = verify(seven, policy=wide)
    assert (under_wide.verdict, under_wide.policy) == ("ok", wide)
    assert verify(json.loads(json.dumps(seven)), policy=wide).verdict == "ok"


def test_a_live_format_1_result_verifies_like_its_document_under_a_given_policy() -> None:
    old = _format_1(run_mission("daily_loop", ExecutionContext(initial_state={"tasks": []})))
    assert old.receipt.format == "stepfold/receipt/1" and len(old.workflow.steps) == 4
    three = Policy(max_steps=3)
    document = verify(old.to_dict(), policy=three)
    assert (document.verdict, document.policy) == ("unverifiable", three)
    live = verify(old, policy=three)
    assert (live.verdict, live.policy) == (document.verdict, document.policy)


# Exact verdicts: each path's verdict, steps checked, first mismatch, reason and policy, all pinned -------------


def _two_step_run(policy: Policy = TIER2_POLICY) -> OrchestrationResult:
    steps = [
        StepSpec("one", "runtime", {"operation": "set", "key": "a", "value": 1}),
        StepSpec("two", "runtime", {"operation": "increment", "key": "n"}),
    ]
    return run_workflow(
        WorkflowDefinition(id="pin", steps=steps), ExecutionContext(initial_state={"n": 0}), policy=policy
    )


def _one_step_run() -> OrchestrationResult:
    steps = [StepSpec("only", "runtime", {"operation": "noop"})]
    return run_workflow(WorkflowDefinition(id="one", steps=steps))


def _edited_document(result: OrchestrationResult, edit: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    document = copy.deepcopy(result.to_dict())
    edit(document)
    return document


def test_one_step_verified_is_said_in_the_singular() -> None:
    verdict = verify(_one_step_run())
    assert verdict.reason.startswith("1 step verified: chain intact, states match, replay identical; policy: ")
    chain_only = verify(_one_step_run(), replay=False)
    assert chain_only.reason.startswith("chain and record of 1 step intact (not replayed); policy: ")
    assert verify(_two_step_run(), replay=False).reason.startswith("chain and record of all 2 steps intact")


def test_a_policy_argument_that_is_not_a_policy_is_refused_by_name() -> None:
    with pytest.raises(InvalidValueError, match=r"^policy: expected a Policy or None, got str$"):
        verify(_one_step_run(), policy="strict")  # type: ignore[arg-type]


def test_an_edited_policy_document_is_tampered_at_the_start() -> None:
    result = _two_step_run()

    def widen(document: dict[str, Any]) -> None:
        document["policy"]["max_steps"] = 9

    verdict = verify(_edited_document(result, widen))
    assert (verdict.verdict, verdict.checked_steps, verdict.first_mismatch, verdict.policy) == (
        "tampered",
        0,
        None,
        None,
    )
    assert verdict.reason == "the recorded policy does not hash to the policy digest the receipt binds"


def test_a_policy_digest_that_is_not_a_string_is_left_to_the_reader() -> None:
    def retype(document: dict[str, Any]) -> None:
        document["receipt"]["policy_digest"] = 5

    verdict = verify(_edited_document(_two_step_run(), retype))
    assert verdict.verdict == "tampered" and verdict.checked_steps == 0
    assert verdict.reason.startswith("the document cannot be read as a result: ")


def test_links_that_are_not_a_list_are_left_to_the_reader() -> None:
    def retype(document: dict[str, Any]) -> None:
        document["receipt"]["links"] = {"not": "a list"}

    verdict = verify(_edited_document(_two_step_run(), retype))
    assert verdict.verdict == "tampered" and verdict.reason.startswith("the document cannot be read as a result: ")


def test_a_broken_link_in_a_document_is_named_by_its_position() -> None:
    def break_second(document: dict[str, Any]) -> None:
        document["receipt"]["links"][1]["status"] = "failed"

    verdict = verify(_edited_document(_two_step_run(), break_second))
    assert (verdict.verdict, verdict.checked_steps, verdict.first_mismatch) == ("tampered", 1, Mismatch(1, "two"))
    assert verdict.reason == "receipt link 2 ('two') does not hash its recorded fields onto the previous link"
    assert verdict.policy is None  # decided before the document was read: no policy checked yet


def test_a_broken_link_in_a_live_result_names_the_policy_checked() -> None:
    result = _two_step_run()
    links = list(result.receipt.links)
    links[1] = attrs.evolve(links[1], status="failed")
    forged = attrs.evolve(result, receipt=attrs.evolve(result.receipt, links=links))
    verdict = verify(forged)
    assert (verdict.verdict, verdict.checked_steps, verdict.first_mismatch) == ("tampered", 1, Mismatch(1, "two"))
    assert verdict.reason == "receipt link 2 ('two') does not hash its recorded fields onto the previous link"
    assert verdict.policy == TIER2_POLICY


def _with_policy(result: OrchestrationResult) -> OrchestrationResult:
    return attrs.evolve(result, policy=Policy(max_steps=3))


def _with_workflow(result: OrchestrationResult) -> OrchestrationResult:
    steps = [StepSpec("one", "runtime", {"operation": "noop"}), StepSpec("two", "runtime", {"operation": "noop"})]
    return attrs.evolve(result, workflow=WorkflowDefinition(id="pin", steps=steps))


def _with_initial_state(result: OrchestrationResult) -> OrchestrationResult:
    return attrs.evolve(result, lineage=attrs.evolve(result.lineage, initial_state=State({"n": 5})))


@pytest.mark.parametrize(
    ("forge", "reason"),
    [
        (_with_policy, "the recorded policy is not the one the receipt binds (policy digest differs)"),
        (_with_workflow, "the recorded workflow is not the one the receipt binds (workflow digest differs)"),
        (_with_initial_state, "the recorded initial state is not the one the receipt binds (state digest differs)"),
    ],
)
def test_a_record_the_receipt_does_not_bind_is_tampered_with_the_policy_checked(
    forge: Callable[[OrchestrationResult], OrchestrationResult], reason: str
) -> None:
    forged = forge(_two_step_run())
    verdict = verify(forged)
    assert (verdict.verdict, verdict.checked_steps, verdict.first_mismatch, verdict.reason) == (
        "tampered",
        0,
        None,
        reason,
    )
    assert verdict.policy == forged.policy


def test_a_changed_final_state_and_a_changed_step_state_name_the_policy() -> None:
    result = _two_step_run()
    entries = list(result.lineage.entries)
    entries[0] = attrs.evolve(entries[0], state=entries[0].state.set("a", 2))
    forged = attrs.evolve(result, lineage=attrs.evolve(result.lineage, entries=entries))
    verdict = verify(forged)
    assert (verdict.verdict, verdict.checked_steps, verdict.first_mismatch) == ("tampered", 0, Mismatch(0, "one"))
    assert verdict.policy == TIER2_POLICY


def test_an_expected_policy_that_is_not_the_recorded_one_is_tampered_after_every_step() -> None:
    verdict = verify(_two_step_run(), policy=Policy(max_steps=4))
    assert (verdict.verdict, verdict.checked_steps, verdict.first_mismatch) == ("tampered", 2, None)
    assert verdict.reason.startswith("the run was made under policy (") and verdict.policy == TIER2_POLICY


def test_an_expected_head_elsewhere_is_tampered_after_every_step() -> None:
    result = _two_step_run()
    verdict = verify(result, expect_head="f" * 64)
    assert (verdict.verdict, verdict.checked_steps, verdict.first_mismatch, verdict.policy) == (
        "tampered",
        2,
        None,
        TIER2_POLICY,
    )
    assert verdict.reason == f"the chain is intact but ends at head {result.run_id[:16]}…, not the expected {'f' * 16}…"


def test_a_replay_that_cannot_run_here_is_unverifiable_at_step_0_with_the_policy() -> None:
    verdict = verify(_two_step_run(), operations=pmap({"set": DEFAULT_OPERATIONS["set"]}))
    assert (verdict.verdict, verdict.checked_steps, verdict.first_mismatch, verdict.policy) == (
        "unverifiable",
        0,
        None,
        TIER2_POLICY,
    )
    assert verdict.reason.startswith("the record is intact but cannot be replayed here: ")


def test_a_replay_whose_operation_changed_output_diverges_at_its_step() -> None:
    def other_set(state: State, step: StepSpec) -> State:
        return state.set(str(step.payload["key"]), 99)

    verdict = verify(_two_step_run(), operations=DEFAULT_OPERATIONS.set("set", other_set))
    assert (verdict.verdict, verdict.checked_steps, verdict.first_mismatch) == ("diverged", 0, Mismatch(0, "one"))
    assert verdict.reason == (
        "the record is intact, but replay diverges at step 1 ('one'): the step produces a different state on replay: "
        "'a' is 99 on replay, 1 in the record"
    )
    assert verdict.policy == TIER2_POLICY and verdict.replayed is not None


def test_a_state_taken_as_given_is_rehashed_by_default() -> None:
    result = _two_step_run()
    initial = result.lineage.initial_state
    forged_initial = State.from_accumulator({**initial.to_dict(), "n": 7}, initial.accumulator)
    forged = attrs.evolve(
        result,
        context=attrs.evolve(result.context, initial_state=forged_initial),
        lineage=attrs.evolve(result.lineage, initial_state=forged_initial),
    )
    assert verify(forged, replay=False).verdict == "tampered"
    assert verify(forged, replay=False, trust_accumulators=True).verdict == "ok"


def test_a_value_that_is_no_document_is_tampered_at_the_start() -> None:
    verdict = verify([1, 2])  # type: ignore[arg-type]
    assert (verdict.verdict, verdict.checked_steps, verdict.first_mismatch, verdict.policy) == (
        "tampered",
        0,
        None,
        None,
    )
    assert verdict.reason == "the document cannot be read as a result: expected an object, got list"


def test_a_receipt_without_links_is_left_to_the_reader() -> None:
    def drop(document: dict[str, Any]) -> None:
        document["receipt"]["links"] = None

    verdict = verify(_edited_document(_two_step_run(), drop))
    assert verdict.verdict == "tampered" and verdict.reason.startswith("the document cannot be read as a result: ")


def test_a_format_1_document_this_version_reads_otherwise_is_unverifiable_at_the_start() -> None:
    def argue(document: dict[str, Any]) -> None:
        document["workflow"]["steps"][0]["payload"]["effect"] = "an argument in 0.1"

    verdict = verify(_edited_document(_format_1(_two_step_run()), argue))
    assert (verdict.verdict, verdict.checked_steps, verdict.first_mismatch, verdict.policy) == (
        "unverifiable",
        0,
        None,
        None,
    )
    assert verdict.reason.startswith("the document cannot be interpreted here: result.workflow.steps[0].payload.effect")


def test_receipt_and_lineage_of_different_lengths_name_the_policy() -> None:
    result = _two_step_run()
    shorter = attrs.evolve(result, lineage=attrs.evolve(result.lineage, entries=result.lineage.entries[:1]))
    verdict = verify(shorter)
    assert (verdict.verdict, verdict.checked_steps, verdict.first_mismatch, verdict.policy) == (
        "tampered",
        1,
        Mismatch(1, "two"),
        TIER2_POLICY,
    )


def test_a_changed_final_state_is_tampered_after_every_step_with_the_policy() -> None:
    def change(document: dict[str, Any]) -> None:
        document["final_state"] = {"n": 9}

    verdict = verify(_edited_document(_two_step_run(), change))
    assert (verdict.verdict, verdict.checked_steps, verdict.first_mismatch, verdict.policy) == (
        "tampered",
        2,
        None,
        TIER2_POLICY,
    )


def test_a_chain_only_verdict_names_the_policy() -> None:
    verdict = verify(_two_step_run(), replay=False)
    assert (verdict.verdict, verdict.checked_steps, verdict.policy, verdict.replayed) == ("ok", 2, TIER2_POLICY, None)


def test_a_replay_ending_otherwise_names_the_policy() -> None:
    workflow = WorkflowDefinition(id="w", steps=[StepSpec("a", "runtime", {"operation": "fail", "reason": "no"})])
    document = run_workflow(workflow).to_dict()
    document["error_message"] = "step 'a' (operation 'fail') failed: other"
    verdict = verify(document)
    assert (verdict.verdict, verdict.policy) == ("diverged", TIER2_POLICY)


def test_a_recorded_input_the_step_now_refuses_diverges_at_the_start() -> None:
    def refuses(state: State, step: StepSpec) -> State:
        raise InvalidInputError("no longer accepted")

    verdict = verify(_two_steps(), operations=DEFAULT_OPERATIONS.set("record", refuses))
    assert (verdict.verdict, verdict.checked_steps, verdict.first_mismatch, verdict.policy) == (
        "diverged",
        0,
        None,
        TIER2_POLICY,
    )
    assert verdict.reason.startswith("the record is intact but replaying it is refused: inputs.h: step 'h' ")


def test_verify_refuses_arguments_that_are_not_what_it_takes() -> None:
    """Junk in the document is a verdict; junk in the caller's own arguments is an `InvalidValueError` naming it
    (an operation table that is not a mapping was reported as a diverged run)."""
    done = _two_step_run()
    for call, message in [
        (lambda: verify(done, operations=[1]), "operations: expected a mapping of names to operations, got list"),  # type: ignore[arg-type]
        (lambda: verify(done, operations=None), "operations: expected a mapping of names to operations, got NoneType"),  # type: ignore[arg-type]
        (lambda: verify(done, expect_head=3), "expect_head: expected a head (64 hex digits) or None, got 3"),  # type: ignore[arg-type]
    ]:
        with pytest.raises(InvalidValueError) as info:
            call()  # type: ignore[no-untyped-call]
        assert str(info.value) == message
