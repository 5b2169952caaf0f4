"""The `echo` mission: one runtime step that copies `state[params["payload_key"]]` (or the params) to `state["echo"]`."""

from __future__ import annotations

from stepfold.errors import InvalidValueError
from stepfold.missions.base import Mission
from stepfold.values import Params
from stepfold.workflow import RUNTIME, StepSpec, WorkflowDefinition

__all__ = ["ECHO", "build_echo"]


def build_echo(params: Params) -> WorkflowDefinition:
    """One step: `copy` payload_key -> echo when `payload_key` is given, else `set` echo = params."""
    key = params.get("payload_key")
    if "payload_key" in params and not isinstance(key, str):
        raise InvalidValueError(f"params.payload_key: expected a state key (a string), got {key!r}")
    if isinstance(key, str):
        payload: dict[str, object] = {"operation": "copy", "source": key, "target": "echo"}
    else:
        payload = {"operation": "set", "key": "echo", "value": params}
    return WorkflowDefinition(id="echo", steps=[StepSpec("echo", RUNTIME, payload)], metadata={"mission": "echo"})


ECHO = Mission(build_echo, description="Copy state[payload_key] (or the params) to state['echo'].")
"""The echo mission."""
