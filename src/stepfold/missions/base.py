"""`Mission`: a builder `params -> WorkflowDefinition` together with the operations and effects its workflows need."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import attrs
from pyrsistent import PMap, PVector, pmap

from stepfold.effect import Effect, as_effect
from stepfold.errors import InvalidValueError
from stepfold.frozen import thaw
from stepfold.messages import brief_repr
from stepfold.operations.base import Operation, require_operations
from stepfold.values import Params, Value
from stepfold.workflow import WorkflowDefinition

__all__ = ["Builder", "Mission", "param", "int_param", "str_list_param"]

Builder = Callable[[Params], WorkflowDefinition]
"""A pure, deterministic function from frozen params to a workflow."""


def _freeze_operations(value: object) -> PMap[str, Operation]:
    if value is None:
        return pmap()
    table = require_operations(value)
    for name, operation in table.items():
        if not isinstance(name, str) or not callable(operation):
            raise InvalidValueError(f"operations[{brief_repr(name)}]: expected a callable under a string name")
    return pmap(table)


def _freeze_effects(value: object) -> PMap[str, Effect]:
    if value is None:
        return pmap()
    if not isinstance(value, Mapping):
        raise InvalidValueError(f"effects: expected a mapping of effect names to Effects, got {type(value).__name__}")
    table: dict[str, Effect] = {}
    for name, effect in value.items():
        if not isinstance(name, str) or not name:
            raise InvalidValueError(f"effects: effect names are non-empty strings, got {name!r}")
        table[name] = as_effect(effect, f"effects[{name!r}]")
    return pmap(table)


def _summary_line(doc: str | None) -> str:
    """The first line of a docstring, stripped (`""` when there is none)."""
    lines = (doc or "").strip().splitlines()
    return lines[0].strip() if lines else ""


def _builder_summary(mission: Mission) -> str:
    return _summary_line(getattr(mission.builder, "__doc__", None))


@attrs.frozen
class Mission:
    """A mission: `builder(params) -> workflow`, plus operations and effects added to the defaults when it runs.

    `Mission(builder, operations, description, effects=...)`, as DESIGN.md
    writes it; `mission.build` is the same builder under its older name.

    A `Mission` is itself a builder (calling it builds), so it can stand in
    `MISSION_REGISTRY` wherever a plain builder function can. `effects` maps
    the effect names its workflows' effect steps use to `Effect`s (or bare
    handlers); the shell (`stepfold.effects.drive`, the CLI) performs them.
    `description` (what `stepfold missions` shows) defaults to the first line
    of the builder's docstring.
    """

    builder: Builder
    operations: PMap[str, Operation] = attrs.field(factory=pmap, converter=_freeze_operations)
    description: str = attrs.field(default=attrs.Factory(_builder_summary, takes_self=True))
    effects: PMap[str, Effect] = attrs.field(factory=pmap, converter=_freeze_effects, kw_only=True)

    @property
    def build(self) -> Builder:
        """The builder, under its older name (`builder` is the one DESIGN.md gives)."""
        return self.builder

    def __call__(self, params: Params) -> WorkflowDefinition:
        """Build the workflow for these params."""
        return self.builder(params)


_MISSING = object()


def param(params: Params, name: str, default: object = _MISSING) -> Value:
    """`params[name]`, or `default`; `InvalidValueError` naming `params.name` when required and absent."""
    if name in params:
        return params[name]
    if default is _MISSING:
        raise InvalidValueError(f"params.{name}: missing")
    return default  # type: ignore[return-value]


def int_param(params: Params, name: str, default: int, *, minimum: int = 0) -> int:
    """A non-bool int param of at least `minimum`; `InvalidValueError` naming it otherwise."""
    value = param(params, name, default)
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise InvalidValueError(f"params.{name}: expected an int >= {minimum}, got {brief_repr(thaw(value))}")
    return value


def str_list_param(params: Params, name: str, default: list[str]) -> list[str]:
    """A list-of-strings param; `InvalidValueError` naming it otherwise."""
    value = param(params, name, default)
    if not isinstance(value, (PVector, list)):
        raise InvalidValueError(f"params.{name}: expected a list of strings, got {brief_repr(thaw(value))}")
    items = []
    for index, item in enumerate(value):
        if not isinstance(item, str):
            raise InvalidValueError(f"params.{name}[{index}]: expected a string, got {brief_repr(thaw(item))}")
        items.append(item)
    return items
