"""The generic built-in operations: noop, fail, set, delete, merge, increment, append, copy, record."""

from __future__ import annotations

from pyrsistent import PMap, PVector, pvector

from stepfold.canonical import canonical_json
from stepfold.errors import OperationError
from stepfold.messages import format_path
from stepfold.operations.base import argument, describe, is_number, number_argument, str_argument
from stepfold.state import State
from stepfold.workflow import StepSpec

__all__ = ["noop", "fail", "set_value", "delete", "merge", "increment", "append", "copy", "record"]


def noop(state: State, step: StepSpec) -> State:
    """Return the state unchanged."""
    return state


def fail(state: State, step: StepSpec) -> State:
    """Always fail the step; `payload["reason"]` appears in the error message."""
    reason = argument(step, "reason", "failed on purpose (operation 'fail')")
    raise OperationError(reason if isinstance(reason, str) else canonical_json(reason).decode("utf-8"))


def set_value(state: State, step: StepSpec) -> State:
    """Bind `payload["key"]` to `payload["value"]`."""
    return state.set(str_argument(step, "key"), argument(step, "value"))


def delete(state: State, step: StepSpec) -> State:
    """Remove `payload["key"]`; an absent key is a no-op."""
    return state.remove(str_argument(step, "key"))


def merge(state: State, step: StepSpec) -> State:
    """Set every entry of the mapping `payload["values"]`."""
    values = argument(step, "values")
    if not isinstance(values, PMap):
        raise OperationError(f"payload 'values' must be a mapping, got {describe(values)}")
    return state.update(values)


def increment(state: State, step: StepSpec) -> State:
    """Add `payload.get("by", 1)` to the number at `payload["key"]` (absent counts as 0)."""
    key = str_argument(step, "key")
    by = number_argument(step, "by", 1)
    current = state.get(key, 0)
    if not is_number(current):
        raise OperationError(f"{format_path('state', [key])} is {describe(current)}, not a number")
    assert isinstance(current, (int, float))
    return state.set(key, current + by)


def append(state: State, step: StepSpec) -> State:
    """Append `payload["value"]` to the list at `payload["key"]` (absent counts as [])."""
    key = str_argument(step, "key")
    value = argument(step, "value")
    current = state.get(key, pvector())
    if not isinstance(current, PVector):
        raise OperationError(f"{format_path('state', [key])} is {describe(current)}, not a list")
    return state.set(key, current.append(value))


def copy(state: State, step: StepSpec) -> State:
    """Copy the value at `payload["source"]` to `payload["target"]`; an absent source fails the step."""
    source = str_argument(step, "source")
    target = str_argument(step, "target")
    if source not in state:
        raise OperationError(f"{format_path('state', [source])} does not exist, nothing to copy")
    return state.set(target, state[source])


def record(state: State, step: StepSpec) -> State:
    """Store a human step's `payload["input"]` under `payload.get("into", step.id)`."""
    into = str_argument(step, "into", step.id)
    return state.set(into, argument(step, "input"))
