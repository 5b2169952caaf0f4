"""`stepfold.failure`: the message a failed step gives is the one the fold wrote, as far as the record binds it."""

from __future__ import annotations

from hypothesis import given, reject

from stepfold import ExecutionContext, Policy, StepSpec, WorkflowDefinition, run_workflow
from stepfold.errors import InvalidInputError
from stepfold.failure import expected_failure
from stepfold.outcome import failed_outcome
from stepfold.testing.strategies import runs

WIDE = Policy(max_steps=10, max_human_steps=4, allowed_kinds={"runtime", "human", "effect"})


@given(runs(WIDE))
def test_the_expected_failure_is_the_message_the_fold_writes(run: tuple[WorkflowDefinition, ExecutionContext]) -> None:
    workflow, context = run
    try:
        result = run_workflow(workflow, context, policy=WIDE)
    except InvalidInputError:  # a person's input the step refuses: no run
        reject()
    if result.status != "failed":
        assert result.error_message is None
        return
    last = result.lineage.entries[-1]
    expected, whole = expected_failure(workflow.steps[len(result.lineage.entries) - 1], last.input)
    assert result.error_message is not None
    assert result.error_message == expected if whole else result.error_message.startswith(expected)


def test_a_failed_effect_message_follows_whole_from_its_outcome() -> None:
    step = StepSpec("call", "effect", {"effect": "api.call"})
    given_outcome = failed_outcome("TimeoutError", "took too long", attempts=3)
    assert expected_failure(step, given_outcome) == (
        "step 'call' (effect 'api.call') failed after 3 attempts: TimeoutError: took too long",
        True,
    )
    assert expected_failure(StepSpec("x", "runtime", {"operation": "fail"}), None) == (
        "step 'x' (operation 'fail') failed: ",
        False,
    )
