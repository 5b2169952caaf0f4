"""The `daily_loop` mission: summarise yesterday, generate priorities, confirm them (human), log the day."""

from __future__ import annotations

from stepfold.errors import InvalidValueError
from stepfold.frozen import thaw
from stepfold.messages import brief_repr
from stepfold.missions.base import Mission, int_param, param
from stepfold.operations.daily import DEFAULT_MAX_PRIORITIES, read_day
from stepfold.values import Params
from stepfold.workflow import HUMAN, RUNTIME, StepSpec, WorkflowDefinition

__all__ = ["DAILY_LOOP", "build_daily_loop", "CONFIRM_STEP"]

CONFIRM_STEP = "daily-confirm-priorities"
"""The id of the daily loop's human step."""


def _date(params: Params) -> str | None:
    value = param(params, "date", None)
    if value is None:
        return None
    if read_day(value) is None:
        raise InvalidValueError(f'params.date: expected a date "YYYY-MM-DD", got {brief_repr(thaw(value))}')
    return str(value)


def build_daily_loop(params: Params) -> WorkflowDefinition:
    """Four steps, one human; reads `params["date"]` (optional) and `params["max_priorities"]` (default 3)."""
    date = _date(params)
    dated = {} if date is None else {"date": date}
    limit = int_param(params, "max_priorities", DEFAULT_MAX_PRIORITIES)
    return WorkflowDefinition(
        id="daily_loop",
        steps=[
            StepSpec("daily-summarise-yesterday", RUNTIME, {"operation": "daily.summarise", **dated}),
            StepSpec("daily-generate-priorities", RUNTIME, {"operation": "daily.prioritise", "max_priorities": limit}),
            StepSpec(CONFIRM_STEP, HUMAN, {"operation": "daily.confirm"}),
            StepSpec("daily-log-summary", RUNTIME, {"operation": "daily.log", **dated}),
        ],
        metadata={"mission": "daily_loop"},
    )


DAILY_LOOP = Mission(
    build_daily_loop, description="Summarise yesterday, pick today's priorities, confirm them, log the day."
)
"""The daily loop mission (its operations are built in)."""
