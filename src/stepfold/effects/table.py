"""`DEFAULT_EFFECTS` (the built-in effects by name) and `mission_effects`, the effects a mission's runs perform."""

from __future__ import annotations

from pyrsistent import PMap, pmap

from stepfold.effect import Effect
from stepfold.effects.testrun import discover_tests, run_tests
from stepfold.missions.catalog import MISSION_REGISTRY
from stepfold.registry import lookup_mission
from stepfold.workflow import WorkflowDefinition

__all__ = ["DEFAULT_EFFECTS", "mission_effects", "effects_for"]

DEFAULT_EFFECTS: PMap[str, Effect] = pmap(
    {
        "tests.discover": Effect(discover_tests),
        "tests.run": Effect(run_tests),
    }
)
"""The built-in effects: `tests.discover` and `tests.run` (the `run_tests` mission's)."""


def mission_effects(name: str, base: PMap[str, Effect] = DEFAULT_EFFECTS) -> PMap[str, Effect]:
    """`base` plus the effects the mission registered under `name` brings (its own win on a clash)."""
    return base + lookup_mission(name).effects


def effects_for(workflow: WorkflowDefinition, base: PMap[str, Effect] = DEFAULT_EFFECTS) -> PMap[str, Effect]:
    """The effects a run of `workflow` performs: `base` plus its mission's own, when that mission is registered here."""
    mission = workflow.metadata.get("mission")
    if isinstance(mission, str) and mission in MISSION_REGISTRY:
        return mission_effects(mission, base)
    return base
