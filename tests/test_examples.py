"""The payments example keeps its promise: a lost answer is retried with the same key, and the customer pays once.

docs/effects.md runs the same example end to end through the command line
(tests/test_docs.py checks that page); these tests drive it from Python,
against the stand-in API in a thread, without waiting out the backoff.
"""

from __future__ import annotations

import http.server
import runpy
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from stepfold import (
    ExecutionContext,
    MissionSpec,
    build_workflow,
    mission_operations,
    read_outcome,
    run_mission,
    verify,
)
from stepfold.effects import drive, mission_effects, next_call

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
INVOICE = {"invoice": "INV-7", "lines": [{"item": "a day", "amount": 900}, {"item": "travel", "amount": 86.4}]}


@pytest.fixture
def api(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, registry_restored: None) -> Iterator[Callable[[int], Any]]:
    """Start the stand-in API (losing its first N answers) in a thread, PAYMENTS_API pointing at it."""
    namespace = runpy.run_path(str(EXAMPLES / "payments_api.py"))
    runpy.run_path(str(EXAMPLES / "payments_mission.py"))
    servers: list[http.server.ThreadingHTTPServer] = []

    def start(drop_first: int) -> Any:
        state = namespace["PaymentsAPI"](drop_first, tmp_path / "api.log")
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), namespace["_handler"](state))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        monkeypatch.setenv("PAYMENTS_API", f"http://127.0.0.1:{server.server_address[1]}")
        return state

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def _drive(context: ExecutionContext) -> Any:
    workflow = build_workflow(MissionSpec("pay_invoice"))
    return drive(
        workflow,
        context,
        effects=mission_effects("pay_invoice"),
        operations=mission_operations("pay_invoice"),
        sleep=lambda seconds: None,
    )


def test_a_lost_answer_is_retried_with_the_same_key_and_charged_once(api: Callable[[int], Any]) -> None:
    server = api(1)
    result = _drive(ExecutionContext(INVOICE))
    assert result.status == "completed", result.error_message
    charge = read_outcome(result.context.inputs["invoice-charge"], "outcome")
    assert (charge.ok, charge.attempts) == (True, 2)
    assert list(server.answers) == [next_call(_waiting()).key]
    assert result.final_state["paid"] == {"charge": "ch_0001", "amount": 986.4}
    assert verify(result, operations=mission_operations("pay_invoice")).ok


def _waiting() -> Any:
    """The run as it waits for its charge."""
    waiting = run_mission("pay_invoice", ExecutionContext(INVOICE))
    assert waiting.waiting_for == "effect"
    return waiting


def test_a_key_the_api_saw_with_another_body_is_declined_and_not_retried(api: Callable[[int], Any]) -> None:
    server = api(0)
    key = next_call(_waiting()).key
    server.answers[key] = ({"amount": 1, "currency": "EUR", "reference": "INV-7"}, {"id": "ch_0001"})
    result = _drive(ExecutionContext(INVOICE))
    outcome = read_outcome(result.context.inputs["invoice-charge"], "outcome")
    assert (result.status, outcome.ok, outcome.attempts, outcome.error_type) == ("failed", False, 1, "PaymentDeclined")
    assert outcome.error_message is not None and outcome.error_message.startswith("422 ")
