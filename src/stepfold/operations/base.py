"""The operation type and the payload-argument readers every operation uses."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from pyrsistent import PMap, PVector

from stepfold.errors import InvalidValueError, OperationError
from stepfold.state import State
from stepfold.values import Value
from stepfold.workflow import StepSpec

__all__ = [
    "Operation",
    "Operations",
    "require_operations",
    "argument",
    "str_argument",
    "number_argument",
    "is_number",
    "describe",
]

Operation = Callable[[State, StepSpec], State]
"""A pure step function: the state before and the step in, the state after out."""

Operations = PMap[str, Operation]
"""A persistent table of operations by name."""

_MISSING = object()


def require_operations(value: object) -> Mapping[str, Operation]:
    """`value` when it is a mapping (of names to operations), else `InvalidValueError` naming the argument."""
    if not isinstance(value, Mapping):
        raise InvalidValueError(f"operations: expected a mapping of names to operations, got {type(value).__name__}")
    return value


def argument(step: StepSpec, name: str, default: object = _MISSING) -> Value:
    """`step.payload[name]`, or `default`; `OperationError` naming the argument when it is required and absent."""
    if name in step.payload:
        return step.payload[name]
    if default is _MISSING:
        raise OperationError(f"payload needs {name!r}")
    return default  # type: ignore[return-value]


def str_argument(step: StepSpec, name: str, default: object = _MISSING) -> str:
    """A string argument; `OperationError` when absent (and required) or not a string."""
    value = argument(step, name, default)
    if not isinstance(value, str):
        raise OperationError(f"payload {name!r} must be a string, got {describe(value)}")
    return value


def is_number(value: object) -> bool:
    """True for JSON numbers (int or float), false for bool."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def number_argument(step: StepSpec, name: str, default: object = _MISSING) -> int | float:
    """A numeric (non-bool) argument; `OperationError` when absent (and required) or not a number."""
    value = argument(step, name, default)
    if not is_number(value):
        raise OperationError(f"payload {name!r} must be a number, got {describe(value)}")
    assert isinstance(value, (int, float))
    return value


def describe(value: object) -> str:
    """A short description of a value for error messages: its kind, and the value when it is a scalar."""
    if isinstance(value, PMap):
        return "a mapping"
    if isinstance(value, PVector):
        return "a list"
    return f"{type(value).__name__} {value!r}"
