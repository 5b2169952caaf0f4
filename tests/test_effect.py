"""`stepfold.effect`: the values the shell performs effects with (`RetryPolicy`, `Effect`, the idempotency key)."""

from __future__ import annotations

import math

import pytest

from stepfold.effect import Effect, EffectCall, RetryPolicy, as_effect, effect_arguments, effect_key
from stepfold.errors import InvalidValueError
from stepfold.values import freeze_params


def _handler(call: EffectCall) -> object:
    return call.attempt


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"max_attempts": 0}, "retry.max_attempts: expected an int >= 1, got 0"),
        ({"max_attempts": True}, "retry.max_attempts: expected an int >= 1, got True"),
        ({"max_attempts": 1.0}, "retry.max_attempts: expected an int >= 1, got 1.0"),
        ({"initial_delay": -0.1}, "retry.initial_delay: expected a number of seconds >= 0, got -0.1"),
        ({"initial_delay": math.inf}, "retry.initial_delay: expected a number of seconds >= 0, got inf"),
        ({"initial_delay": True}, "retry.initial_delay: expected a number of seconds >= 0, got True"),
        ({"initial_delay": "1"}, "retry.initial_delay: expected a number of seconds >= 0, got '1'"),
        ({"max_delay": math.nan}, "retry.max_delay: expected a number of seconds >= 0, got nan"),
        ({"multiplier": 0.99}, "retry.multiplier: expected a number >= 1, got 0.99"),
        ({"multiplier": math.inf}, "retry.multiplier: expected a number >= 1, got inf"),
        ({"multiplier": False}, "retry.multiplier: expected a number >= 1, got False"),
        ({"multiplier": "2"}, "retry.multiplier: expected a number >= 1, got '2'"),
        ({"initial_delay": 10**400}, "retry.initial_delay: expected a number of seconds >= 0, got <int of 1329 bits>"),
        ({"multiplier": 10**400}, "retry.multiplier: expected a number >= 1, got <int of 1329 bits>"),
        ({"retry_on": 3}, "retry.retry_on: expected exception classes, got 3"),
        ({"retry_on": [ValueError, 3]}, "retry.retry_on: expected exception classes, got 3"),
        ({"retry_on": int}, "retry.retry_on: expected exception classes, got <class 'int'>"),
    ],
)
def test_a_retry_policy_refuses_what_is_not_a_limit_naming_the_field(
    arguments: dict[str, object], message: str
) -> None:
    with pytest.raises(InvalidValueError) as info:
        RetryPolicy(**arguments)  # type: ignore[arg-type]
    assert str(info.value) == message


def test_a_retry_policy_accepts_its_boundaries() -> None:
    edge = RetryPolicy(max_attempts=1, initial_delay=0, multiplier=1, max_delay=0, retry_on=ValueError)
    assert (edge.max_attempts, edge.initial_delay, edge.multiplier, edge.max_delay) == (1, 0, 1, 0)
    assert edge.retry_on == (ValueError,)
    assert RetryPolicy(retry_on=[KeyError, OSError]).retry_on == (KeyError, OSError)
    assert RetryPolicy() == RetryPolicy(1, 0.5, 2.0, 30.0, (Exception,))


def test_delay_grows_by_the_multiplier_up_to_max_delay() -> None:
    policy = RetryPolicy(max_attempts=4, initial_delay=0.5, multiplier=2, max_delay=1.5)
    assert [policy.delay(attempt) for attempt in (1, 2, 3, 4)] == [0.5, 1.0, 1.5, 1.5]
    assert RetryPolicy(initial_delay=0).delay(5) == 0.0
    assert RetryPolicy(initial_delay=1, multiplier=10, max_delay=7).delay(5000) == 7.0  # past a float's range
    assert isinstance(RetryPolicy(initial_delay=1, max_delay=3).delay(1), float)


def test_retries_only_a_listed_failure_before_the_last_attempt() -> None:
    policy = RetryPolicy(max_attempts=3, retry_on=(ValueError,))
    assert [policy.retries(ValueError(), attempt) for attempt in (1, 2, 3)] == [True, True, False]
    assert not policy.retries(KeyError(), 1)
    assert not RetryPolicy().retries(ValueError(), 1)  # one attempt: no retry


@pytest.mark.parametrize(
    ("handler", "options", "message"),
    [
        (3, {}, "effect handler: expected a callable taking an EffectCall, got 3"),
        (_handler, {"timeout": 0}, "effect timeout: expected None or a number of seconds > 0, got 0"),
        (_handler, {"timeout": True}, "effect timeout: expected None or a number of seconds > 0, got True"),
        (_handler, {"timeout": math.inf}, "effect timeout: expected None or a number of seconds > 0, got inf"),
        (_handler, {"timeout": "1"}, "effect timeout: expected None or a number of seconds > 0, got '1'"),
        (
            _handler,
            {"timeout": 10**400},
            "effect timeout: expected None or a number of seconds > 0, got <int of 1329 bits>",
        ),
        (_handler, {"retry": 3}, "effect retry: expected a RetryPolicy, got 3"),
    ],
)
def test_an_effect_refuses_what_is_not_a_handler_retry_or_timeout(
    handler: object, options: dict[str, object], message: str
) -> None:
    with pytest.raises(InvalidValueError) as info:
        Effect(handler, **options)  # type: ignore[arg-type]
    assert str(info.value) == message


def test_an_effect_defaults_to_one_attempt_without_a_timeout() -> None:
    effect = Effect(_handler)
    assert (effect.handler, effect.retry, effect.timeout) == (_handler, RetryPolicy(), None)
    assert Effect(_handler, timeout=0.01).timeout == 0.01


def test_as_effect_takes_an_effect_as_is_and_a_bare_handler_as_an_effect() -> None:
    effect = Effect(_handler, timeout=2)
    assert as_effect(effect, "here") is effect
    assert as_effect(_handler, "here") == Effect(_handler)
    with pytest.raises(InvalidValueError) as info:
        as_effect(3, "effects['x']")
    assert str(info.value) == "effects['x']: expected an Effect or a handler function, got 3"


def test_the_key_binds_the_position_and_the_arguments_leave_out_what_is_not_one() -> None:
    assert effect_key("a" * 64, "s") == effect_key("a" * 64, "s")
    assert len({effect_key("a" * 64, "s"), effect_key("b" * 64, "s"), effect_key("a" * 64, "t")}) == 3
    payload = freeze_params({"operation": "record", "effect": "api.call", "input": 1, "url": "u", "n": 2})
    assert dict(effect_arguments(payload)) == {"url": "u", "n": 2}
