"""`MISSION_REGISTRY`, `register_mission` and `run_mission`: missions by name, looked up at call time."""

from __future__ import annotations

from collections.abc import Mapping

from pyrsistent import PMap, pmap

from stepfold.builder import MissionSpec, build_workflow, lookup_builder
from stepfold.engine import run_workflow
from stepfold.errors import InvalidValueError, UnknownMissionError
from stepfold.missions.base import Builder, Mission
from stepfold.missions.catalog import MISSION_REGISTRY
from stepfold.operations import DEFAULT_OPERATIONS
from stepfold.operations.base import Operation
from stepfold.policy import TIER2_POLICY, Policy
from stepfold.result import OrchestrationResult
from stepfold.values import brief_repr
from stepfold.workflow import ExecutionContext

__all__ = [
    "MISSION_REGISTRY",
    "UnknownMissionError",
    "register_mission",
    "run_mission",
    "mission_operations",
]


def register_mission(
    name: str,
    builder: Builder,
    *,
    operations: Mapping[str, Operation] | None = None,
    replace: bool = False,
) -> Mission:
    """Register a mission (and the operations its workflows need) under `name`, without editing the library.

    Refuses to overwrite an existing name unless `replace=True`. Returns the registered `Mission`.
    """
    if not isinstance(name, str) or not name:
        raise InvalidValueError(f"mission name: expected a non-empty string, got {brief_repr(name)}")
    if not callable(builder):
        raise InvalidValueError(f"mission {name!r}: builder must be callable, got {type(builder).__name__}")
    if name in MISSION_REGISTRY and not replace:
        raise InvalidValueError(f"mission {name!r} is already registered; pass replace=True to replace it")
    own = builder.operations if isinstance(builder, Mission) else pmap()
    mission = Mission(builder, own + pmap(operations or {}))
    MISSION_REGISTRY[name] = mission
    return mission


def mission_operations(name: str, base: Mapping[str, Operation] = DEFAULT_OPERATIONS) -> PMap[str, Operation]:
    """`base` plus the operations the mission registered under `name` brings (its own win on a clash)."""
    builder = lookup_builder(name)
    own = builder.operations if isinstance(builder, Mission) else pmap()
    return pmap(base) + own


def run_mission(
    name: str,
    ctx: ExecutionContext | None = None,
    params: Mapping[str, object] | None = None,
    *,
    policy: Policy = TIER2_POLICY,
    operations: Mapping[str, Operation] | None = None,
) -> OrchestrationResult:
    """Look the mission up now, build it with `params` and run it on `ctx`.

    Operations are `operations` (default `DEFAULT_OPERATIONS`) plus the
    mission's own. Unknown name -> `UnknownMissionError` listing the available names.
    """
    table = mission_operations(name, DEFAULT_OPERATIONS if operations is None else operations)
    workflow = build_workflow(MissionSpec(name, params), policy=policy)
    return run_workflow(workflow, ctx, policy=policy, operations=table)
