"""Law checks for the invoice mission's operations and builder, and four realistic bugs they catch.

docs/testing.md shows this file and what `pytest -q -s test_invoice.py` prints for it: four tests
pass and four fail, on purpose. It is not part of stepfold's own test suite.
"""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st
from pyrsistent import PVector

from stepfold import (
    DEFAULT_OPERATIONS,
    ExecutionContext,
    Mission,
    OperationError,
    Params,
    State,
    StepSpec,
    WorkflowDefinition,
    freeze,
    run_workflow,
    verify,
)
from stepfold.operations import number_argument, str_argument
from stepfold.testing import HUMAN_OPERATIONS, check_mission, check_operation, runs, states


def add_tax(state: State, step: StepSpec) -> State:
    """`total = net * (1 + rate)`, rounded to cents."""
    net = state.get("net")
    if not isinstance(net, (int, float)) or isinstance(net, bool):
        raise OperationError(f"state.net must be a number, got {net!r}")
    return state.set("total", round(net * (1 + number_argument(step, "rate")), 2))


def stamp(state: State, step: StepSpec) -> State:
    """Record who approved, from the human step's input."""
    return state.set("approved_by", str_argument(step, "input"))


def build_invoice(params: Params) -> WorkflowDefinition:
    """Compute the total, then a person approves it."""
    return WorkflowDefinition(
        id="invoice",
        steps=[
            StepSpec("invoice-tax", "runtime", {"operation": "invoice.tax", "rate": params.get("rate", 0.2)}),
            StepSpec("invoice-approve", "human", {"operation": "invoice.stamp"}),
        ],
    )


INVOICE = Mission(build_invoice, {"invoice.tax": add_tax, "invoice.stamp": stamp})

rates = st.fixed_dictionaries({"rate": st.floats(0, 1)})
nets = st.fixed_dictionaries({"net": st.integers(0, 10**9)})
approvers = st.text(min_size=1, max_size=8)


def test_add_tax_keeps_the_laws() -> None:
    report = check_operation(add_tax, rates, st.one_of(nets, states()), writes={"total"})
    assert report.outcomes["returned"] > 0  # the strategies reach the success path, not only refusals


def test_stamp_keeps_the_laws() -> None:
    inputs = st.fixed_dictionaries({"input": approvers})
    check_operation(stamp, inputs, writes={"approved_by"}, kind="human")


def test_the_invoice_mission_keeps_the_laws() -> None:
    report = check_mission(INVOICE, rates, nets, st.fixed_dictionaries({"invoice-approve": approvers}))
    print(f"{report.subject}: {report.examples} examples, {dict(sorted(report.outcomes.items()))}")


TABLE = DEFAULT_OPERATIONS + INVOICE.operations


@settings(deadline=None)  # a run and its replay take longer than hypothesis's default 200 ms on a busy machine
@given(
    runs(
        operations=TABLE,
        payloads={"invoice.tax": rates},  # the arguments your operations take
        human_operations=HUMAN_OPERATIONS | {"invoice.stamp"},  # operations that read a person's input
    )
)
def test_any_workflow_mixing_invoice_steps_verifies(run: tuple[WorkflowDefinition, ExecutionContext]) -> None:
    workflow, ctx = run
    result = run_workflow(workflow, ctx, operations=TABLE)
    assert verify(result.to_dict(), operations=TABLE).ok


# Four realistic bugs --------------------------------------------------------------


def apply_discount(state: State, step: StepSpec) -> State:
    """Take `discount` off the total."""
    total = state["total"]  # a bug: KeyError on a state without a total
    if not isinstance(total, (int, float)) or isinstance(total, bool):
        raise OperationError(f"state.total must be a number, got {total!r}")
    return state.set("total", total - number_argument(step, "discount"))


def test_apply_discount_keeps_the_laws() -> None:
    discounts = st.fixed_dictionaries({"discount": st.integers(0, 100)})
    check_operation(apply_discount, discounts, writes={"total"})


_numbers = itertools.count(1)


def number_invoice(state: State, step: StepSpec) -> State:
    """Give the invoice the next number (from a module-level counter: a bug)."""
    return state.set("number", next(_numbers))


def test_number_invoice_keeps_the_laws() -> None:
    check_operation(number_invoice, writes={"number"})


def build_itemised(params: Params) -> WorkflowDefinition:
    """One step per line item (a bug: the step count grows with the params)."""
    items = params.get("items")
    count = len(items) if isinstance(items, PVector) else 0
    steps = [StepSpec(f"item-{index}", "runtime", {"operation": "noop"}) for index in range(count)]
    return WorkflowDefinition(id="itemised", steps=steps)


def test_itemised_keeps_the_laws() -> None:
    items = st.fixed_dictionaries({"items": st.lists(st.text(max_size=3), max_size=8)})
    check_mission(build_itemised, items)


_held: dict[str, object] = {}


def hold_total(state: State, step: StepSpec) -> State:
    """Remember the total for the charge step (in a module-level dict: a bug)."""
    _held["total"] = state.get("total")
    return state


def charge_held_total(state: State, step: StepSpec) -> State:
    """Charge what hold_total remembered."""
    return state.set("charged", freeze(_held.get("total")))


def build_charge(params: Params) -> WorkflowDefinition:
    """Hold the total, wait for approval, charge it."""
    return WorkflowDefinition(
        id="charge",
        steps=[
            StepSpec("charge-hold", "runtime", {"operation": "charge.hold"}),
            StepSpec("charge-approve", "human", {}),
            StepSpec("charge-take", "runtime", {"operation": "charge.take"}),
        ],
    )


CHARGE = Mission(build_charge, {"charge.hold": hold_total, "charge.take": charge_held_total})


def test_charge_keeps_the_laws() -> None:
    totals = st.fixed_dictionaries({"total": st.integers(0, 10**6)})
    check_mission(CHARGE, states=totals, inputs={"charge-approve": True})
