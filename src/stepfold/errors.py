"""The one hierarchy of stepfold errors; every message names what was wrong and where."""

from __future__ import annotations

__all__ = [
    "StepfoldError",
    "InvalidValueError",
    "InvalidInputError",
    "EnvelopeViolation",
    "AntiFailureViolation",
    "AntiFailurePlanningError",
    "UnknownMissionError",
    "OperationError",
    "InvalidDocumentError",
    "UnsupportedDocumentError",
    "StoreError",
    "RunNotFoundError",
    "TamperedRunError",
    "AlreadyResumedError",
]


class StepfoldError(Exception):
    """Base of every error stepfold raises on purpose."""


class InvalidValueError(StepfoldError, ValueError):
    """A value outside the I-JSON domain, or a malformed argument; the message starts with its path."""


class InvalidInputError(InvalidValueError):
    """A person's input (or a hand-given effect outcome) that its step cannot read: refused, never recorded.

    An operation raises it for an input of the wrong type or shape; `run_workflow`
    and `resume` raise it naming the step, so the run stays where it was.
    """


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


class UnsupportedDocumentError(InvalidDocumentError):
    """A well-formed document this stepfold cannot interpret as it was meant (e.g. a format-1 step with an `effect` argument)."""


class StoreError(StepfoldError):
    """A run store that cannot be opened or read: not a stepfold store, a newer format, corrupt data."""


class RunNotFoundError(StoreError, LookupError):
    """No run with that id (or id prefix) in the store; the message names the id."""


class TamperedRunError(StoreError):
    """A stored run that is not the run its id names (its receipt does not end at that id, or its record breaks its chain)."""


class AlreadyResumedError(StoreError):
    """A suspended run that already has a continuation: resuming it again needs `fork`; the message names the continuation."""
