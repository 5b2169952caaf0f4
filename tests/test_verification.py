"""`verify`: an unedited result passes, any single edit to what the receipt covers fails, replay names the step."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stepfold import (
    DEFAULT_OPERATIONS,
    ExecutionContext,
    Mismatch,
    OrchestrationResult,
    Policy,
    State,
    StepSpec,
    WorkflowDefinition,
    run_mission,
    run_workflow,
    verify,
)
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
        live.ok, live.checked_steps, live.first_mismatch, live.reason,
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
    assert str(verdict.first_mismatch) == "step 1 ('daily-generate-priorities')"
    assert verdict.checked_steps == 1
    assert "replay diverges at step 1" in verdict.reason
    assert verdict.replayed is not None and verdict.replayed.final_state.to_dict()["priorities"] == ["t4"]


def test_a_step_state_edit_names_that_step() -> None:
    document = _daily().to_dict()
    document["lineage"]["entries"][1]["changes"]["set"]["priorities"] = ["t1"]  # type: ignore[index]
    verdict = verify(document)
    assert (verdict.ok, verdict.first_mismatch, verdict.checked_steps) == (False, Mismatch(1, "daily-generate-priorities"), 1)
    assert "state does not hash" in verdict.reason


@pytest.mark.parametrize(
    ("edit", "reason"),
    [
        (lambda d: d["receipt"]["links"].pop(), "receipt's head is not its last link"),
        (lambda d: d["receipt"]["links"][0].update(state_digest="0" * 64), "receipt link 0 ('daily-summarise-yesterday') does not hash"),
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
    verdict = verify(result, policy=Policy(max_steps=0))
    assert not verdict.ok and verdict.replayed is None and "replay is impossible" in verdict.reason
