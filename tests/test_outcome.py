"""Effect outcomes: the two normative shapes, everything else refused naming the step, the effect and what is wrong."""

from __future__ import annotations

from collections.abc import Mapping

import pytest
from hypothesis import given

from stepfold import (
    EffectOutcome,
    ExecutionContext,
    InvalidValueError,
    State,
    StepSpec,
    WorkflowDefinition,
    check_run,
    failed_outcome,
    freeze,
    ok_outcome,
    read_outcome,
    resume,
    run_workflow,
    thaw,
)
from stepfold.outcome import OUTCOME_SHAPES
from stepfold.testing import effect_outcomes
from stepfold.values import Params, Value

WORKFLOW = WorkflowDefinition(
    id="w",
    steps=[
        StepSpec("prepare", "runtime", {"operation": "set", "key": "x", "value": 1}),
        StepSpec("charge-card", "runtime", {"effect": "payments.charge", "into": "paid"}),
    ],
)
WHERE = "inputs[\"charge-card\"] (effect 'payments.charge')"
SHAPES = '{"ok": true, "value": V, "attempts": n} or {"ok": false, "error": {"type": T, "message": M}, "attempts": n}'


def given_outcome(outcome: object) -> ExecutionContext:
    return ExecutionContext({}, {"charge-card": outcome})


# --- the two shapes --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "outcome",
    [
        {"ok": True, "value": {"id": "ch_1"}, "attempts": 1},
        {"ok": True, "value": None, "attempts": 3},
        {"ok": False, "error": {"type": "ConnectionError", "message": "refused"}, "attempts": 2},
        {"ok": False, "error": {"type": "E", "message": ""}, "attempts": 1},
    ],
    ids=["ok", "ok-null-value", "failed", "failed-empty-message"],
)
def test_the_two_outcome_shapes_are_accepted(outcome: dict[str, object]) -> None:
    check_run(WORKFLOW, given_outcome(outcome))
    result = run_workflow(WORKFLOW, given_outcome(outcome))
    assert result.status == ("completed" if outcome["ok"] else "failed")
    assert thaw(result.lineage.entries[-1].input) == outcome


@given(effect_outcomes())
def test_every_generated_outcome_is_accepted_and_recorded_as_given(outcome: Params) -> None:
    result = run_workflow(WORKFLOW, given_outcome(outcome))
    assert result.lineage.entries[-1].input == outcome
    assert result.status == ("completed" if outcome["ok"] else "failed")
    if outcome["ok"]:
        assert result.final_state == State({"x": 1, "paid": outcome["value"]})


# --- every other shape is refused ------------------------------------------------------------------------------

REFUSED: list[tuple[str, object, str]] = [
    ("not-a-mapping", "ok", "got 'ok'"),
    ("null", None, "got None"),
    ("list", [True, 1], "got [True, 1]"),
    ("empty", {}, '"ok" must be true or false, got None'),
    ("ok-missing", {"value": 1, "attempts": 1}, '"ok" must be true or false, got None'),
    ("ok-int", {"ok": 1, "value": 1, "attempts": 1}, '"ok" must be true or false, got 1'),
    ("ok-string", {"ok": "true", "value": 1, "attempts": 1}, "\"ok\" must be true or false, got 'true'"),
    ("value-missing", {"ok": True, "attempts": 1}, "missing 'value'"),
    ("attempts-missing", {"ok": True, "value": 1}, "missing 'attempts'"),
    ("both-missing", {"ok": True}, "missing 'attempts', 'value'"),
    ("error-missing", {"ok": False, "attempts": 1}, "missing 'error'"),
    ("extra-key", {"ok": True, "value": 1, "attempts": 1, "note": "x"}, "unexpected 'note'"),
    (
        "ok-with-error",
        {"ok": True, "value": 1, "attempts": 1, "error": {"type": "E", "message": "m"}},
        "unexpected 'error'",
    ),
    (
        "failed-with-value",
        {"ok": False, "error": {"type": "E", "message": "m"}, "attempts": 1, "value": 1},
        "unexpected 'value'",
    ),
    ("attempts-zero", {"ok": True, "value": 1, "attempts": 0}, '"attempts" must be an int >= 1, got 0'),
    ("attempts-negative", {"ok": True, "value": 1, "attempts": -2}, '"attempts" must be an int >= 1, got -2'),
    ("attempts-bool", {"ok": True, "value": 1, "attempts": True}, '"attempts" must be an int >= 1, got True'),
    ("attempts-float", {"ok": True, "value": 1, "attempts": 1.0}, '"attempts" must be an int >= 1, got 1.0'),
    ("attempts-string", {"ok": True, "value": 1, "attempts": "1"}, "\"attempts\" must be an int >= 1, got '1'"),
    ("attempts-null", {"ok": True, "value": 1, "attempts": None}, '"attempts" must be an int >= 1, got None'),
    (
        "error-not-a-mapping",
        {"ok": False, "error": "boom", "attempts": 1},
        '"error" must be {"type": T, "message": M}, got \'boom\'',
    ),
    (
        "error-without-type",
        {"ok": False, "error": {"message": "m"}, "attempts": 1},
        '"error" must be {"type": T, "message": M}, got {\'message\': \'m\'}',
    ),
    (
        "error-without-message",
        {"ok": False, "error": {"type": "E"}, "attempts": 1},
        '"error" must be {"type": T, "message": M}, got {\'type\': \'E\'}',
    ),
    (
        "error-extra-key",
        {"ok": False, "error": {"type": "E", "message": "m", "code": 3}, "attempts": 1},
        '"error" must be {"type": T, "message": M}, got',
    ),
    (
        "error-type-empty",
        {"ok": False, "error": {"type": "", "message": "m"}, "attempts": 1},
        "\"error.type\" must be a non-empty string, got ''",
    ),
    (
        "error-type-not-a-string",
        {"ok": False, "error": {"type": 3, "message": "m"}, "attempts": 1},
        '"error.type" must be a non-empty string, got 3',
    ),
    (
        "message-not-a-string",
        {"ok": False, "error": {"type": "E", "message": 3}, "attempts": 1},
        '"error.message" must be a string, got 3',
    ),
    (
        "message-null",
        {"ok": False, "error": {"type": "E", "message": None}, "attempts": 1},
        '"error.message" must be a string, got None',
    ),
]


@pytest.mark.parametrize(("outcome", "problem"), [case[1:] for case in REFUSED], ids=[case[0] for case in REFUSED])
def test_every_other_shape_is_refused_naming_the_step_the_effect_and_what_is_wrong(
    outcome: object, problem: str
) -> None:
    for check in (check_run, run_workflow):
        with pytest.raises(InvalidValueError) as refused:
            check(WORKFLOW, given_outcome(outcome))
        message = str(refused.value)
        assert message.startswith(f"{WHERE}: an effect outcome must be {SHAPES}; ")
        assert problem in message


@pytest.mark.parametrize(
    ("outcome", "message"),
    [
        (
            {"ok": True, "value": 1, "attempts": 0},
            f'{WHERE}: an effect outcome must be {SHAPES}; "attempts" must be an int >= 1, got 0',
        ),
        (
            {"ok": "yes", "value": 1, "attempts": 1},
            f"{WHERE}: an effect outcome must be {SHAPES}; \"ok\" must be true or false, got 'yes'",
        ),
        ({"ok": False, "attempts": 2}, f"{WHERE}: an effect outcome must be {SHAPES}; missing 'error'"),
        (
            {"ok": False, "error": {"type": "", "message": "m"}, "attempts": 1},
            f"{WHERE}: an effect outcome must be {SHAPES}; \"error.type\" must be a non-empty string, got ''",
        ),
        (
            {"ok": True, "value": 1, "attempts": 1, "extra": 1},
            f"{WHERE}: an effect outcome must be {SHAPES}; unexpected 'extra'",
        ),
    ],
    ids=["attempts-zero", "ok-string", "error-missing", "type-empty", "extra"],
)
def test_refusals_have_exact_messages(outcome: object, message: str) -> None:
    with pytest.raises(InvalidValueError) as refused:
        run_workflow(WORKFLOW, given_outcome(outcome))
    assert str(refused.value) == message


def test_the_shapes_quoted_in_messages_are_the_normative_ones() -> None:
    assert OUTCOME_SHAPES == SHAPES


def test_resume_refuses_a_bad_outcome_and_the_run_stays_suspended() -> None:
    waiting = run_workflow(WORKFLOW)
    assert (waiting.waiting_for, waiting.pending_effect) == ("effect", "payments.charge")
    before = waiting.to_dict()
    with pytest.raises(InvalidValueError, match=r'^inputs\["charge-card"\] \(effect \'payments.charge\'\)'):
        resume(waiting, {"charge-card": {"ok": True, "value": 1, "attempts": -1}})
    assert waiting.to_dict() == before
    assert resume(waiting, {"charge-card": ok_outcome(1)}).status == "completed"


def test_a_human_input_is_never_read_as_an_outcome() -> None:
    human = WorkflowDefinition(id="h", steps=[StepSpec("approve", "human")])
    result = run_workflow(human, ExecutionContext({}, {"approve": {"ok": "not an outcome"}}))
    assert result.final_state == State({"approve": {"ok": "not an outcome"}})


# --- building outcomes -----------------------------------------------------------------------------------------


def test_ok_outcome_builds_exactly_the_normative_dict() -> None:
    assert thaw(ok_outcome({"id": "ch_1", "items": [1, 2]})) == {
        "ok": True,
        "value": {"id": "ch_1", "items": [1, 2]},
        "attempts": 1,
    }
    assert thaw(ok_outcome(None, attempts=3)) == {"ok": True, "value": None, "attempts": 3}
    assert ok_outcome([1]) == freeze({"ok": True, "value": [1], "attempts": 1})


def test_failed_outcome_builds_exactly_the_normative_dict() -> None:
    assert thaw(failed_outcome("TimeoutError", "took 30 s", attempts=4)) == {
        "ok": False,
        "error": {"type": "TimeoutError", "message": "took 30 s"},
        "attempts": 4,
    }
    assert thaw(failed_outcome("E", "")) == {"ok": False, "error": {"type": "E", "message": ""}, "attempts": 1}


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: ok_outcome(1, attempts=0), "attempts: expected an int >= 1, got 0"),
        (lambda: ok_outcome(1, attempts=True), "attempts: expected an int >= 1, got True"),
        (lambda: ok_outcome(1, attempts=1.0), "attempts: expected an int >= 1, got 1.0"),  # type: ignore[arg-type]
        (lambda: ok_outcome({1, 2}), "value: a set is not allowed (use a list)"),
        (
            lambda: failed_outcome("", "m"),
            "error type: expected a non-empty string (e.g. 'TimeoutError'), got ''",
        ),
        (
            lambda: failed_outcome(None, "m"),  # type: ignore[arg-type]
            "error type: expected a non-empty string (e.g. 'TimeoutError'), got None",
        ),
        (lambda: failed_outcome("E", 3), "error message: expected a string, got 3"),  # type: ignore[arg-type]
        (lambda: failed_outcome("E", "m", attempts=-1), "attempts: expected an int >= 1, got -1"),
    ],
    ids=[
        "attempts-zero",
        "attempts-bool",
        "attempts-float",
        "value-outside-domain",
        "type-empty",
        "type-none",
        "message-not-a-string",
        "failed-attempts-negative",
    ],
)
def test_building_an_outcome_refuses_what_no_outcome_can_hold(build: object, message: str) -> None:
    assert callable(build)
    with pytest.raises(InvalidValueError) as refused:
        build()
    assert str(refused.value) == message


# --- reading outcomes ------------------------------------------------------------------------------------------


def rebuilt(outcome: EffectOutcome) -> Params:
    if outcome.ok:
        return ok_outcome(outcome.value, attempts=outcome.attempts)
    assert outcome.error_type is not None and outcome.error_message is not None
    return failed_outcome(outcome.error_type, outcome.error_message, attempts=outcome.attempts)


@given(effect_outcomes(max_attempts=5))
def test_read_outcome_round_trips(outcome: Params) -> None:
    read = read_outcome(outcome, "here")
    assert rebuilt(read) == outcome
    assert read.ok is outcome["ok"] and read.attempts == outcome["attempts"]
    if read.ok:
        assert read.value == outcome["value"] and read.error_type is None and read.error_message is None
    else:
        error = outcome["error"]
        assert isinstance(error, Mapping)
        assert (read.value, read.error_type, read.error_message) == (None, error["type"], error["message"])


def test_read_outcome_reads_each_shape() -> None:
    assert read_outcome(ok_outcome([1], attempts=2), "x") == EffectOutcome(True, freeze([1]), None, None, 2)
    assert read_outcome(failed_outcome("OSError", "gone"), "x") == EffectOutcome(False, None, "OSError", "gone", 1)


def test_read_outcome_names_where_and_what_is_wrong() -> None:
    bad: Value = freeze({"ok": True, "attempts": 1})
    with pytest.raises(InvalidValueError) as refused:
        read_outcome(bad, "inputs.fetch (effect 'http.get')")
    assert (
        str(refused.value) == f"inputs.fetch (effect 'http.get'): an effect outcome must be {SHAPES}; missing 'value'"
    )


@pytest.mark.parametrize(
    ("outcome", "described"),
    [
        (EffectOutcome(True, 1, None, None, 1), "ok after 1 attempt"),
        (EffectOutcome(True, None, None, None, 2), "ok after 2 attempts"),
        (EffectOutcome(False, None, "TimeoutError", "took 30 s", 1), "failed after 1 attempt: TimeoutError: took 30 s"),
        (
            EffectOutcome(False, None, "ConnectionError", "refused", 3),
            "failed after 3 attempts: ConnectionError: refused",
        ),
    ],
    ids=["ok-1", "ok-2", "failed-1", "failed-3"],
)
def test_describe_says_what_happened_for_people(outcome: EffectOutcome, described: str) -> None:
    assert outcome.describe() == described


def test_an_outcome_value_outside_the_domain_is_refused_at_value() -> None:
    with pytest.raises(InvalidValueError) as info:
        ok_outcome(object())
    assert str(info.value) == (
        "value: an object of type builtins.object is not allowed "
        "(only None, bool, int, float, str, lists and string-keyed mappings)"
    )


def test_an_outcome_with_extra_keys_names_each() -> None:
    with pytest.raises(InvalidValueError) as info:
        read_outcome(freeze({"ok": True, "value": 1, "attempts": 1, "x": 1, "y": 2}), "inputs.s")
    assert str(info.value).endswith("; unexpected 'x', 'y'")


def test_read_outcome_of_plain_data_freezes_it_first_holding_its_value_to_the_domain() -> None:
    """A caller's dict (not a recorded, frozen outcome) is read as its frozen form: no assert, also under -O."""
    assert read_outcome({"ok": True, "value": [1], "attempts": 1}, "w") == EffectOutcome(  # type: ignore[arg-type]
        True, freeze([1]), None, None, 1
    )
    with pytest.raises(InvalidValueError, match=r"^w\.value: nan is not allowed \(only finite numbers\)$"):
        read_outcome({"ok": True, "value": float("nan"), "attempts": 1}, "w")  # type: ignore[arg-type]
