"""Effects from Python: a run waiting for its effect, the call a handler is given, an outcome by hand, `drive`.

Run it: `.venv/bin/python examples/effects_in_python.py` (docs/effects.md shows what it prints).
`make test` type-checks this file under `mypy --strict`.
"""

from __future__ import annotations

from stepfold import ExecutionContext, StepSpec, WorkflowDefinition, ok_outcome, resume, run_workflow, thaw, verify
from stepfold.effects import Effect, EffectCall, RetryPolicy, drive, next_call

WORKFLOW = WorkflowDefinition(
    id="weather",
    steps=[
        StepSpec("fetch", "runtime", {"effect": "weather.today", "city": "Lyon", "into": "weather"}),
        StepSpec("note", "runtime", {"operation": "copy", "source": "weather", "target": "noted"}),
    ],
)

calls: list[int] = []
"""The attempts the handler was called for."""


def today(call: EffectCall) -> dict[str, object]:
    """Stands in for a weather API that drops the first connection, as networks do."""
    calls.append(call.attempt)
    if call.attempt == 1:
        raise ConnectionError("connection reset by peer")
    return {"city": call.arguments["city"], "sky": "clear"}


WEATHER = Effect(today, retry=RetryPolicy(max_attempts=3, initial_delay=0.1), timeout=5)


def main() -> None:
    """Run without performing, look at the call, resume by hand, then drive it for real and verify."""
    waiting = run_workflow(WORKFLOW, ExecutionContext())
    print(waiting.status, waiting.pending_step_id, waiting.waiting_for, waiting.pending_effect)
    call = next_call(waiting)
    print("call:", call.effect, thaw(call.arguments), call.key[:16] + "…", "attempt", call.attempt)

    by_hand = resume(waiting, {"fetch": ok_outcome({"city": "Lyon", "sky": "rain"})})
    print("by hand:", by_hand.status, thaw(by_hand.final_state["noted"]))

    driven = drive(WORKFLOW, ExecutionContext(), effects={"weather.today": WEATHER})
    print("driven:", driven.status, thaw(driven.lineage.entries[0].input), "attempts called:", calls)
    print("verify:", verify(driven).ok, "attempts called:", calls)


if __name__ == "__main__":
    main()
