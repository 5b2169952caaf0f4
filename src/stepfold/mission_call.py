"""`MissionCall`: one mission to run by name, with its params, initial state and inputs, all frozen; plain JSON both ways."""

from __future__ import annotations

from collections.abc import Mapping

import attrs

from stepfold.errors import InvalidDocumentError, InvalidValueError
from stepfold.fields import read_record
from stepfold.frozen import thaw
from stepfold.messages import brief_repr
from stepfold.state import State, to_state
from stepfold.values import Params, freeze_map, freeze_params

__all__ = ["MissionCall", "CALL_KEYS"]

CALL_KEYS = ("mission", "params", "state", "inputs")
"""The keys of a call's document; all but `mission` optional."""


def _mission_name(value: object) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidValueError(f"mission: expected a non-empty mission name, got {brief_repr(value)}")
    return value


def _to_state(value: object) -> State:
    return to_state(value, path="state")  # a State is kept as it is: one shared by many calls is hashed once


def _freeze_inputs(value: object) -> Params:
    return freeze_map({} if value is None else value, path="inputs")


@attrs.frozen
class MissionCall:
    """One mission to run: its registered name, params, initial state and inputs (all frozen on construction).

    `state` is a `State` (a mapping given is frozen and hashed once, here; a
    `State` given is kept as it is, so many calls can share one).

    Values outside the I-JSON domain raise `InvalidValueError` naming the
    path (`state.tasks[3].due: nan is not allowed`); whether the mission
    exists, and accepts these params and inputs, is decided when it runs.
    """

    mission: str = attrs.field(converter=_mission_name)
    params: Params = attrs.field(factory=dict, converter=freeze_params)
    state: State = attrs.field(factory=State, converter=_to_state)
    inputs: Params = attrs.field(factory=dict, converter=_freeze_inputs)

    def to_dict(self) -> dict[str, object]:
        """Plain JSON data: `{"inputs", "mission", "params", "state"}`, keys sorted at every level."""
        return {
            "inputs": thaw(self.inputs),
            "mission": self.mission,
            "params": thaw(self.params),
            "state": self.state.to_dict(),
        }

    @classmethod
    def from_dict(cls, document: object) -> MissionCall:
        """The call a `{"mission", "params"?, "state"?, "inputs"?}` object describes; other keys are refused.

        A document that is not one raises `InvalidDocumentError` (an `InvalidValueError`) naming the field.
        """
        call: Mapping[str, object] = read_record(document, "call", CALL_KEYS)
        if "mission" not in call:
            raise InvalidDocumentError("call.mission: missing (the name of a registered mission)")
        try:
            return cls(call["mission"], call.get("params"), call.get("state"), call.get("inputs"))
        except InvalidValueError as exc:  # each names its field (`params.x: ...`): here a field of the call
            raise InvalidDocumentError(f"call.{exc}") from None
