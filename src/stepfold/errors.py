"""The one hierarchy of stepfold errors; every message names what was wrong and where."""

from __future__ import annotations

__all__ = [
    "StepfoldError",
    "InvalidValueError",
    "EnvelopeViolation",
    "AntiFailureViolation",
    "AntiFailurePlanningError",
    "UnknownMissionError",
    "OperationError",
    "InvalidDocumentError",
    "StoreError",
    "RunNotFoundError",
]


class StepfoldError(Exception):
    """Base of every error stepfold raises on purpose."""


class InvalidValueError(StepfoldError, ValueError):
    """A value outside the I-JSON domain, or a malformed argument; the message starts with its path."""


class EnvelopeViolation(StepfoldError):
    """A workflow uses a step kind or an operation that the policy or operation table does not allow."""


class AntiFailureViolation(StepfoldError):
    """A workflow has more steps, or more human steps, than the policy allows."""


class AntiFailurePlanningError(AntiFailureViolation):
    """A mission builder produced a workflow the policy refuses (caught at planning, before any run)."""


class UnknownMissionError(StepfoldError, LookupError, ValueError):
    """No mission of that name is registered; the message lists the available names.

    It is a LookupError (for `run_mission`) and a ValueError (for `build_workflow`,
    whose contract is to raise ValueError for an unknown type).
    """


class OperationError(StepfoldError):
    """Raised by an operation to fail its step cleanly; the engine records the message."""


class InvalidDocumentError(InvalidValueError):
    """A serialised result (from `to_dict`) that cannot be read back; the message names the field."""


class StoreError(StepfoldError):
    """A run store that cannot be opened or read: not a stepfold store, a newer format, corrupt data."""


class RunNotFoundError(StoreError, LookupError):
    """No run with that id (or id prefix) in the store; the message names the id."""
