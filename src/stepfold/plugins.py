"""Missions from other installed packages, through the entry-point group `stepfold.missions`.

A package declares, in its pyproject.toml:

    [project.entry-points."stepfold.missions"]
    invoice = "my_package.missions:INVOICE"

where `INVOICE` is a `stepfold.Mission` (a builder plus its operations) or
a plain builder function `params -> WorkflowDefinition`.
"""

from __future__ import annotations

from importlib.metadata import entry_points

import attrs

from stepfold.errors import StepfoldError
from stepfold.missions.base import Mission
from stepfold.missions.catalog import MISSION_REGISTRY
from stepfold.values import Params
from stepfold.workflow import WorkflowDefinition

__all__ = ["ENTRY_POINT_GROUP", "discover_missions"]

ENTRY_POINT_GROUP = "stepfold.missions"
"""The entry-point group other packages register missions under."""


def discover_missions() -> list[str]:
    """Add every installed package's missions to `MISSION_REGISTRY` (names already taken are left alone).

    Returns the names added. A mission that cannot be loaded is registered as
    broken: listing it shows the reason, and building it raises `StepfoldError`
    naming the entry point, so one broken plugin never breaks other commands.
    """
    added = []
    for point in entry_points(group=ENTRY_POINT_GROUP):
        if point.name in MISSION_REGISTRY:
            continue
        try:
            loaded = point.load()
            problem = None if callable(loaded) else "is not a Mission or a builder function"
        except Exception as exc:  # a broken plugin must be named, not crash every command
            loaded, problem = None, f"cannot be loaded: {type(exc).__name__}: {exc}"
        if problem is not None:
            message = f"mission {point.name!r} from {point.value!r} {problem}"
            MISSION_REGISTRY[point.name] = Mission(_Unloadable(message), description=f"(broken: {problem})")
        else:
            MISSION_REGISTRY[point.name] = loaded if isinstance(loaded, Mission) else Mission(loaded)
        added.append(point.name)
    return added


@attrs.frozen
class _Unloadable:
    """Stands in for a plugin mission that failed to load: building it raises the reason."""

    message: str

    def __call__(self, params: Params) -> WorkflowDefinition:
        raise StepfoldError(self.message)
