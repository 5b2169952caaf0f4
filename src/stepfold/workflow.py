"""What a run is made of: `StepSpec`, `WorkflowDefinition` and `ExecutionContext`, all frozen values."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterable, Mapping

import attrs
from pyrsistent import pmap

from stepfold.canonical import canonical_json, plain_json
from stepfold.collector import map_set, untrack, untrack_record
from stepfold.errors import InvalidValueError
from stepfold.frozen import thaw
from stepfold.messages import brief_repr
from stepfold.state import State, to_state
from stepfold.values import Params, Value, freeze, freeze_map, freeze_map_plain

__all__ = ["StepSpec", "WorkflowDefinition", "ExecutionContext", "HUMAN", "RUNTIME"]

HUMAN = "human"
"""The step kind that waits for a person's input."""

RUNTIME = "runtime"
"""The step kind that runs its operation straight away."""


def _require_str(value: object, where: str) -> str:
    if not isinstance(value, str):
        raise InvalidValueError(f"{where}: expected a string, got {type(value).__name__} {brief_repr(value)}")
    frozen = freeze(value, path=where)
    assert isinstance(frozen, str)
    return frozen


@attrs.frozen(init=False)
class StepSpec:
    """One step: an `id`, a `kind` ("runtime" or "human" under the default policy) and a `payload`.

    `payload["operation"]` names the operation the step runs; the other keys
    are its arguments. `payload["effect"]` (a non-empty string, on a step that
    is not human) makes it an effect step: the shell performs that effect and
    the step runs on its recorded outcome. The payload is frozen on
    construction, so plain dicts may be passed and are never kept.
    """

    id: str
    kind: str
    payload: Params

    def __attrs_post_init__(self) -> None:
        untrack_record(self, StepSpec)  # frozen parts only: nothing for the collector to walk (stepfold.collector)

    def __init__(self, id: str, kind: str, payload: Mapping[str, object] | None = None) -> None:
        step_id = _require_str(id, "step id")
        where = f"step {step_id!r}"
        step_kind = _require_str(kind, f"{where} kind")
        given = {} if payload is None else payload
        frozen, plain = freeze_map_plain(given, path=f"{where} payload")
        operation = frozen.get("operation")
        if "operation" in frozen and not isinstance(operation, str):
            raise InvalidValueError(
                f"{where} payload.operation: expected an operation name (a string), got {operation!r}"
            )
        effect = frozen.get("effect")
        if "effect" in frozen and (not isinstance(effect, str) or not effect):
            raise InvalidValueError(
                f"{where} payload.effect: expected an effect name (a non-empty string), got {brief_repr(effect)}"
            )
        if effect is not None and step_kind == HUMAN:
            raise InvalidValueError(
                f"{where} payload.effect: a human step waits for a person, it cannot perform effect {effect!r}; "
                "give the effect to a runtime step"
            )
        self.__attrs_init__(step_id, step_kind, frozen)
        if plain:  # its encoding, written by the C JSON encoder (the bytes `canonical` would compute)
            object.__setattr__(self, "canonical", plain_json({"id": step_id, "kind": step_kind, "payload": given}))

    @functools.cached_property
    def operation(self) -> str | None:
        """The operation this step names in `payload["operation"]`, or None."""
        operation = self.payload.get("operation")
        return operation if isinstance(operation, str) else None

    @functools.cached_property
    def effect(self) -> str | None:
        """The effect this step names in `payload["effect"]`, or None (not an effect step)."""
        effect = self.payload.get("effect")
        return effect if isinstance(effect, str) else None

    def with_input(self, value: Value) -> StepSpec:
        """This step as run on an input: `payload["input"] = value` (`value` already frozen; nothing re-checked)."""
        new = object.__new__(StepSpec)
        new.__attrs_init__(self.id, self.kind, map_set(self.payload, "input", value))
        return new

    @functools.cached_property
    def canonical(self) -> bytes:
        """The JCS encoding of `{"id", "kind", "payload"}`, computed once (the step as a workflow digest hashes it)."""
        return canonical_json({"id": self.id, "kind": self.kind, "payload": self.payload})

    @functools.cached_property
    def digest(self) -> str:
        """SHA-256 (hex) of the JCS encoding of `{"id", "kind", "payload"}`: the receipt's step digest."""
        return hashlib.sha256(self.canonical).hexdigest()

    @property
    def takes_input(self) -> bool:
        """True for a step that waits for `ctx.inputs[step.id]`: a human step (a person's input) or an effect step (its outcome)."""
        return self.kind == HUMAN or self.effect is not None

    def to_dict(self) -> dict[str, object]:
        """Plain JSON data `{"id", "kind", "payload"}` with sorted keys."""
        return {"id": self.id, "kind": self.kind, "payload": thaw(self.payload)}


def _to_step(value: object, index: int) -> StepSpec:
    if isinstance(value, StepSpec):
        return value
    if isinstance(value, Mapping):
        if not {"id", "kind"} <= value.keys() <= {"id", "kind", "payload"}:
            raise InvalidValueError(
                f"steps[{index}]: a step mapping needs 'id' and 'kind' (and optional 'payload'), "
                f"got keys [{', '.join(sorted(map(brief_repr, value)))}]"
            )
        payload = value.get("payload", {})
        if not isinstance(payload, Mapping):
            raise InvalidValueError(f"steps[{index}].payload: expected a mapping, got {type(payload).__name__}")
        return StepSpec(value["id"], value["kind"], payload)
    raise InvalidValueError(
        f"steps[{index}]: expected a StepSpec (or a mapping with id, kind, payload), got {type(value).__name__}"
    )


def _freeze_steps(value: object) -> tuple[StepSpec, ...]:
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Iterable):
        raise InvalidValueError(f"steps: expected a sequence of steps, got {type(value).__name__}")
    return tuple(_to_step(step, index) for index, step in enumerate(value))


def _freeze_metadata(value: object) -> Params:
    return freeze_map(value, path="metadata")


@attrs.frozen(init=False)
class WorkflowDefinition:
    """An ordered, immutable list of steps with an id (`name` is an alias) and metadata.

    Step ids must be non-empty and unique (`InvalidValueError` names the
    offending index); giving both `id` and `name` with different values is a
    `ValueError`.
    """

    id: str
    steps: tuple[StepSpec, ...]
    metadata: Params

    def __attrs_post_init__(self) -> None:
        untrack_record(self, WorkflowDefinition)
        untrack(self.steps)  # a tuple of records: the collector never untracks it itself

    def __init__(
        self,
        id: str = "",
        steps: Iterable[StepSpec | Mapping[str, object]] = (),
        metadata: Mapping[str, object] | None = None,
        name: str = "",
    ) -> None:
        workflow_id = _require_str(id, "workflow id")
        alias = _require_str(name, "workflow name")
        if workflow_id and alias and workflow_id != alias:
            raise InvalidValueError(
                f"workflow: id {workflow_id!r} and name {alias!r} differ; name is an alias of id, give one"
            )
        workflow_id = workflow_id or alias
        frozen_steps = _freeze_steps(steps)
        seen: dict[str, int] = {}
        for index, step in enumerate(frozen_steps):
            if not step.id:
                raise InvalidValueError(f"workflow {workflow_id!r} steps[{index}]: step id is empty")
            if step.id in seen:
                raise InvalidValueError(
                    f"workflow {workflow_id!r} steps[{index}]: duplicate step id {step.id!r} "
                    f"(first used at steps[{seen[step.id]}]); step ids must be unique"
                )
            seen[step.id] = index
        frozen_metadata = _freeze_metadata({} if metadata is None else metadata)
        self.__attrs_init__(workflow_id, frozen_steps, frozen_metadata)

    @functools.cached_property
    def digest(self) -> str:
        """SHA-256 (hex) of JCS `{"id", "metadata", "steps"}`: the receipt's workflow digest, computed once.

        Like a step's digest it is derived from the content, never stored: a
        workflow that crossed a process boundary (pickled) computes it again.
        """
        # JCS `{"id", "metadata", "steps"}`, its keys in order, each step's own encoding spliced in as it is.
        text = b"".join(
            (
                b'{"id":',
                canonical_json(self.id),
                b',"metadata":',
                canonical_json(self.metadata),
                b',"steps":[',
                b",".join(step.canonical for step in self.steps),
                b"]}",
            )
        )
        return hashlib.sha256(text).hexdigest()

    @property
    def name(self) -> str:
        """Alias of `id`."""
        return self.id

    def step(self, step_id: str) -> StepSpec:
        """The step with this id; `KeyError` naming the known ids when there is none."""
        for step in self.steps:
            if step.id == step_id:
                return step
        raise KeyError(f"workflow {self.id!r} has no step {brief_repr(step_id)}; steps: {[s.id for s in self.steps]}")

    def to_dict(self) -> dict[str, object]:
        """Plain JSON data `{"id", "metadata", "name", "steps"}` with sorted keys."""
        return {
            "id": self.id,
            "metadata": thaw(self.metadata),
            "name": self.id,
            "steps": [step.to_dict() for step in self.steps],
        }


def _to_state(value: Mapping[str, object]) -> State:
    return to_state(value, path="initial_state")


def _freeze_inputs(value: Mapping[str, object]) -> Params:
    return freeze_map(value, path="inputs")


def _freeze_context_metadata(value: Mapping[str, object]) -> Params:
    return freeze_map(value, path="metadata")


@attrs.frozen
class ExecutionContext:
    """What a run starts from: the initial state, the inputs by step id, and metadata.

    `inputs[step_id]` is the value a person supplied for that human step
    (`None` counts as given), or the recorded outcome of that effect step
    (`{"ok": true, "value": V, "attempts": n}` or `{"ok": false, "error":
    {"type": T, "message": M}, "attempts": n}`). Plain dicts are frozen on
    construction.
    """

    initial_state: State = attrs.field(factory=State, converter=_to_state)
    inputs: Params = attrs.field(factory=pmap, converter=_freeze_inputs)
    metadata: Params = attrs.field(factory=pmap, converter=_freeze_context_metadata)

    def __attrs_post_init__(self) -> None:
        untrack_record(self, ExecutionContext)
