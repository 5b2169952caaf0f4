"""A user's own mission with its own operations, registered without editing stepfold.

Run it: `.venv/bin/python examples/custom_mission.py`. `make test` type-checks
this file under `mypy --strict`, as a user's integration code would be.
"""

from __future__ import annotations

from stepfold import (
    ExecutionContext,
    OperationError,
    OrchestrationResult,
    Params,
    State,
    StepSpec,
    WorkflowDefinition,
    mission_operations,
    register_mission,
    resume,
    run_mission,
)
from stepfold.operations import number_argument, str_argument


def add_tax(state: State, step: StepSpec) -> State:
    """Pure: `total = net * (1 + rate)`, rounded to cents."""
    net = state.get("net")
    if not isinstance(net, (int, float)) or isinstance(net, bool):
        raise OperationError(f"state.net must be a number, got {net!r}")
    rate = number_argument(step, "rate")
    return state.set("total", round(net * (1 + rate), 2))


def stamp(state: State, step: StepSpec) -> State:
    """Pure: record who approved, from the human step's input."""
    return state.set("approved_by", str_argument(step, "input"))


def build_invoice(params: Params) -> WorkflowDefinition:
    """Two steps: compute the total, then a person approves it."""
    rate = params.get("rate", 0.2)
    return WorkflowDefinition(
        id="invoice",
        steps=[
            StepSpec("invoice-tax", "runtime", {"operation": "invoice.tax", "rate": rate}),
            StepSpec("invoice-approve", "human", {"operation": "invoice.stamp"}),
        ],
    )


def register() -> None:
    """Make `invoice` available to `run_mission` (and to `stepfold run` in this process)."""
    register_mission(
        "invoice", build_invoice, operations={"invoice.tax": add_tax, "invoice.stamp": stamp}, replace=True
    )


def main() -> OrchestrationResult:
    """Register, run until the approval, resume with it, and print the outcome."""
    register()
    first = run_mission("invoice", ExecutionContext(initial_state={"net": 100}), {"rate": 0.25})
    print(first.status, "at", first.pending_step_id)
    # Functions are not data: resuming names the operations again, the mission's included.
    done = resume(first, {"invoice-approve": "ada"}, operations=mission_operations("invoice"))
    print(done.status, done.final_state.to_dict(), done.receipt.head[:16])
    return done


if __name__ == "__main__":
    main()
