"""`MISSION_REGISTRY`, `register_mission` and `run_mission`: missions by name, looked up at call time."""

from __future__ import annotations

from collections.abc import Mapping

import attrs
from pyrsistent import PMap, pmap

from stepfold.builder import MissionSpec, build_workflow, lookup_builder
from stepfold.effect import Effect, Handler
from stepfold.engine import run_workflow
from stepfold.errors import AntiFailureViolation, EnvelopeViolation, InvalidValueError, UnknownMissionError
from stepfold.messages import brief_repr
from stepfold.missions.base import Builder, Mission
from stepfold.missions.catalog import MISSION_REGISTRY
from stepfold.operations import DEFAULT_OPERATIONS
from stepfold.operations.base import Operation, require_operations
from stepfold.policy import TIER2_POLICY, Policy
from stepfold.result import OrchestrationResult
from stepfold.workflow import ExecutionContext, WorkflowDefinition

__all__ = [
    "MISSION_REGISTRY",
    "UnknownMissionError",
    "AntiFailureViolation",
    "EnvelopeViolation",
    "register_mission",
    "run_mission",
    "lookup_mission",
    "mission_operations",
    "operations_for",
]


def register_mission(
    name: str,
    builder: Builder,
    *,
    operations: Mapping[str, Operation] | None = None,
    effects: Mapping[str, Effect | Handler] | None = None,
    replace: bool = False,
) -> Mission:
    """Register a mission (and the operations and effects its workflows need) under `name`, without editing the library.

    Refuses to overwrite an existing name unless `replace=True`. Returns the registered `Mission`.
    """
    if not isinstance(name, str) or not name:
        raise InvalidValueError(f"mission name: expected a non-empty string, got {brief_repr(name)}")
    if not callable(builder):
        raise InvalidValueError(f"mission {name!r}: builder must be callable, got {type(builder).__name__}")
    if name in MISSION_REGISTRY and not replace:
        raise InvalidValueError(f"mission {name!r} is already registered; pass replace=True to replace it")
    given = builder if isinstance(builder, Mission) else Mission(builder)
    extra = Mission(given.builder, operations, effects=effects)  # the same checks a Mission makes of its own
    mission = attrs.evolve(
        given, operations=given.operations + extra.operations, effects={**given.effects, **extra.effects}
    )
    MISSION_REGISTRY[name] = mission
    return mission


def lookup_mission(name: str) -> Mission:
    """The mission registered under `name` now (a plain builder as a `Mission` without operations or effects).

    `UnknownMissionError` listing the available names when there is none.
    """
    builder = lookup_builder(name)
    return builder if isinstance(builder, Mission) else Mission(builder)


def mission_operations(name: str, base: Mapping[str, Operation] = DEFAULT_OPERATIONS) -> PMap[str, Operation]:
    """`base` plus the operations the mission registered under `name` brings (its own win on a clash)."""
    require_operations(base)
    own = lookup_mission(name).operations
    table = base if isinstance(base, PMap) else pmap(base)
    return table + own if own else table


def operations_for(
    workflow: WorkflowDefinition, base: Mapping[str, Operation] = DEFAULT_OPERATIONS
) -> PMap[str, Operation]:
    """The operations a run of `workflow` needs: `base` plus its mission's own, when that mission is registered here.

    The mission is the one `build_workflow` named in `workflow.metadata["mission"]`;
    a workflow of no registered mission gets `base`. This is how the CLI finds
    the operations to resume or verify a stored run, and how you can too.
    """
    mission = workflow.metadata.get("mission")
    if isinstance(mission, str) and mission in MISSION_REGISTRY:
        return mission_operations(mission, base)
    return pmap(base)


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
