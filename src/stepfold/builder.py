"""`MissionSpec` and `build_workflow`: a mission name and params in, a checked workflow out."""

from __future__ import annotations

import contextlib
from collections import OrderedDict

import attrs

from stepfold.errors import (
    AntiFailurePlanningError,
    AntiFailureViolation,
    EnvelopeViolation,
    InvalidValueError,
    UnknownMissionError,
)
from stepfold.frozen import thaw
from stepfold.messages import brief_repr
from stepfold.missions.base import Builder
from stepfold.missions.catalog import MISSION_REGISTRY
from stepfold.policy import TIER2_POLICY, Policy, check_workflow
from stepfold.values import Params, freeze_params
from stepfold.workflow import WorkflowDefinition

__all__ = ["MissionSpec", "build_workflow", "lookup_builder", "stamp_mission"]


def _mission_type(value: object) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidValueError(f"mission type: expected a non-empty string, got {brief_repr(value)}")
    return value


@attrs.frozen
class MissionSpec:
    """A mission to build: its registered `type` (name) and `params` (frozen; all kept in the workflow's metadata)."""

    type: str = attrs.field(converter=_mission_type)
    params: Params = attrs.field(factory=dict, converter=freeze_params)


def lookup_builder(name: str) -> Builder:
    """The builder registered under `name` in `MISSION_REGISTRY` now; `UnknownMissionError` listing the names otherwise."""
    try:
        builder = MISSION_REGISTRY[name]
    except (KeyError, TypeError):
        known = sorted(str(key) for key in MISSION_REGISTRY)
        raise UnknownMissionError(f"unknown mission {brief_repr(name)}; available missions: {known}") from None
    if not callable(builder):
        raise InvalidValueError(
            f"mission {brief_repr(name)}: MISSION_REGISTRY holds {brief_repr(builder)} ({type(builder).__name__}), "
            "not a builder (a callable taking params and returning a WorkflowDefinition)"
        )
    return builder


def stamp_mission(workflow: WorkflowDefinition, mission: str, params: Params) -> WorkflowDefinition:
    """The workflow with `metadata["mission"] = mission` and `metadata["params"] = params`, as `build_workflow` returns it."""
    return WorkflowDefinition(
        id=workflow.id,
        steps=workflow.steps,
        metadata=workflow.metadata.set("mission", mission).set("params", params),
    )


BUILT_CACHE = 256
"""How many built workflows `build_workflow` remembers (by mission, builder, exact params and policy)."""

_built: OrderedDict[tuple[str, object, str, Policy], WorkflowDefinition] = OrderedDict()


def build_workflow(spec: MissionSpec, *, policy: Policy = TIER2_POLICY) -> WorkflowDefinition:
    """Build the workflow for a mission spec, purely and deterministically, and check it against `policy`.

    Every param is kept in `metadata["params"]`, and the mission's name in `metadata["mission"]`. An unknown type raises
    `UnknownMissionError` (a `ValueError` naming the known types); a workflow
    beyond the policy raises `AntiFailurePlanningError`.

    A builder is a pure function of its params, so the workflow built for
    the same mission, builder, params and policy is remembered and returned
    again (it is immutable): the params are keyed by their exact content
    (`1`, `1.0` and `True` apart), never by the object a caller passed, and
    replacing the builder in `MISSION_REGISTRY` builds anew.
    """
    if not isinstance(spec, MissionSpec):
        raise InvalidValueError(f"spec: expected a MissionSpec, got {type(spec).__name__}")
    builder = lookup_builder(spec.type)
    key = (spec.type, builder, repr(thaw(spec.params)), policy)
    try:
        known = _built.get(key)
    except TypeError:  # a builder that cannot be hashed is built every time
        return _build(spec, builder, policy)
    if known is not None:
        with contextlib.suppress(KeyError):  # another thread may have evicted it meanwhile
            _built.move_to_end(key)
        return known
    workflow = _build(spec, builder, policy)
    _built[key] = workflow
    while len(_built) > BUILT_CACHE:
        with contextlib.suppress(KeyError):
            _built.popitem(last=False)
    return workflow


def _build(spec: MissionSpec, builder: Builder, policy: Policy) -> WorkflowDefinition:
    workflow = builder(spec.params)
    if not isinstance(workflow, WorkflowDefinition):
        raise InvalidValueError(
            f"mission {spec.type!r}: its builder returned {type(workflow).__name__}, not a WorkflowDefinition"
        )
    workflow = stamp_mission(workflow, spec.type, spec.params)
    try:
        check_workflow(workflow, policy, None)
    except (AntiFailureViolation, EnvelopeViolation) as exc:
        raise AntiFailurePlanningError(f"mission {spec.type!r} plans beyond the policy: {exc}") from None
    return workflow
