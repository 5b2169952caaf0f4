"""A mission that charges an invoice through a payments API: an effect that is safe to retry because of its key.

Delivery of an effect is at least once: a retry after a lost answer, or a
run started again after the process died, performs the charge again. What
keeps the customer from paying twice is the idempotency key stepfold gives
every effect call (`EffectCall.key`): the same for every attempt and every
re-drive of this position in this run. The handler sends it as the
`Idempotency-Key` header, and the API (examples/payments_api.py, a
stand-in for a real one) answers a key it has seen with its first answer
instead of charging again. docs/effects.md runs all of this::

    python examples/payments_api.py --drop-first 1 --log api.log &
    export PAYMENTS_API=http://127.0.0.1:8080
    stepfold --load examples/payments_mission.py run pay_invoice --state examples/invoice.json

`make test` type-checks this file under `mypy --strict`; tests/test_examples.py runs it.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request

from pyrsistent import PMap, PVector

from stepfold import (
    OperationError,
    Params,
    State,
    StepSpec,
    Value,
    WorkflowDefinition,
    canonical_json,
    register_mission,
)
from stepfold.effects import Effect, EffectCall, RetryPolicy

__all__ = ["PaymentDeclined", "charge", "total_invoice", "mark_paid", "build_pay_invoice", "CHARGE", "PAY_INVOICE"]


class PaymentDeclined(Exception):
    """The API refused the charge (a 4xx answer): asking again would get the same answer, so it is not retried."""


def charge(call: EffectCall) -> object:
    """Effect `payments.charge`: POST the invoice's total to the API, with the call's key as `Idempotency-Key`."""
    body = {"amount": call.state["total"], "currency": call.arguments["currency"], "reference": call.state["invoice"]}
    request = urllib.request.Request(
        os.environ.get("PAYMENTS_API", "http://127.0.0.1:8080") + "/charges",
        data=json.dumps(body).encode("utf-8"),
        method="POST",
        headers={"Content-Type": "application/json", "Idempotency-Key": call.key},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.load(response)
    except urllib.error.HTTPError as error:
        if error.code < 500:
            raise PaymentDeclined(f"{error.code} {error.reason}: {error.read().decode('utf-8', 'replace')}") from None
        raise  # a 5xx is the API's trouble: retried, with the same key


def _shown(value: Value) -> str:
    """A value as canonical JSON: the same text for equal values, whatever order their keys were added in."""
    return canonical_json(value).decode("utf-8")


def total_invoice(state: State, step: StepSpec) -> State:
    """Pure: `total` = the sum of the invoice lines' amounts, rounded to cents."""
    lines = state.get("lines")
    if not isinstance(lines, PVector) or not lines:
        raise OperationError(f"state.lines: expected a non-empty list of {{item, amount}}, got {_shown(lines)}")
    total = 0.0
    for index, line in enumerate(lines):
        amount = line.get("amount") if isinstance(line, PMap) else None
        if isinstance(amount, bool) or not isinstance(amount, (int, float)) or amount <= 0:
            raise OperationError(f"state.lines[{index}].amount: expected a positive number, got {_shown(amount)}")
        total += amount
    return state.set("total", round(total, 2))


def mark_paid(state: State, step: StepSpec) -> State:
    """Pure: `paid = {"charge", "amount"}` from the API's answer the charge step recorded, once it is checked."""
    answer = state.get("charge")
    if not isinstance(answer, PMap) or answer.get("status") != "succeeded" or not isinstance(answer.get("id"), str):
        raise OperationError(f"state.charge: expected a succeeded charge with an id, got {_shown(answer)}")
    if answer.get("amount") != state.get("total"):
        raise OperationError(
            f"state.charge.amount: {_shown(answer.get('amount'))} is not the invoice total {_shown(state.get('total'))}"
        )
    return state.set("paid", {"charge": answer["id"], "amount": answer["amount"]})


def build_pay_invoice(params: Params) -> WorkflowDefinition:
    """Total the invoice, charge it through the payments API, record that it is paid."""
    return WorkflowDefinition(
        id="pay_invoice",
        steps=[
            StepSpec("invoice-total", "runtime", {"operation": "invoice.total"}),
            StepSpec(
                "invoice-charge",
                "runtime",
                {"effect": "payments.charge", "currency": params.get("currency", "EUR"), "into": "charge"},
            ),
            StepSpec("invoice-mark-paid", "runtime", {"operation": "invoice.mark_paid"}),
        ],
    )


CHARGE = Effect(
    charge,
    retry=RetryPolicy(
        max_attempts=4,
        initial_delay=2.0,
        multiplier=2.0,
        retry_on=(ConnectionError, TimeoutError, urllib.error.URLError),
    ),
    timeout=30,
)
"""Up to 4 attempts, 2 s, 4 s and 8 s apart, on a lost connection, a timeout or a 5xx (an `HTTPError` is a
`URLError`); 30 s at most each."""

PAY_INVOICE = register_mission(
    "pay_invoice",
    build_pay_invoice,
    operations={"invoice.total": total_invoice, "invoice.mark_paid": mark_paid},
    effects={"payments.charge": CHARGE},
    replace=True,
)
