"""What an effect is, as values: `EffectCall`, `Effect`, `RetryPolicy` and the idempotency key.

The core never performs an effect; `stepfold.effects` (the shell) does, with
these values: an `Effect` is a handler plus how to retry it and how long an
attempt may take, an `EffectCall` is everything a handler is told about one
attempt. They live below the missions so that a `Mission` can carry its
effects without the missions layer importing the shell.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

import attrs

from stepfold.canonical import sha256_json
from stepfold.errors import InvalidValueError
from stepfold.messages import brief_repr
from stepfold.state import State
from stepfold.values import Params

__all__ = [
    "EffectCall",
    "Effect",
    "Handler",
    "RetryPolicy",
    "EFFECT_KEY_TAG",
    "as_effect",
    "effect_key",
    "effect_arguments",
]

EFFECT_KEY_TAG = "stepfold/effect-key/1"
"""The tag hashed first into every idempotency key."""

_NOT_ARGUMENTS = ("operation", "effect", "input")


def effect_key(previous_link: str, step_id: str) -> str:
    """The idempotency key of an effect step: SHA-256 of JCS `["stepfold/effect-key/1", previous_link, step_id]`.

    `previous_link` is the run's receipt head just before the step (the
    genesis for a first step), which binds the workflow, the initial state,
    the policy and everything the run did before; so the key is the same for
    every attempt and every re-drive of this run position, and differs for
    any other position or run.
    """
    return sha256_json([EFFECT_KEY_TAG, previous_link, step_id])


def effect_arguments(payload: Params) -> Params:
    """An effect step's arguments: its payload without `operation`, `effect` and `input`."""
    for name in _NOT_ARGUMENTS:
        payload = payload.discard(name)
    return payload


@attrs.frozen
class EffectCall:
    """One attempt at an effect, as its handler sees it.

    `arguments` is the step's payload without `operation`, `effect` and
    `input`; `state` is the State before the step; `key` is the idempotency
    key (`effect_key`): the same for every attempt and re-drive of this run
    position, so a handler that calls an API passes it as its idempotency
    key, or keeps its own record of keys already done. `attempt` counts
    from 1.
    """

    workflow_id: str
    step_id: str
    effect: str
    arguments: Params
    state: State
    key: str
    attempt: int = 1


Handler = Callable[[EffectCall], object]
"""Performs an effect: returns a value in the domain (frozen by the shell), or raises."""


def _positive_int(_instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    if type(value) is not int or value < 1:
        raise InvalidValueError(f"retry.{attribute.name}: expected an int >= 1, got {brief_repr(value)}")


def _finite(value: object) -> bool:
    """A real number a float can hold: not a bool, not NaN or infinite, not an int past a float's range."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:  # an int of hundreds of digits: no timer takes it
        return False


def _seconds(_instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not _finite(value) or value < 0:
        raise InvalidValueError(f"retry.{attribute.name}: expected a number of seconds >= 0, got {brief_repr(value)}")


def _multiplier(_instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not _finite(value) or value < 1:
        raise InvalidValueError(f"retry.multiplier: expected a number >= 1, got {brief_repr(value)}")


def _exception_types(value: object) -> tuple[type[BaseException], ...]:
    items = (value,) if isinstance(value, type) else value
    if not isinstance(items, Iterable):
        raise InvalidValueError(f"retry.retry_on: expected exception classes, got {brief_repr(value)}")
    classes = tuple(items)
    for item in classes:
        if not (isinstance(item, type) and issubclass(item, BaseException)):
            raise InvalidValueError(f"retry.retry_on: expected exception classes, got {brief_repr(item)}")
    return classes


@attrs.frozen
class RetryPolicy:
    """How often an effect is attempted and how long to wait between attempts.

    At most `max_attempts` attempts (1: no retry). After attempt n fails with
    an exception that is an instance of one of `retry_on`, the next waits
    `min(max_delay, initial_delay * multiplier ** (n - 1))` seconds (`delay(n)`).
    A failure of another type ends the attempts at once.
    """

    max_attempts: int = attrs.field(default=1, validator=_positive_int)
    initial_delay: float = attrs.field(default=0.5, validator=_seconds)
    multiplier: float = attrs.field(default=2.0, validator=_multiplier)
    max_delay: float = attrs.field(default=30.0, validator=_seconds)
    retry_on: tuple[type[BaseException], ...] = attrs.field(default=(Exception,), converter=_exception_types)

    def delay(self, attempt: int) -> float:
        """Seconds to wait after attempt `attempt` (from 1) failed, before the next one (never more than `max_delay`)."""
        if self.initial_delay == 0:
            return 0.0
        try:
            raw = self.initial_delay * self.multiplier ** (attempt - 1)
        except OverflowError:  # past a float's range is past any max_delay
            return float(self.max_delay)
        return float(min(self.max_delay, raw))

    def retries(self, error: BaseException, attempt: int) -> bool:
        """True when attempt `attempt` failing with `error` is followed by another attempt."""
        return attempt < self.max_attempts and isinstance(error, self.retry_on)


def _handler(_instance: object, _attribute: attrs.Attribute[Handler], value: Handler) -> None:
    if not callable(value):
        raise InvalidValueError(f"effect handler: expected a callable taking an EffectCall, got {brief_repr(value)}")


def _timeout(_instance: object, _attribute: attrs.Attribute[float | None], value: float | None) -> None:
    if value is None:
        return
    if not _finite(value) or value <= 0:
        raise InvalidValueError(f"effect timeout: expected None or a number of seconds > 0, got {brief_repr(value)}")


def _retry(value: object) -> RetryPolicy:
    if not isinstance(value, RetryPolicy):
        raise InvalidValueError(f"effect retry: expected a RetryPolicy, got {brief_repr(value)}")
    return value


@attrs.frozen(init=False)
class Effect:
    """A handler with its retry policy and its per-attempt `timeout` (seconds, or None for no limit).

    `Effect(handler, *, retry=RetryPolicy(), timeout=None)`. An attempt past
    its timeout counts as failed with `TimeoutError`.
    """

    handler: Handler = attrs.field(validator=_handler)
    retry: RetryPolicy = attrs.field(converter=_retry)
    timeout: float | None = attrs.field(validator=_timeout)

    def __init__(self, handler: Handler, *, retry: RetryPolicy | None = None, timeout: float | None = None) -> None:
        self.__attrs_init__(handler, RetryPolicy() if retry is None else retry, timeout)


def as_effect(value: object, where: str) -> Effect:
    """An `Effect`, or a bare handler taken as `Effect(handler)`; `InvalidValueError` naming `where` otherwise."""
    if isinstance(value, Effect):
        return value
    if callable(value):
        return Effect(value)
    raise InvalidValueError(f"{where}: expected an Effect or a handler function, got {brief_repr(value)}")
