"""Pure operations `(State, StepSpec) -> State` and the default table of them."""

from stepfold.operations.base import Operation, Operations, argument, number_argument, str_argument
from stepfold.operations.table import DEFAULT_OPERATIONS

__all__ = [
    "DEFAULT_OPERATIONS",
    "Operation",
    "Operations",
    "argument",
    "number_argument",
    "str_argument",
]
