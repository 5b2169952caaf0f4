"""`Policy` and `check_workflow`: the limits checked before anything runs, in a fixed order."""

from __future__ import annotations

import pytest

from stepfold import (
    DEFAULT_OPERATIONS,
    TIER2_POLICY,
    AntiFailureViolation,
    EnvelopeViolation,
    InvalidValueError,
    Policy,
    StepSpec,
    WorkflowDefinition,
)
from stepfold.policy import check_workflow


def _steps(count: int, kind: str = "runtime") -> list[StepSpec]:
    prefix = "h" if kind == "human" else "s"
    return [StepSpec(f"{prefix}{i}", kind, {"operation": "noop"} if kind != "human" else {}) for i in range(count)]


def test_tier2_is_the_documented_default() -> None:
    assert TIER2_POLICY == Policy() == Policy(max_steps=5, max_human_steps=2, allowed_kinds={"runtime", "human"})


def test_limits_are_inclusive() -> None:
    check_workflow(WorkflowDefinition(id="w", steps=_steps(3) + _steps(2, "human")), TIER2_POLICY, DEFAULT_OPERATIONS)
    with pytest.raises(AntiFailureViolation, match="has 6 steps; the policy allows at most 5"):
        check_workflow(WorkflowDefinition(id="w", steps=_steps(6)), TIER2_POLICY, DEFAULT_OPERATIONS)
    with pytest.raises(
        AntiFailureViolation, match=r"has 3 human steps \['h0', 'h1', 'h2'\]; the policy allows at most 2"
    ):
        check_workflow(WorkflowDefinition(id="w", steps=_steps(3, "human")), TIER2_POLICY, DEFAULT_OPERATIONS)


def test_unknown_kind_and_operation_name_what_is_allowed() -> None:
    with pytest.raises(
        EnvelopeViolation,
        match=r"step 'x' \(steps\[0\]\): kind 'batch' is not allowed by the policy; allowed kinds: \['human', 'runtime'\]",
    ):
        check_workflow(
            WorkflowDefinition(id="w", steps=[StepSpec("x", "batch", {"operation": "noop"})]),
            TIER2_POLICY,
            DEFAULT_OPERATIONS,
        )
    with pytest.raises(EnvelopeViolation, match=r"unknown operation 'sett'; known operations: \[.*'set'"):
        check_workflow(
            WorkflowDefinition(id="w", steps=[StepSpec("x", "runtime", {"operation": "sett"})]),
            TIER2_POLICY,
            DEFAULT_OPERATIONS,
        )
    with pytest.raises(EnvelopeViolation, match=r"must name its operation"):
        check_workflow(WorkflowDefinition(id="w", steps=[StepSpec("x", "runtime")]), TIER2_POLICY, DEFAULT_OPERATIONS)


def test_kinds_are_checked_before_counts() -> None:
    steps = _steps(6) + [StepSpec("odd", "robot", {"operation": "noop"})]
    with pytest.raises(EnvelopeViolation):
        check_workflow(WorkflowDefinition(id="w", steps=steps), TIER2_POLICY, DEFAULT_OPERATIONS)


def test_policy_refuses_bad_limits() -> None:
    with pytest.raises(InvalidValueError, match=r"policy.max_steps: expected a non-negative int, got -1"):
        Policy(max_steps=-1)
    with pytest.raises(InvalidValueError, match=r"policy.max_human_steps"):
        Policy(max_human_steps=True)
    with pytest.raises(InvalidValueError, match=r"policy.allowed_kinds"):
        Policy(allowed_kinds="runtime")


def test_check_workflow_messages_are_exact() -> None:
    with pytest.raises(EnvelopeViolation) as info:
        check_workflow(WorkflowDefinition(id="w", steps=[StepSpec("x", "runtime")]), TIER2_POLICY, DEFAULT_OPERATIONS)
    assert (
        str(info.value)
        == "workflow 'w' step 'x' (steps[0]): a runtime step must name its operation in payload['operation'] (or an effect in payload['effect'])"
    )
    with pytest.raises(EnvelopeViolation) as info:
        check_workflow(
            WorkflowDefinition(id="w", steps=[StepSpec("x", "runtime", {"operation": "zz"})]),
            TIER2_POLICY,
            {"b": 1, "a": 2},
        )
    assert str(info.value) == "workflow 'w' step 'x' (steps[0]): unknown operation 'zz'; known operations: ['a', 'b']"


def test_check_workflow_without_an_operation_table_checks_only_that_steps_name_one() -> None:
    workflow = WorkflowDefinition(id="w", steps=[StepSpec("x", "runtime", {"operation": "anything"})])
    check_workflow(workflow, TIER2_POLICY, None)
    with pytest.raises(EnvelopeViolation, match="must name its operation"):
        check_workflow(WorkflowDefinition(id="w", steps=[StepSpec("x", "runtime")]), TIER2_POLICY, None)


@pytest.mark.parametrize(
    ("kinds", "message"),
    [
        (3, "policy.allowed_kinds: expected a collection of kind names, got int"),
        (b"runtime", "policy.allowed_kinds: expected a collection of kind names, got bytes"),
        (["runtime", 1], "policy.allowed_kinds: kinds are strings, got 1"),
    ],
)
def test_policy_refuses_allowed_kinds_that_are_not_kind_names(kinds: object, message: str) -> None:
    with pytest.raises(InvalidValueError) as info:
        Policy(allowed_kinds=kinds)
    assert str(info.value) == message
