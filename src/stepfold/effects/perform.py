"""Performing one effect: attempts with retries and backoff, a timeout per attempt, the outcome as data.

`perform` never raises for a handler's failure: an exception, a result
outside the value domain or an attempt past its timeout becomes a failed
outcome naming it, after the last attempt the retry policy allows.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import attrs

from stepfold.effect import Effect, EffectCall
from stepfold.errors import InvalidValueError
from stepfold.messages import MAX_ERROR_MESSAGE, exception_text
from stepfold.outcome import failed_outcome, ok_outcome
from stepfold.values import Params, Value, freeze

__all__ = ["perform", "MAX_ERROR_MESSAGE"]

"""Longest error message an outcome records (characters); a longer one keeps its start and says how much was cut."""


class _BadResult(Exception):
    """A handler returned something outside the value domain: a failed attempt, never retried (it is a bug, not bad luck)."""


def perform(effect: Effect, call: EffectCall, *, sleep: Callable[[float], None] = time.sleep) -> Params:
    """Attempt `effect` for `call` until it succeeds or its retry policy gives up; the recorded outcome.

    Attempt n is `effect.handler(evolve(call, attempt=n))`. A failure that the
    policy retries waits `effect.retry.delay(n)` seconds (through `sleep`).
    The outcome is `{"ok": true, "value", "attempts"}` or `{"ok": false,
    "error": {"type", "message"}, "attempts"}` with the last error.
    """
    attempt = 0
    while True:
        attempt += 1
        current = attrs.evolve(call, attempt=attempt)
        try:
            value = _attempt(effect, current)
        except _BadResult as bad:
            return failed_outcome("InvalidValueError", _one_line(bad), attempts=attempt)
        except Exception as exc:  # a handler's failure is an outcome, never the caller's exception
            if effect.retry.retries(exc, attempt):
                sleep(effect.retry.delay(attempt))
                continue
            return failed_outcome(_type_name(exc), _one_line(exc), attempts=attempt)
        return ok_outcome(value, attempts=attempt)


def _attempt(effect: Effect, call: EffectCall) -> Value:
    returned = effect.handler(call) if effect.timeout is None else _within(effect.timeout, effect, call)
    try:
        return freeze(returned, path="result")
    except InvalidValueError as exc:
        raise _BadResult(f"the handler of effect {call.effect!r} returned a value outside the domain: {exc}") from None


def _within(timeout: float, effect: Effect, call: EffectCall) -> object:
    """The handler's result if it returns within `timeout` seconds; `TimeoutError` otherwise.

    Python cannot stop a thread: an attempt past its timeout is abandoned, and
    may still finish its work later. Work that must be stopped belongs in a
    process of its own (the built-in test effects kill theirs).
    """
    box: dict[str, object] = {}

    def attempt() -> None:
        try:
            box["value"] = effect.handler(call)
        except BaseException as exc:  # carried to the waiting thread, which decides
            box["error"] = exc

    worker = threading.Thread(target=attempt, name=f"stepfold effect {call.effect}", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        raise TimeoutError(
            f"attempt {call.attempt} of effect {call.effect!r} took longer than {timeout:g} s (abandoned)"
        )
    error = box.get("error")
    if isinstance(error, BaseException):
        raise error
    return box.get("value")


def _one_line(exc: BaseException) -> str:
    return exception_text(exc, one_line=True)


def _type_name(exc: BaseException) -> str:
    """The exception's type as an outcome records it: a name in the value domain, never empty."""
    name = type(exc).__name__
    if not name or not name.isidentifier():  # `type("", (Exception,), {})`, a name with a lone surrogate
        return "Exception"
    return name
