"""Effect outcomes: what the shell recorded for an effect step, in the normative shape the core reads.

An effect step's input (`ctx.inputs[step.id]`) is one of two plain values,
part of the receipt format (docs/receipt-format.md):

- `{"ok": true, "value": V, "attempts": n}`: the effect succeeded with the
  value V after n attempts; the step's operation runs with `payload["input"] = V`;
- `{"ok": false, "error": {"type": T, "message": M}, "attempts": n}`: every
  attempt failed, the last with the error T: M; the step fails without
  running its operation.

`n` is an int >= 1. Anything else is refused with `InvalidValueError`.
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs
from pyrsistent import PMap

from stepfold.errors import InvalidValueError
from stepfold.frozen import thaw
from stepfold.messages import brief_repr
from stepfold.values import Params, Value, freeze, freeze_map

__all__ = ["EffectOutcome", "ok_outcome", "failed_outcome", "read_outcome", "OUTCOME_SHAPES"]

OUTCOME_SHAPES = (
    '{"ok": true, "value": V, "attempts": n} or {"ok": false, "error": {"type": T, "message": M}, "attempts": n}'
)
"""The two shapes an effect outcome may take, as error messages quote them."""

_OK_KEYS = frozenset({"ok", "value", "attempts"})
_FAILED_KEYS = frozenset({"ok", "error", "attempts"})
_ERROR_KEYS = frozenset({"type", "message"})


@attrs.frozen
class EffectOutcome:
    """A recorded effect outcome, read: `ok`, the `value` (when ok), the error's type and message (when not), `attempts`."""

    ok: bool
    value: Value
    error_type: str | None
    error_message: str | None
    attempts: int

    def describe(self) -> str:
        """`ok after 1 attempt` or `failed after 3 attempts: TimeoutError: ...`, for people."""
        tries = f"{self.attempts} attempt{'s' if self.attempts != 1 else ''}"
        if self.ok:
            return f"ok after {tries}"
        return f"failed after {tries}: {self.error_type}: {self.error_message}"


def _attempts(value: object) -> int:
    if type(value) is not int or value < 1:
        raise InvalidValueError(f"attempts: expected an int >= 1, got {brief_repr(value)}")
    return value


def ok_outcome(value: object, *, attempts: int = 1) -> Params:
    """The outcome of an effect that succeeded: `{"ok": true, "value": freeze(value), "attempts": attempts}`."""
    return freeze_map(
        {"ok": True, "value": freeze(value, path="value"), "attempts": _attempts(attempts)}, path="outcome"
    )


def failed_outcome(error_type: str, message: str, *, attempts: int = 1) -> Params:
    """The outcome of an effect whose last attempt failed: `{"ok": false, "error": {"type", "message"}, "attempts"}`."""
    if not isinstance(error_type, str) or not error_type:
        raise InvalidValueError(
            f"error type: expected a non-empty string (e.g. 'TimeoutError'), got {brief_repr(error_type)}"
        )
    if not isinstance(message, str):
        raise InvalidValueError(f"error message: expected a string, got {brief_repr(message)}")
    return freeze_map(
        {"ok": False, "error": {"type": error_type, "message": message}, "attempts": _attempts(attempts)},
        path="outcome",
    )


def read_outcome(value: Value, where: str) -> EffectOutcome:
    """Read a recorded outcome; `InvalidValueError` starting with `where` and saying what is wrong otherwise.

    A recorded outcome is frozen already; plain data (a caller's dict) is frozen first, so its value is
    held to the value domain too.
    """
    if not isinstance(value, PMap):
        value = freeze(value, path=where)
    problem = _problem(value)
    if problem is not None:
        raise InvalidValueError(f"{where}: an effect outcome must be {OUTCOME_SHAPES}; {problem}")
    assert isinstance(value, PMap)
    attempts = value["attempts"]
    assert isinstance(attempts, int)
    if value["ok"] is True:
        return EffectOutcome(True, value["value"], None, None, attempts)
    error = value["error"]
    assert isinstance(error, PMap)
    return EffectOutcome(False, None, str(error["type"]), str(error["message"]), attempts)


def _problem(value: Value) -> str | None:
    if not isinstance(value, Mapping):
        return f"got {brief_repr(thaw(value))}"
    ok = value.get("ok")
    if ok is not True and ok is not False:
        return f'"ok" must be true or false, got {brief_repr(ok)}'
    keys = _OK_KEYS if ok else _FAILED_KEYS
    missing = sorted(keys - set(value))
    if missing:
        return f"missing {', '.join(map(repr, missing))}"
    extra = sorted(set(value) - keys)
    if extra:
        return f"unexpected {', '.join(map(brief_repr, extra))}"
    attempts = value["attempts"]
    if type(attempts) is not int or attempts < 1:
        return f'"attempts" must be an int >= 1, got {brief_repr(attempts)}'
    if ok:
        return None
    error = value["error"]
    if not isinstance(error, Mapping) or set(error) != _ERROR_KEYS:
        return f'"error" must be {{"type": T, "message": M}}, got {brief_repr(thaw(error))}'
    if not isinstance(error["type"], str) or not error["type"]:
        return f'"error.type" must be a non-empty string, got {brief_repr(error["type"])}'
    if not isinstance(error["message"], str):
        return f'"error.message" must be a string, got {brief_repr(error["message"])}'
    return None
