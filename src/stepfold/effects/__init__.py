"""`stepfold.effects`: the shell that performs effects and records their outcomes.

A step whose payload names an `"effect"` waits, like a human step, for its
outcome in `ctx.inputs`; `drive` performs it (with the `Effect`'s retries
and timeout), resumes the run with the outcome and saves it, step after
step. The core never performs anything, so a run given every outcome up
front replays, verifies and property-tests without performing a thing.
"""

from stepfold.effect import Effect, EffectCall, Handler, RetryPolicy, effect_key
from stepfold.effects.drive import RunSink, check_effects, drive, drive_mission, next_call
from stepfold.effects.perform import perform
from stepfold.effects.table import DEFAULT_EFFECTS, effects_for, mission_effects

__all__ = [
    "DEFAULT_EFFECTS",
    "Effect",
    "EffectCall",
    "Handler",
    "RetryPolicy",
    "RunSink",
    "check_effects",
    "drive",
    "drive_mission",
    "effect_key",
    "effects_for",
    "mission_effects",
    "next_call",
    "perform",
]
