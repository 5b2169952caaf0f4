"""Missions from other installed packages, through the entry-point group `stepfold.missions`.

A package declares, in its pyproject.toml:

    [project.entry-points."stepfold.missions"]
    invoice = "my_package.missions:INVOICE"

where `INVOICE` is a `stepfold.Mission` (a builder plus its operations) or
a plain builder function `params -> WorkflowDefinition`.
"""

from __future__ import annotations

from importlib.metadata import entry_points

from stepfold.errors import StepfoldError
from stepfold.missions.base import Mission
from stepfold.missions.catalog import MISSION_REGISTRY

__all__ = ["ENTRY_POINT_GROUP", "discover_missions"]

ENTRY_POINT_GROUP = "stepfold.missions"
"""The entry-point group other packages register missions under."""


def discover_missions() -> list[str]:
    """Add every installed package's missions to `MISSION_REGISTRY` (names already taken are left alone).

    Returns the names added. A mission that cannot be loaded raises `StepfoldError` naming the entry point.
    """
    added = []
    for point in entry_points(group=ENTRY_POINT_GROUP):
        if point.name in MISSION_REGISTRY:
            continue
        try:
            loaded = point.load()
        except Exception as exc:  # a broken plugin must be named, not crash the CLI with a traceback
            raise StepfoldError(f"mission {point.name!r} from {point.value!r} cannot be loaded: {type(exc).__name__}: {exc}") from None
        if not callable(loaded):
            raise StepfoldError(f"mission {point.name!r} from {point.value!r} is not a Mission or a builder function")
        MISSION_REGISTRY[point.name] = loaded if isinstance(loaded, Mission) else Mission(loaded)
        added.append(point.name)
    return added
