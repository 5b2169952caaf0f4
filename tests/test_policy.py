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
    with pytest.raises(InvalidValueError, match=r"policy.max_steps: expected an int from 0 to 2\*\*53 - 1, got -1"):
        Policy(max_steps=-1)
    with pytest.raises(InvalidValueError, match=r"policy.max_human_steps"):
        Policy(max_human_steps=True)
    with pytest.raises(
        InvalidValueError, match=r"policy.max_steps: expected an int from 0 to 2\*\*53 - 1, got <int of 333 bits>"
    ):
        Policy(max_steps=10**100)  # its document could not be read back (I-JSON)
    assert Policy(max_steps=2**53 - 1).max_steps == 2**53 - 1
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
        (["runtime", 1], "policy.allowed_kinds[1]: kinds are strings, got 1"),
        (
            ["runtime", "\ud800"],
            "policy.allowed_kinds[1]: string contains a lone surrogate '\\ud800' at index 0, which is not valid Unicode",
        ),
    ],
)
def test_policy_refuses_allowed_kinds_that_are_not_kind_names(kinds: object, message: str) -> None:
    with pytest.raises(InvalidValueError) as info:
        Policy(allowed_kinds=kinds)
    assert str(info.value) == message


@pytest.mark.parametrize(
    ("effects", "message"),
    [
        ("tests.run", "policy.allowed_effects: expected None (any effect) or a collection of effect names, got str"),
        (b"x", "policy.allowed_effects: expected None (any effect) or a collection of effect names, got bytes"),
        (7, "policy.allowed_effects: expected None (any effect) or a collection of effect names, got int"),
        (["tests.run", ""], "policy.allowed_effects[1]: effect names are non-empty strings, got ''"),
        (["tests.run", 3], "policy.allowed_effects[1]: effect names are non-empty strings, got 3"),
    ],
)
def test_policy_refuses_allowed_effects_that_are_not_effect_names(effects: object, message: str) -> None:
    with pytest.raises(InvalidValueError) as info:
        Policy(allowed_effects=effects)
    assert str(info.value) == message


def test_allowed_effects_are_a_frozenset_or_none() -> None:
    assert Policy().allowed_effects is None
    assert Policy(allowed_effects=["b", "a", "b"]).allowed_effects == frozenset({"a", "b"})
    assert Policy(allowed_effects=()).allowed_effects == frozenset()


def test_describe_says_every_limit_in_words() -> None:
    assert TIER2_POLICY.describe() == "at most 5 steps and 2 human steps; kinds human, runtime; any effect"
    one = Policy(max_steps=1, max_human_steps=1, allowed_kinds=["runtime"], allowed_effects=["b", "a"])
    assert one.describe() == "at most 1 step and 1 human step; kinds runtime; effects a, b"
    assert Policy(allowed_effects=[]).describe().endswith("; effects none")


def test_to_dict_is_the_documented_document() -> None:
    assert TIER2_POLICY.to_dict() == {
        "allowed_effects": None,
        "allowed_kinds": ["human", "runtime"],
        "max_human_steps": 2,
        "max_steps": 5,
    }
    assert Policy(allowed_effects=["b", "a"]).to_dict()["allowed_effects"] == ["a", "b"]


@pytest.mark.parametrize(
    "policy",
    [
        TIER2_POLICY,
        Policy(max_steps=0, max_human_steps=0, allowed_kinds=[], allowed_effects=[]),
        Policy(9, 3, ["runtime"], ["x", "y"]),
    ],
)
def test_from_dict_of_to_dict_is_the_same_policy(policy: Policy) -> None:
    again = Policy.from_dict(policy.to_dict())
    assert again == policy and again.digest == policy.digest


def _document(**changes: object) -> dict[str, object]:
    return {**TIER2_POLICY.to_dict(), **changes}


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (
            [1],
            "policy: expected an object with exactly the keys "
            "['allowed_effects', 'allowed_kinds', 'max_human_steps', 'max_steps'], got list",
        ),
        (
            {"max_steps": 5},
            "policy: expected an object with exactly the keys "
            "['allowed_effects', 'allowed_kinds', 'max_human_steps', 'max_steps'], got [\"'max_steps'\"]",
        ),
        (
            {**_document(), "extra": 1},
            "policy: expected an object with exactly the keys ['allowed_effects', 'allowed_kinds', 'max_human_steps', "
            "'max_steps'], got [\"'allowed_effects'\", \"'allowed_kinds'\", \"'extra'\", \"'max_human_steps'\", "
            "\"'max_steps'\"]",
        ),
        (_document(max_steps="5"), "policy.max_steps: expected an int from 0 to 2**53 - 1, got '5'"),
        (_document(max_human_steps=-1), "policy.max_human_steps: expected an int from 0 to 2**53 - 1, got -1"),
        (_document(allowed_kinds="runtime"), "policy.allowed_kinds: expected a list of names, got 'runtime'"),
        (_document(allowed_kinds={"runtime": 1}), "policy.allowed_kinds: expected a list of names, got {'runtime': 1}"),
        (_document(allowed_kinds=["runtime", 2]), "policy.allowed_kinds: expected a list of names, got ['runtime', 2]"),
        (
            _document(allowed_kinds=["runtime", "human"]),
            "policy.allowed_kinds: names must be sorted and unique, got ['runtime', 'human']",
        ),
        (
            _document(allowed_kinds=["human", "human"]),
            "policy.allowed_kinds: names must be sorted and unique, got ['human', 'human']",
        ),
        (_document(allowed_effects="x"), "policy.allowed_effects: expected a list of names, got 'x'"),
        (
            _document(allowed_effects=["b", "a"]),
            "policy.allowed_effects: names must be sorted and unique, got ['b', 'a']",
        ),
    ],
)
def test_from_dict_refuses_a_document_naming_what_is_wrong(document: object, message: str) -> None:
    with pytest.raises(InvalidValueError) as info:
        Policy.from_dict(document)
    assert str(info.value) == message


def test_from_dict_reads_each_field_into_its_own_place() -> None:
    policy = Policy.from_dict(
        {"allowed_effects": ["e"], "allowed_kinds": ["runtime"], "max_human_steps": 1, "max_steps": 3}
    )
    assert (policy.max_steps, policy.max_human_steps, policy.allowed_kinds, policy.allowed_effects) == (
        3,
        1,
        frozenset({"runtime"}),
        frozenset({"e"}),
    )
