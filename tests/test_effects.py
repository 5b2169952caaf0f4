"""Effects: the shell performs them (`drive`, retries, timeouts, keys, stores); the core only records their outcomes.

Laws: a run driven with deterministic handlers is the run given their
outcomes up front; verifying or replaying a run never performs an effect; a
handler's failure is a failed outcome, never an exception out of `drive`;
the idempotency key is fixed by the run position; the core imports no I/O.
"""

from __future__ import annotations

import ast
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

import stepfold
from stepfold import (
    DEFAULT_OPERATIONS,
    MISSION_REGISTRY,
    AlreadyResumedError,
    EnvelopeViolation,
    ExecutionContext,
    Mission,
    OrchestrationResult,
    Policy,
    SQLiteStore,
    State,
    StepSpec,
    WorkflowDefinition,
    failed_outcome,
    fork,
    ok_outcome,
    register_mission,
    replay,
    resume,
    run_workflow,
    thaw,
    verify,
)
from stepfold.effect import effect_arguments
from stepfold.effects import Effect, EffectCall, RetryPolicy, drive, drive_mission, effect_key, effects_for
from stepfold.operations import Operation
from stepfold.testing import effect_outcomes
from stepfold.values import Params
from stepfold.workflow import HUMAN
from tests.strategies import ops_steps, plain_states, plain_values

Handler = Callable[[EffectCall], object]


class Recorder:
    """A handler that records every call it gets, then answers with `answer(call)`."""

    def __init__(self, answer: Handler | None = None) -> None:
        self.calls: list[EffectCall] = []
        self.answer: Handler = answer if answer is not None else (lambda call: {"done": call.step_id})

    def __call__(self, call: EffectCall) -> object:
        self.calls.append(call)
        return self.answer(call)

    @property
    def attempts(self) -> list[int]:
        return [call.attempt for call in self.calls]

    @property
    def keys(self) -> list[str]:
        return [call.key for call in self.calls]


class Sleeps:
    """An injected `sleep` that records the delays instead of waiting."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


def always_raise(error: BaseException) -> Handler:
    def handler(call: EffectCall) -> object:
        raise error

    return handler


def refuse(call: EffectCall) -> object:
    raise ConnectionError(f"attempt {call.attempt} refused")


def effect_step(step_id: str, effect: str, **payload: object) -> StepSpec:
    return StepSpec(step_id, "runtime", {"effect": effect, **payload})


def set_step(step_id: str, key: str, value: object) -> StepSpec:
    return StepSpec(step_id, "runtime", {"operation": "set", "key": key, "value": value})


def outcome_of(result: OrchestrationResult, step_id: str) -> object:
    """The outcome recorded for an effect step, as plain data."""
    return thaw(result.context.inputs[step_id])


# --- drive is the fold given the outcomes up front ---------------------------------------------------------------

EFFECT_NAMES = ("fx.a", "fx.b")


def answer_of(call: EffectCall) -> object:
    """A deterministic handler's value: everything the call carries, so any difference in the call shows."""
    return {
        "arguments": thaw(call.arguments),
        "attempt": call.attempt,
        "effect": call.effect,
        "key": call.key,
        "state": call.state.to_dict(),
        "step": call.step_id,
        "workflow": call.workflow_id,
    }


def flaky(call: EffectCall) -> object:
    """Fails the first `arguments.fail` attempts with ConnectionError, then answers `answer_of(call)`."""
    fail = call.arguments["fail"]
    assert isinstance(fail, int)
    if call.attempt <= fail:
        raise ConnectionError(f"{call.step_id} attempt {call.attempt} refused")
    return answer_of(call)


def expected_outcome(call: EffectCall, retry: RetryPolicy) -> Params:
    """The outcome `flaky` gives for `call` under `retry`, worked out without performing anything."""
    fail = call.arguments["fail"]
    assert isinstance(fail, int)
    if fail >= retry.max_attempts:
        last = retry.max_attempts
        return failed_outcome("ConnectionError", f"{call.step_id} attempt {last} refused", attempts=last)
    return ok_outcome(answer_of(attrs.evolve(call, attempt=fail + 1)), attempts=fail + 1)


def outcomes_up_front(
    workflow: WorkflowDefinition, ctx: ExecutionContext, retries: Mapping[str, RetryPolicy]
) -> ExecutionContext:
    """The context with the outcome of every effect step the run reaches, each worked out from a fresh pure run."""
    inputs = dict(ctx.inputs)
    while True:
        run = run_workflow(workflow, ExecutionContext(ctx.initial_state, inputs, ctx.metadata))
        step = run.pending_step
        if step is None or step.effect is None:
            return ExecutionContext(ctx.initial_state, inputs, ctx.metadata)
        call = EffectCall(
            workflow.id,
            step.id,
            step.effect,
            effect_arguments(step.payload),
            run.final_state,
            effect_key(run.receipt.head, step.id),
        )
        inputs[step.id] = expected_outcome(call, retries[step.effect])


@st.composite
def effect_runs(draw: st.DrawFn) -> tuple[WorkflowDefinition, ExecutionContext]:
    """Workflows of runtime, effect and human steps, with a context giving some human inputs and some outcomes."""
    steps: list[StepSpec] = []
    inputs: dict[str, object] = {}
    humans = 0
    for index in range(draw(st.integers(0, 5))):
        kind = draw(st.sampled_from(["effect", "effect", "runtime", "human"] if humans < 2 else ["effect", "runtime"]))
        step_id = f"s{index}"
        if kind == "runtime":
            steps.append(draw(ops_steps(index)))
            continue
        payload: dict[str, object] = dict(
            draw(st.fixed_dictionaries({}, optional={"into": st.sampled_from(["a", "b", "out"])}))
        )
        if kind == "human":
            humans += 1
            steps.append(StepSpec(step_id, HUMAN, payload))
            if draw(st.booleans()):
                inputs[step_id] = draw(plain_values)
            continue
        payload.update(effect=draw(st.sampled_from(EFFECT_NAMES)), fail=draw(st.integers(0, 3)), n=index)
        operation = draw(st.sampled_from([None, "record", "noop", "set"]))
        if operation == "set":
            payload.update(operation="set", key="a", value=index)
        elif operation is not None:
            payload["operation"] = operation
        steps.append(StepSpec(step_id, "runtime", payload))
        if draw(st.integers(0, 4)) == 0:  # now and then an outcome recorded already: drive must not perform it
            inputs[step_id] = draw(effect_outcomes(st.integers(0, 9)))
    workflow = WorkflowDefinition(id=draw(st.sampled_from(["w", "flow"])), steps=steps)
    return workflow, ExecutionContext(State(draw(plain_states)), inputs)


@given(effect_runs(), st.integers(1, 3), st.integers(1, 3))
def test_effect_outcome_upfront_equals_drive(
    run: tuple[WorkflowDefinition, ExecutionContext], attempts_a: int, attempts_b: int
) -> None:
    workflow, ctx = run
    retries = {
        "fx.a": RetryPolicy(max_attempts=attempts_a, initial_delay=0.25),
        "fx.b": RetryPolicy(max_attempts=attempts_b, initial_delay=1.0, multiplier=3.0),
    }
    handlers = {name: Recorder(flaky) for name in EFFECT_NAMES}
    effects = {name: Effect(handlers[name], retry=retries[name]) for name in EFFECT_NAMES}
    driven = drive(workflow, ctx, effects=effects, sleep=Sleeps())
    up_front = run_workflow(workflow, outcomes_up_front(workflow, ctx, retries))
    assert driven.to_dict() == up_front.to_dict()
    performed = {call.step_id for handler in handlers.values() for call in handler.calls}
    assert performed.isdisjoint(ctx.inputs), "an outcome given up front was performed again"


# --- verify and replay never perform ---------------------------------------------------------------------------


def test_verify_never_performs_an_effect() -> None:
    api = Recorder(lambda call: {"charged": call.arguments["amount"]})
    broken = Recorder(always_raise(ConnectionError("down")))
    workflows = [
        WorkflowDefinition(id="ok", steps=[set_step("a", "x", 1), effect_step("b", "api", amount=3, into="paid")]),
        WorkflowDefinition(id="fails", steps=[effect_step("b", "broken"), set_step("c", "x", 2)]),
        WorkflowDefinition(id="waits", steps=[effect_step("b", "api", amount=1), StepSpec("h", HUMAN)]),
    ]
    for workflow in workflows:
        result = drive(workflow, effects={"api": api, "broken": broken})
        assert result.status == {"ok": "completed", "fails": "failed", "waits": "suspended"}[workflow.id]
        performed = (len(api.calls), len(broken.calls))
        assert verify(result).verdict == "ok"
        assert verify(result.to_dict()).verdict == "ok"
        assert verify(result, replay=False).verdict == "ok"
        assert replay(result).to_dict() == result.to_dict()
        assert (len(api.calls), len(broken.calls)) == performed, f"{workflow.id}: verify performed an effect"


# --- checks before anything runs -------------------------------------------------------------------------------


def test_unknown_effect_performs_nothing(tmp_path: Path) -> None:
    known = Recorder()
    workflow = WorkflowDefinition(id="w", steps=[effect_step("first", "known"), effect_step("second", "missing")])
    with SQLiteStore(tmp_path / "s.db") as store:
        with pytest.raises(EnvelopeViolation) as unknown:
            drive(workflow, effects={"known": known}, store=store)
        assert store.runs() == [], "nothing is saved either"
    assert str(unknown.value) == (
        "workflow 'w' step 'second' (steps[1]): no handler for effect 'missing'; effects with a handler: ['known']"
    )
    assert known.calls == []
    # An effect the policy does not allow is refused before anything runs, though it has a handler.
    allowed, refused = Recorder(), Recorder()
    workflow = WorkflowDefinition(id="w", steps=[effect_step("first", "allowed"), effect_step("second", "refused")])
    with pytest.raises(EnvelopeViolation) as not_allowed:
        drive(workflow, effects={"allowed": allowed, "refused": refused}, policy=Policy(allowed_effects=["allowed"]))
    assert str(not_allowed.value) == (
        "workflow 'w' step 'second' (steps[1]): effect 'refused' is not allowed by the policy; "
        "allowed effects: ['allowed']"
    )
    assert allowed.calls == [] and refused.calls == []


def test_unknown_effect_of_a_suspended_result_performs_nothing() -> None:
    known = Recorder()
    workflow = WorkflowDefinition(id="w", steps=[effect_step("first", "known"), effect_step("second", "missing")])
    waiting = run_workflow(workflow)
    with pytest.raises(EnvelopeViolation, match=r"step 'second' .*effect 'missing'"):
        drive(waiting, effects={"known": known})
    assert known.calls == []


# --- retries, backoff, timeouts --------------------------------------------------------------------------------


@given(
    max_attempts=st.integers(1, 6),
    initial_delay=st.floats(0, 5),
    multiplier=st.floats(1, 4),
    max_delay=st.floats(0, 20),
    error=st.sampled_from([ConnectionError, TimeoutError, ValueError]),
)
def test_retry_stops_after_max_attempts(
    max_attempts: int, initial_delay: float, multiplier: float, max_delay: float, error: type[Exception]
) -> None:
    def handler(call: EffectCall) -> object:
        raise error(f"attempt {call.attempt} refused")

    recorder = Recorder(handler)
    retry = RetryPolicy(max_attempts, initial_delay, multiplier, max_delay, retry_on=(ConnectionError, TimeoutError))
    sleeps = Sleeps()
    workflow = WorkflowDefinition(id="w", steps=[effect_step("call", "api")])
    result = drive(workflow, effects={"api": Effect(recorder, retry=retry)}, sleep=sleeps)
    attempts = max_attempts if error is not ValueError else 1  # an exception not in retry_on stops at once
    assert recorder.attempts == list(range(1, attempts + 1))
    expected = [min(max_delay, initial_delay * multiplier ** (n - 1)) for n in range(1, attempts)]
    assert sleeps.delays == pytest.approx(expected)
    assert sleeps.delays == [retry.delay(n) for n in range(1, attempts)]
    assert outcome_of(result, "call") == {
        "ok": False,
        "error": {"type": error.__name__, "message": f"attempt {attempts} refused"},
        "attempts": attempts,
    }
    assert result.status == "failed"


@pytest.mark.parametrize(
    "retry",
    [
        RetryPolicy(max_attempts=1100, initial_delay=0.5, max_delay=30.0),  # the default multiplier, 2.0
        RetryPolicy(max_attempts=4, initial_delay=1.0, multiplier=1e200, max_delay=30.0),
    ],
    ids=["many-attempts", "large-multiplier"],
)
def test_a_capped_delay_never_overflows(retry: RetryPolicy) -> None:
    sleeps = Sleeps()
    workflow = WorkflowDefinition(id="w", steps=[effect_step("call", "api")])
    result = drive(workflow, effects={"api": Effect(refuse, retry=retry)}, sleep=sleeps)
    assert outcome_of(result, "call") == {
        "ok": False,
        "error": {"type": "ConnectionError", "message": f"attempt {retry.max_attempts} refused"},
        "attempts": retry.max_attempts,
    }
    assert len(sleeps.delays) == retry.max_attempts - 1 and max(sleeps.delays) == 30.0


def test_a_retried_effect_that_succeeds_records_its_attempts() -> None:
    handler = Recorder(lambda call: call.attempt if call.attempt == 3 else refuse(call))
    sleeps = Sleeps()
    retry = RetryPolicy(max_attempts=5, initial_delay=0.5, multiplier=2.0)
    workflow = WorkflowDefinition(id="w", steps=[effect_step("call", "api")])
    result = drive(workflow, effects={"api": Effect(handler, retry=retry)}, sleep=sleeps)
    assert handler.attempts == [1, 2, 3]
    assert sleeps.delays == [0.5, 1.0]
    assert outcome_of(result, "call") == {"ok": True, "value": 3, "attempts": 3}
    assert result.status == "completed" and result.final_state["call"] == 3


@pytest.fixture
def release() -> Iterator[threading.Event]:
    """Set at teardown, so handler threads abandoned past their timeout end at once."""
    event = threading.Event()
    yield event
    event.set()


def test_timeout_fails_the_attempt(release: threading.Event) -> None:
    def slow(call: EffectCall) -> object:
        release.wait(5)
        return "too late"

    handler = Recorder(slow)
    sleeps = Sleeps()
    effect = Effect(handler, retry=RetryPolicy(max_attempts=2, initial_delay=0.75), timeout=0.2)
    workflow = WorkflowDefinition(id="w", steps=[effect_step("call", "api"), set_step("after", "x", 1)])
    started = time.monotonic()
    result = drive(workflow, effects={"api": effect}, sleep=sleeps)
    elapsed = time.monotonic() - started
    assert handler.attempts == [1, 2]
    assert sleeps.delays == [0.75]
    outcome = outcome_of(result, "call")
    assert isinstance(outcome, dict)
    assert outcome["ok"] is False and outcome["attempts"] == 2
    assert outcome["error"]["type"] == "TimeoutError"
    assert "0.2" in outcome["error"]["message"]
    assert result.status == "failed" and result.failed_step_id == "call"
    assert 0.35 < elapsed < 2.0


def test_an_attempt_within_its_timeout_succeeds() -> None:
    effect = Effect(Recorder(lambda call: {"fast": True}), timeout=2.0)
    result = drive(WorkflowDefinition(id="w", steps=[effect_step("call", "api")]), effects={"api": effect})
    assert outcome_of(result, "call") == {"ok": True, "value": {"fast": True}, "attempts": 1}


# --- the idempotency key ---------------------------------------------------------------------------------------


def first_key(workflow: WorkflowDefinition, ctx: ExecutionContext | None = None, policy: Policy | None = None) -> str:
    """The key the first effect of a drive of `workflow` is performed with."""
    handler = Recorder()
    drive(workflow, ctx, effects={"api": handler, "other": Recorder()}, policy=policy)
    return handler.keys[0]


def test_key_is_stable_per_run_position(tmp_path: Path) -> None:
    failing = Recorder(always_raise(ConnectionError("down")))
    effects = {"api": Effect(failing, retry=RetryPolicy(max_attempts=3, initial_delay=0))}
    workflow = WorkflowDefinition(
        id="w", steps=[set_step("a", "x", 1), effect_step("b", "api"), effect_step("c", "api"), set_step("d", "y", 2)]
    )
    ctx = ExecutionContext({"seed": 1})
    with SQLiteStore(tmp_path / "s.db") as store:
        assert drive(workflow, ctx, effects=effects, store=store).status == "failed"
        [waiting] = [run for run in store.runs() if run.status == "suspended"]
        stored = store.load(waiting.run_id)
    key = failing.keys[0]
    assert failing.keys == [key] * 3, "every attempt has the same key"
    drive(workflow, ctx, effects=effects)
    assert failing.keys[3:] == [key] * 3, "a re-drive of the same run position has the same key"
    drive(stored, effects=effects)
    assert failing.keys[6:] == [key] * 3, "a drive of the stored suspended run has the same key"
    assert key == effect_key(run_workflow(workflow, ctx).receipt.head, "b") == effect_key(stored.run_id, "b")
    assert len(key) == 64 and set(key) <= set("0123456789abcdef")

    succeeding = Recorder()
    drive(workflow, ctx, effects={"api": succeeding})
    assert succeeding.keys[0] == key, "the same position, whatever its outcome turns out to be"
    before_c = run_workflow(workflow, ExecutionContext(ctx.initial_state, {"b": ok_outcome({"done": "b"})}))
    assert succeeding.keys[1] == effect_key(before_c.receipt.head, "c") != key, "another step"
    assert first_key(workflow, ExecutionContext({"seed": 2})) != key, "another initial state"
    assert first_key(WorkflowDefinition(id="w2", steps=workflow.steps), ctx) != key, "another workflow id"
    changed_later = WorkflowDefinition(id="w", steps=[*workflow.steps[:3], set_step("d", "y", 3)])
    assert first_key(changed_later, ctx) != key, "another workflow (a later step differs)"
    assert first_key(workflow, ctx, Policy(max_steps=6)) != key, "another policy"
    assert first_key(workflow, ctx) == key


# --- outcomes in the fold --------------------------------------------------------------------------------------


class SpyOperation:
    """An operation that records the steps it is called with and sets `seen`."""

    def __init__(self) -> None:
        self.steps: list[StepSpec] = []

    def __call__(self, state: State, step: StepSpec) -> State:
        self.steps.append(step)
        return state.set("seen", step.payload.get("input"))


@given(
    failure=st.builds(
        failed_outcome,
        st.sampled_from(["ConnectionError", "TimeoutError", "HTTPError"]),
        st.text(max_size=20),
        attempts=st.integers(1, 5),
    ),
    state=plain_states,
)
def test_failed_outcome_fails_step_without_operation(failure: Params, state: dict[str, object]) -> None:
    spy = SpyOperation()
    operations: Mapping[str, Operation] = DEFAULT_OPERATIONS.set("spy", spy)
    workflow = WorkflowDefinition(
        id="w", steps=[set_step("before", "x", 1), effect_step("charge", "api", operation="spy"), set_step("c", "y", 2)]
    )
    result = run_workflow(workflow, ExecutionContext(state, {"charge": failure}), operations=operations)
    error = failure["error"]
    assert isinstance(error, Mapping)
    assert spy.steps == []
    assert result.status == "failed" and not result.success
    assert result.failed_step_id == "charge"
    attempts = failure["attempts"]
    tries = f"{attempts} attempt{'s' if attempts != 1 else ''}"
    assert result.error_message == (
        f"step 'charge' (effect 'api') failed after {tries}: {error['type']}: {error['message']}"
    )
    entry = result.lineage.entries[-1]
    assert entry.input == failure
    assert entry.state == State({**state, "x": 1}) == result.final_state
    assert entry.step == workflow.steps[1], "a failed outcome runs nothing: the step is shown as defined"
    assert [step.id for step in result.executed_steps] == ["before", "charge"]


def test_a_failed_effect_performed_by_drive_fails_its_step_without_its_operation() -> None:
    spy = SpyOperation()
    workflow = WorkflowDefinition(id="w", steps=[effect_step("charge", "api", operation="spy")])
    handler = Recorder(always_raise(ConnectionError("refused")))
    result = drive(workflow, effects={"api": handler}, operations=DEFAULT_OPERATIONS.set("spy", spy))
    assert spy.steps == []
    assert result.error_message == "step 'charge' (effect 'api') failed after 1 attempt: ConnectionError: refused"


def test_an_ok_outcome_runs_the_operation_with_its_value_as_input() -> None:
    spy = SpyOperation()
    workflow = WorkflowDefinition(id="w", steps=[effect_step("charge", "api", operation="spy", amount=3)])
    result = drive(
        workflow,
        effects={"api": lambda call: [call.arguments["amount"]]},
        operations=DEFAULT_OPERATIONS.set("spy", spy),
    )
    [step] = spy.steps
    assert thaw(step.payload) == {"effect": "api", "operation": "spy", "amount": 3, "input": [3]}
    assert result.final_state == State({"seen": [3]})
    assert result.lineage.entries[0].input == ok_outcome([3])


def test_an_effect_step_without_an_operation_records_its_value() -> None:
    workflow = WorkflowDefinition(
        id="w", steps=[effect_step("fetch", "api", into="answer"), effect_step("count", "api"), set_step("z", "z", 0)]
    )
    result = drive(workflow, effects={"api": lambda call: {"from": call.step_id}})
    assert result.status == "completed"
    assert result.final_state == State({"answer": {"from": "fetch"}, "count": {"from": "count"}, "z": 0})


# --- handlers that fail ----------------------------------------------------------------------------------------


class Opaque:
    """An object outside the value domain."""


@pytest.mark.parametrize(
    ("returned", "why"),
    [
        ({1, 2}, "a set is not allowed"),
        (Opaque(), "Opaque is not allowed"),
        (float("nan"), "nan is not allowed"),
        ({1: "one"}, "mapping keys must be strings"),
    ],
    ids=["set", "object", "nan", "int-keys"],
)
def test_a_handler_returning_a_value_outside_the_domain_gives_a_failed_outcome(returned: object, why: str) -> None:
    handler = Recorder(lambda call: returned)
    workflow = WorkflowDefinition(id="w", steps=[effect_step("call", "api")])
    result = drive(workflow, effects={"api": Effect(handler, retry=RetryPolicy(max_attempts=3, initial_delay=0))})
    outcome = outcome_of(result, "call")
    assert isinstance(outcome, dict)
    assert outcome["ok"] is False
    assert outcome["attempts"] == len(handler.calls)
    assert outcome["error"]["type"] == "InvalidValueError"
    message = outcome["error"]["message"]
    assert "the handler of effect 'api' returned a value outside the domain" in message
    assert why in message
    assert result.status == "failed" and "effect 'api'" in str(result.error_message)


def test_a_handler_raising_gives_a_failed_outcome() -> None:
    handler = Recorder(always_raise(RuntimeError("kaput\n  on two lines")))
    workflow = WorkflowDefinition(id="w", steps=[effect_step("call", "api"), set_step("after", "x", 1)])
    result = drive(workflow, effects={"api": handler})
    assert outcome_of(result, "call") == {
        "ok": False,
        "error": {"type": "RuntimeError", "message": "kaput on two lines"},
        "attempts": 1,
    }
    assert result.status == "failed" and result.failed_step_id == "call"
    assert result.error_message == "step 'call' (effect 'api') failed after 1 attempt: RuntimeError: kaput on two lines"
    assert [step.id for step in result.executed_steps] == ["call"]


def test_a_handler_exception_of_an_odd_name_or_message_still_gives_a_failed_outcome() -> None:
    """A nameless exception type and a message with a lone surrogate: a failed outcome, never a refused drive."""
    workflow = WorkflowDefinition(id="w", steps=[effect_step("call", "api")])
    for raised, error in [
        (type("", (Exception,), {})("m"), {"type": "Exception", "message": "m"}),
        (ValueError("bad \ud800"), {"type": "ValueError", "message": "bad \\ud800"}),
    ]:
        result = drive(workflow, effects={"api": Recorder(always_raise(raised))})
        assert outcome_of(result, "call") == {"ok": False, "error": error, "attempts": 1}
        assert result.status == "failed"


class Unprintable(Exception):
    def __str__(self) -> str:
        raise RuntimeError("no message for you")


def test_a_handler_exception_that_cannot_be_printed_still_gives_a_failed_outcome() -> None:
    workflow = WorkflowDefinition(id="w", steps=[effect_step("call", "api")])
    result = drive(workflow, effects={"api": always_raise(Unprintable())})
    outcome = outcome_of(result, "call")
    assert isinstance(outcome, dict)
    assert outcome["ok"] is False and outcome["error"]["type"] == "Unprintable"


def test_a_handler_raising_a_base_exception_is_not_swallowed() -> None:
    workflow = WorkflowDefinition(id="w", steps=[effect_step("call", "api")])
    with pytest.raises(KeyboardInterrupt):
        drive(workflow, effects={"api": always_raise(KeyboardInterrupt())})


# --- drive: where it stops, what it saves ----------------------------------------------------------------------


def test_drive_stops_at_a_human_step() -> None:
    first, second = Recorder(), Recorder()
    workflow = WorkflowDefinition(
        id="w", steps=[effect_step("fetch", "one"), StepSpec("approve", HUMAN), effect_step("send", "two")]
    )
    effects = {"one": first, "two": second}
    waiting = drive(workflow, effects=effects)
    assert (waiting.status, waiting.waiting_for, waiting.pending_step_id) == ("suspended", "human", "approve")
    assert waiting.pending_effect is None
    assert (len(first.calls), len(second.calls)) == (1, 0)
    at_effect = resume(waiting, {"approve": True})
    assert (at_effect.waiting_for, at_effect.pending_effect) == ("effect", "two")
    done = drive(at_effect, effects=effects)
    assert done.status == "completed"
    assert (len(first.calls), len(second.calls)) == (1, 1)
    assert done.final_state == State({"fetch": {"done": "fetch"}, "approve": True, "send": {"done": "send"}})


def test_drive_passes_a_human_step_whose_input_is_given() -> None:
    workflow = WorkflowDefinition(id="w", steps=[StepSpec("approve", HUMAN), effect_step("send", "api")])
    done = drive(workflow, ExecutionContext({}, {"approve": "yes"}), effects={"api": Recorder()})
    assert done.status == "completed" and done.final_state == State({"approve": "yes", "send": {"done": "send"}})


def test_drive_saves_to_the_store_after_each_outcome(tmp_path: Path) -> None:
    seen_by_handler: list[list[tuple[str, str | None]]] = []
    store = SQLiteStore(tmp_path / "s.db")

    def api(call: EffectCall) -> object:
        seen_by_handler.append([(run.status, run.pending_step_id) for run in store.runs()])
        return call.step_id

    workflow = WorkflowDefinition(
        id="w", steps=[set_step("a", "x", 1), effect_step("b", "api"), effect_step("c", "api"), set_step("d", "y", 2)]
    )
    with store:
        result = drive(workflow, effects={"api": api}, store=store)
        runs = store.runs()
        loaded = store.load(result.run_id)
    assert seen_by_handler == [
        [("suspended", "b")],
        [("suspended", "b"), ("suspended", "c")],
    ], "the run waiting for an effect is saved before the effect is performed"
    assert [(run.status, run.pending_step_id, run.steps) for run in runs] == [
        ("suspended", "b", 1),
        ("suspended", "c", 2),
        ("completed", None, 4),
    ]
    at_b, at_c, done = runs
    assert (at_b.resumed_from, at_b.continued_by) == (None, at_c.run_id)
    assert (at_c.resumed_from, at_c.continued_by) == (at_b.run_id, done.run_id)
    assert (done.resumed_from, done.continued_by) == (at_c.run_id, None)
    assert done.run_id == result.run_id
    assert loaded.to_dict() == result.to_dict()


def test_drive_of_a_finished_result_returns_it_unchanged() -> None:
    handler = Recorder()
    done = drive(WorkflowDefinition(id="w", steps=[effect_step("b", "api")]), effects={"api": handler})
    failed = run_workflow(
        WorkflowDefinition(id="w", steps=[effect_step("b", "api")]),
        ExecutionContext({}, {"b": failed_outcome("OSError", "gone")}),
    )
    for finished in (done, failed):
        again = drive(finished, effects={"api": handler})
        assert again.to_dict() == finished.to_dict()
    assert len(handler.calls) == 1


def test_drive_refuses_a_context_with_a_result() -> None:
    waiting = run_workflow(WorkflowDefinition(id="w", steps=[effect_step("b", "api")]))
    with pytest.raises(stepfold.InvalidValueError, match="ctx"):
        drive(waiting, ExecutionContext(), effects={"api": Recorder()})


def test_a_fresh_drive_reaching_a_position_another_run_continued_saves_a_fork(tmp_path: Path) -> None:
    workflow = WorkflowDefinition(id="w", steps=[effect_step("b", "api")])
    with SQLiteStore(tmp_path / "s.db") as store:
        first = drive(workflow, effects={"api": lambda call: 1}, store=store)
        same = drive(workflow, effects={"api": lambda call: 1}, store=store)
        assert same.run_id == first.run_id and len(store.runs()) == 2, "the same run again saves nothing new"
        other = drive(workflow, effects={"api": lambda call: 2}, store=store)
        runs = store.runs()
    waiting, kept, forked = runs
    assert (waiting.status, waiting.continued_by) == ("suspended", first.run_id)
    assert (kept.run_id, kept.resumed_from, kept.forked) == (first.run_id, waiting.run_id, False)
    assert (forked.run_id, forked.resumed_from, forked.forked) == (other.run_id, waiting.run_id, True)


def test_drive_continues_a_stored_run_again_only_as_a_fork(tmp_path: Path) -> None:
    workflow = WorkflowDefinition(id="w", steps=[effect_step("b", "api")])
    with SQLiteStore(tmp_path / "s.db") as store:
        drive(workflow, effects={"api": lambda call: 1}, store=store)
        waiting = store.load(store.runs()[0].run_id)
        with pytest.raises(AlreadyResumedError):
            drive(waiting, effects={"api": lambda call: 2}, store=store)
        assert len(store.runs()) == 2, "the refused continuation is not saved"
        forked = drive(waiting, effects={"api": lambda call: 2}, store=store, fork=True)
        last = store.runs()[-1]
    assert (last.run_id, last.resumed_from, last.forked) == (forked.run_id, waiting.run_id, True)
    assert forked.final_state == State({"b": 2})


def test_a_drive_whose_continuation_the_store_refuses_performs_nothing(tmp_path: Path) -> None:
    workflow = WorkflowDefinition(id="w", steps=[effect_step("b", "api")])
    handler = Recorder(lambda call: 2)
    with SQLiteStore(tmp_path / "s.db") as store:
        drive(workflow, effects={"api": lambda call: 1}, store=store)
        waiting = store.load(store.runs()[0].run_id)
        with pytest.raises(AlreadyResumedError):
            drive(waiting, effects={"api": handler}, store=store)
    assert handler.calls == [], "the API was called for a continuation the store then refused"


def test_an_effect_step_may_be_of_any_allowed_kind_but_human() -> None:
    policy = Policy(allowed_kinds={"runtime", "human", "io"})
    workflow = WorkflowDefinition(id="w", steps=[StepSpec("fetch", "io", {"effect": "api", "url": "u"})])
    handler = Recorder(lambda call: call.arguments["url"])
    waiting = run_workflow(workflow, policy=policy)
    assert (waiting.waiting_for, waiting.pending_effect) == ("effect", "api")
    result = drive(workflow, effects={"api": handler}, policy=policy)
    assert result.status == "completed" and result.final_state == State({"fetch": "u"})
    assert len(handler.calls) == 1


def test_a_fork_at_an_effect_step_is_driven_again_with_another_outcome() -> None:
    workflow = WorkflowDefinition(id="w", steps=[set_step("a", "x", 1), effect_step("b", "api"), set_step("c", "y", 2)])
    done = drive(workflow, effects={"api": lambda call: "first"})
    again = drive(fork(done, "b"), effects={"api": lambda call: "second"})
    assert again.to_dict() == run_workflow(workflow, ExecutionContext({}, {"b": ok_outcome("second")})).to_dict()
    assert done.final_state["b"] == "first"


# --- suspended at an effect step -------------------------------------------------------------------------------


def test_a_run_suspended_at_an_effect_step_round_trips_and_resumes() -> None:
    workflow = WorkflowDefinition(id="w", steps=[set_step("a", "x", 1), effect_step("charge", "api", amount=5)])
    waiting = run_workflow(workflow)
    assert (waiting.status, waiting.success, waiting.pending_step_id) == ("suspended", True, "charge")
    assert (waiting.waiting_for, waiting.pending_effect) == ("effect", "api")
    document = waiting.to_dict()
    assert (document["waiting_for"], document["pending_effect"], document["pending_step_id"]) == (
        "effect",
        "api",
        "charge",
    )
    read_back = OrchestrationResult.from_dict(json.loads(json.dumps(document)))
    assert read_back.to_dict() == document
    assert (read_back.waiting_for, read_back.pending_effect) == ("effect", "api")
    outcome = ok_outcome({"charged": 5})
    resumed = resume(read_back, {"charge": outcome})
    assert resumed.to_dict() == run_workflow(workflow, ExecutionContext({}, {"charge": outcome})).to_dict()
    assert resumed.final_state == State({"x": 1, "charge": {"charged": 5}})
    driven = drive(read_back, effects={"api": lambda call: {"charged": call.arguments["amount"]}})
    assert driven.to_dict() == resumed.to_dict()


# --- missions carry their effects ------------------------------------------------------------------------------


def charge_builder(params: Params) -> WorkflowDefinition:
    return WorkflowDefinition(
        id="billing",
        steps=[set_step("price", "amount", params.get("amount", 1)), effect_step("charge", "api.charge", into="paid")],
    )


def test_a_mission_carries_the_effects_drive_mission_performs(monkeypatch: pytest.MonkeyPatch) -> None:
    api = Recorder(lambda call: {"charged": call.state["amount"]})
    monkeypatch.setitem(MISSION_REGISTRY, "billing", Mission(charge_builder, effects={"api.charge": api}))
    result = drive_mission("billing", params={"amount": 7})
    assert result.status == "completed"
    assert result.final_state == State({"amount": 7, "paid": {"charged": 7}})
    assert [call.step_id for call in api.calls] == ["charge"]
    assert set(effects_for(result.workflow)) >= {"api.charge", "tests.discover", "tests.run"}
    assert verify(result).verdict == "ok" and len(api.calls) == 1


def test_register_mission_carries_operations_and_effects(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(MISSION_REGISTRY, "billing", charge_builder)  # undone after the test, whatever replaces it
    spy = SpyOperation()
    api = Recorder(lambda call: call.arguments["amount"])

    def build(params: Params) -> WorkflowDefinition:
        return WorkflowDefinition(id="billing", steps=[effect_step("charge", "api.charge", operation="spy", amount=4)])

    mission = register_mission("billing", build, operations={"spy": spy}, effects={"api.charge": api}, replace=True)
    assert set(mission.effects) == {"api.charge"} and isinstance(mission.effects["api.charge"], Effect)
    result = drive_mission("billing")
    assert result.status == "completed" and result.final_state == State({"seen": 4})
    assert len(api.calls) == 1 and len(spy.steps) == 1


def test_drive_mission_without_the_mission_effect_performs_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(MISSION_REGISTRY, "billing", charge_builder)
    with pytest.raises(EnvelopeViolation, match=r"step 'charge' .*no handler for effect 'api.charge'"):
        drive_mission("billing")


# --- the user story: killed in the middle of a retry, run again -------------------------------------------------

STORY = textwrap.dedent(
    """
    import json, os, sys
    from pathlib import Path

    from stepfold import MISSION_REGISTRY, Mission, SQLiteStore, StepSpec, WorkflowDefinition, verify
    from stepfold.effects import Effect, RetryPolicy, drive, drive_mission, effects_for
    from stepfold.registry import operations_for

    ledger_path, store_path, mode = Path(sys.argv[1]), sys.argv[2], sys.argv[3]


    def charge(call):
        # The API: every request is written to its ledger with its idempotency key; the first ever fails.
        with ledger_path.open("a") as ledger:
            ledger.write(json.dumps({"key": call.key, "attempt": call.attempt, "pid": os.getpid()}) + "\\n")
            ledger.flush()
            os.fsync(ledger.fileno())
        if len(ledger_path.read_text().splitlines()) == 1:
            raise ConnectionError("the API is down")
        return {"charged": call.arguments["amount"], "key": call.key}


    def build(params):
        return WorkflowDefinition(
            id="billing",
            steps=[
                StepSpec("price", "runtime", {"operation": "set", "key": "amount", "value": 42}),
                StepSpec("charge", "runtime", {"effect": "api.charge", "amount": 42, "into": "payment"}),
                StepSpec("done", "runtime", {"operation": "set", "key": "status", "value": "paid"}),
            ],
        )


    retry = RetryPolicy(max_attempts=3, initial_delay=600.0)
    MISSION_REGISTRY["billing"] = Mission(build, effects={"api.charge": Effect(charge, retry=retry)})
    with SQLiteStore(store_path) as store:
        if mode == "first":
            drive_mission("billing", store=store)
        else:
            [waiting] = [run for run in store.runs() if run.status == "suspended" and run.continued_by is None]
            result = store.load(waiting.run_id)
            done = drive(
                result,
                effects=effects_for(result.workflow),
                operations=operations_for(result.workflow),
                store=store,
            )
            calls = ledger_path.read_text()
            verdict = verify(done).verdict  # here the mission and its API handler are loaded
            print(json.dumps({"run_id": done.run_id, "verdict": verdict, "api_called": ledger_path.read_text() != calls}))
    """
)


def ledger_lines(path: Path) -> list[dict[str, object]]:
    """The ledger's complete lines (a line being written when it is read is left for the next read)."""
    complete = path.read_text().split("\n")[:-1] if path.exists() else []
    return [json.loads(line) for line in complete]


def test_a_run_killed_in_a_retry_performs_the_effect_again_with_the_same_key(tmp_path: Path) -> None:
    script, ledger, database = tmp_path / "story.py", tmp_path / "ledger.jsonl", tmp_path / "s.db"
    script.write_text(STORY)
    package_root = str(Path(stepfold.__file__).resolve().parent.parent)
    paths = [package_root, *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}
    command = [sys.executable, str(script), str(ledger), str(database)]
    with (tmp_path / "first.err").open("wb") as errors:
        first = subprocess.Popen([*command, "first"], env=env, cwd=tmp_path, stderr=errors)
        try:
            deadline = time.monotonic() + 20
            while not ledger_lines(ledger) and first.poll() is None and time.monotonic() < deadline:
                time.sleep(0.02)
            assert first.poll() is None, f"the first run ended early: {(tmp_path / 'first.err').read_text()}"
            assert len(ledger_lines(ledger)) == 1, "the first run never called the API"
            time.sleep(0.1)  # well inside the 600 s backoff before its second attempt
            assert first.poll() is None
        finally:
            first.kill()  # SIGKILL: no cleanup, no chance to save anything
            first.wait()
    assert first.returncode == -signal.SIGKILL
    [attempt_1] = ledger_lines(ledger)

    with SQLiteStore(database) as store:
        [waiting] = store.runs()
    assert (waiting.status, waiting.pending_step_id, waiting.continued_by) == ("suspended", "charge", None)

    again = subprocess.run(
        [*command, "again"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=30, check=False
    )
    assert again.returncode == 0, again.stderr
    attempt_1_again, attempt_2 = ledger_lines(ledger)
    assert attempt_1_again == attempt_1
    assert attempt_2["key"] == attempt_1["key"], "performed again with the same key"
    assert attempt_2["pid"] != attempt_1["pid"] and attempt_2["attempt"] == 1

    report = json.loads(again.stdout)
    assert (report["verdict"], report["api_called"]) == ("ok", False), "verify called the API"
    with SQLiteStore(database) as store:
        runs = store.runs()
        result = store.load(report["run_id"])
    assert [(run.status, run.resumed_from, run.continued_by) for run in runs] == [
        ("suspended", None, result.run_id),
        ("completed", waiting.run_id, None),
    ]
    assert result.final_state == State(
        {"amount": 42, "payment": {"charged": 42, "key": attempt_1["key"]}, "status": "paid"}
    )
    assert outcome_of(result, "charge") == {
        "ok": True,
        "value": {"charged": 42, "key": attempt_1["key"]},
        "attempts": 1,
    }
    assert attempt_1["key"] == effect_key(waiting.run_id, "charge"), "the run id is its receipt head before the step"
    before = ledger.read_text()
    assert verify(result).verdict == "ok"
    assert verify(result.to_dict()).verdict == "ok"
    assert ledger.read_text() == before, "verify called the API"


# --- the import graph: the core performs no I/O ----------------------------------------------------------------

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "stepfold"

SHELL_PACKAGES = ("cli", "store", "effects", "testing")
"""Subpackages of the shell (and the harness): all their modules do, or may do, I/O."""

SHELL_FILES = (
    "signing.py",
    "pytest_plugin.py",
    "plugins.py",
    "suite.py",
    "batch.py",
    "worker.py",
    "pool.py",
    "golden.py",
)
"""Top-level shell modules (DESIGN.md, "Layers")."""

ABOVE_EVERYTHING = ("__init__.py", "__main__.py")
"""The package facade (re-exports the shell too) and the CLI entry point: neither is imported by the core."""

IO_MODULES = frozenset(
    {
        "subprocess",
        "threading",
        "_thread",
        "socket",
        "ssl",
        "selectors",
        "signal",
        "time",
        "random",
        "secrets",
        "asyncio",
        "multiprocessing",
        "concurrent",
        "urllib",
        "http",
        "sqlite3",
    }
)
"""Standard modules that mean a clock, randomness, threads, processes, the network or a database."""


def module_name(path: Path) -> str:
    parts = ["stepfold", *path.relative_to(PACKAGE).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def is_core(path: Path) -> bool:
    relative = path.relative_to(PACKAGE)
    if relative.parts[0] in SHELL_PACKAGES:
        return False
    return not (len(relative.parts) == 1 and relative.name in SHELL_FILES + ABOVE_EVERYTHING)


def core_modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(PACKAGE.rglob("*.py")) if is_core(path)}


def shell_modules() -> list[str]:
    names = {module_name(path) for path in PACKAGE.rglob("*.py") if not is_core(path)}
    names |= {f"stepfold.{package}" for package in SHELL_PACKAGES}
    names |= {f"stepfold.{name.removesuffix('.py')}" for name in SHELL_FILES}
    return sorted(names - {"stepfold"})  # the facade is refused by name: its submodules are not all shell


def direct_imports(source: str, module: str, *, is_package: bool) -> list[tuple[int, str]]:
    """Every module an `import` or `from ... import` statement anywhere in `source` names, relative ones resolved."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                base = node.module or ""
            else:
                package = module.split(".") if is_package else module.split(".")[:-1]
                anchor = package[: len(package) - (node.level - 1)]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            found.append((node.lineno, base))
    return sorted(found)


def forbidden(name: str, shell: list[str]) -> str | None:
    if name.split(".")[0] in IO_MODULES:
        return "does I/O"
    if name == "stepfold":
        return "is the package facade, which imports the shell"
    if any(name == other or name.startswith(other + ".") for other in shell):
        return "is in the shell"
    return None


def import_violations(module: str, source: str, *, is_package: bool, shell: list[str]) -> list[str]:
    problems = []
    for line, name in direct_imports(source, module, is_package=is_package):
        why = forbidden(name, shell)
        if why is not None:
            problems.append(f"{module} (line {line}) imports {name}, which {why}")
    return problems


def test_the_import_check_sees_what_it_must() -> None:
    source = textwrap.dedent(
        """
        import threading
        from time import sleep
        from ..store import SQLiteStore
        from stepfold import engine
        from stepfold.operations import base
        import attrs

        def later():
            import http.client
            from stepfold.effects.perform import perform
            from . import builtin
        """
    )
    problems = import_violations("stepfold.operations.fake", source, is_package=False, shell=shell_modules())
    assert [problem.split(" imports ")[1].split(",")[0] for problem in problems] == [
        "threading",
        "time",
        "stepfold.store",
        "stepfold",
        "http.client",
        "stepfold.effects.perform",
    ]


def test_core_imports_no_io_modules() -> None:
    core = core_modules()
    assert {"stepfold.engine", "stepfold.builder", "stepfold.registry"} <= set(core)
    shell = shell_modules()
    problems: list[str] = []
    for module, path in core.items():
        source = path.read_text(encoding="utf-8")
        problems += import_violations(module, source, is_package=path.name == "__init__.py", shell=shell)
    assert problems == []


LOAD_CORE = textwrap.dedent(
    """
    import importlib, json, sys, types

    package_dir, names, shell = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
    facade = types.ModuleType("stepfold")  # stands in for stepfold/__init__.py, which re-exports the shell
    facade.__path__ = [package_dir]
    sys.modules["stepfold"] = facade
    for name in names:
        importlib.import_module(name)
    loaded = sorted(m for m in sys.modules if any(m == s or m.startswith(s + ".") for s in shell))
    print(json.dumps(loaded))
    """
)


def test_core_loads_no_shell_module() -> None:
    core = sorted(core_modules())
    shell = shell_modules()
    done = subprocess.run(
        [sys.executable, "-c", LOAD_CORE, str(PACKAGE), json.dumps(core), json.dumps(shell)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []


def test_drive_refuses_a_store_that_is_not_one_before_performing_anything() -> None:
    handler = Recorder(lambda call: 1)
    workflow = WorkflowDefinition(id="w", steps=[effect_step("call", "api")])
    for store in (3, "runs.db"):
        with pytest.raises(
            stepfold.InvalidValueError, match=r"^store: expected None or a run store \(save and continuation"
        ):
            drive(workflow, effects={"api": handler}, store=store)  # type: ignore[arg-type]
    assert handler.calls == []
