"""Tests of the pay_invoice mission (examples/payments_mission.py), whose charge step calls a payments API.

No API is called and nothing is mocked: an effect step's outcome is an input,
like a person's, so a test gives it (`ok_outcome`, `failed_outcome`) or
generates it (`effect_outcomes`). docs/testing.md shows this file and what
`pytest -q -s test_payments.py` prints for it: three tests pass and two
fail, on purpose. It is not part of stepfold's own test suite.
"""

from __future__ import annotations

from hypothesis import strategies as st
from payments_mission import build_pay_invoice, total_invoice  # importing it registers pay_invoice
from pyrsistent import PMap

from stepfold import (
    ExecutionContext,
    Mission,
    OperationError,
    State,
    StepSpec,
    Value,
    failed_outcome,
    freeze,
    mission_operations,
    ok_outcome,
    run_mission,
    verify,
)
from stepfold.testing import check_mission, effect_outcomes, values

INVOICE = {"invoice": "INV-1", "lines": [{"item": "consulting", "amount": 900}, {"item": "travel", "amount": 86.4}]}
ANSWER = {"id": "ch_0001", "status": "succeeded", "amount": 986.4, "currency": "EUR", "reference": "INV-1"}


def test_a_charge_the_api_accepted_marks_the_invoice_paid() -> None:
    outcome = ok_outcome(ANSWER, attempts=2)
    result = run_mission("pay_invoice", ExecutionContext(INVOICE, {"invoice-charge": outcome}))
    assert result.status == "completed"
    assert result.final_state["paid"] == {"charge": "ch_0001", "amount": 986.4}
    assert verify(result, operations=mission_operations("pay_invoice")).ok


def test_a_declined_charge_fails_the_run_and_says_why() -> None:
    outcome = failed_outcome("PaymentDeclined", "402 Payment Required: card expired")
    result = run_mission("pay_invoice", ExecutionContext(INVOICE, {"invoice-charge": outcome}))
    assert (result.status, result.failed_step_id) == ("failed", "invoice-charge")
    assert result.error_message == (
        "step 'invoice-charge' (effect 'payments.charge') failed after 1 attempt: "
        "PaymentDeclined: 402 Payment Required: card expired"
    )


answers: st.SearchStrategy[Value] = st.fixed_dictionaries(
    {
        "id": st.text(min_size=1, max_size=8),
        "status": st.sampled_from(["succeeded", "pending"]),
        "amount": st.sampled_from([986.4, 986]),
        "currency": st.just("EUR"),
        "reference": st.just("INV-1"),
    }
).map(freeze)
"""What the API answers, right or wrong."""


def test_pay_invoice_keeps_the_laws() -> None:
    # Outcomes: the API's answers, anything else at all (an API changes), and failures after retries.
    outcomes = effect_outcomes(st.one_of(answers, values()))
    report = check_mission(
        "pay_invoice", states=st.just(INVOICE), inputs=st.fixed_dictionaries({"invoice-charge": outcomes})
    )
    print(f"{report.subject}: {report.examples} examples, {dict(sorted(report.outcomes.items()))}")
    assert report.outcomes["completed"] > 0 and report.outcomes["failed"] > 0


# Two realistic bugs -----------------------------------------------------------------


def mark_paid_trusting(state: State, step: StepSpec) -> State:
    """Record the charge the API answered (a bug: it trusts the answer to have the shape it had yesterday)."""
    answer = state["charge"]
    assert isinstance(answer, PMap)
    return state.set("paid", {"charge": answer["id"], "amount": answer["amount"]})


TRUSTING = Mission(build_pay_invoice, {"invoice.total": total_invoice, "invoice.mark_paid": mark_paid_trusting})


def test_a_mission_that_trusts_the_api_keeps_the_laws() -> None:
    outcomes = effect_outcomes(st.one_of(answers, values()))
    check_mission(TRUSTING, states=st.just(INVOICE), inputs=st.fixed_dictionaries({"invoice-charge": outcomes}))


def mark_paid_verbose(state: State, step: StepSpec) -> State:
    """Like mark_paid, with the answer in the message (a bug: a mapping's repr follows the order its keys came in)."""
    answer = state.get("charge")
    if not isinstance(answer, PMap) or answer.get("status") != "succeeded":
        raise OperationError(f"state.charge: expected a succeeded charge, got {answer!r}")
    return state.set("paid", {"charge": answer.get("id"), "amount": answer.get("amount")})


VERBOSE = Mission(build_pay_invoice, {"invoice.total": total_invoice, "invoice.mark_paid": mark_paid_verbose})


def test_a_mission_with_the_answer_in_its_message_keeps_the_laws() -> None:
    check_mission(
        VERBOSE, states=st.just(INVOICE), inputs=st.fixed_dictionaries({"invoice-charge": effect_outcomes(answers)})
    )
