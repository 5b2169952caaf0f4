"""`check_operation`: the laws of one operation, checked over generated states and payloads."""

from __future__ import annotations

import collections
from collections.abc import Callable, Collection, Mapping
from typing import Union

import attrs
import hypothesis
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy
from pyrsistent import pmap

from stepfold.errors import InvalidValueError, StepfoldError
from stepfold.frozen import thaw, values_equal, values_identical
from stepfold.state import State
from stepfold.testing.laws.harness import Broken, Failure, as_state, law_settings, name_of, run_hypothesis
from stepfold.testing.laws.law import (
    DECLARED_WRITES,
    DETERMINISTIC,
    NO_MUTATION,
    OPERATION_LAWS,
    RETURNS_STATE,
    LawReport,
)
from stepfold.testing.strategies import states as _states
from stepfold.workflow import RUNTIME, StepSpec

__all__ = ["check_operation", "Writes"]


def _show(outcome: State | Failure) -> str:
    if isinstance(outcome, State):
        return f"returned {outcome!r}"
    return f"raised {outcome.kind}: {outcome.message}"


@attrs.frozen
class _Snapshot:
    """An operation's inputs as they were before a call, as fresh plain data and digests."""

    state_digest: str
    state_content: dict[str, object]
    step_id: str
    step_kind: str
    payload_content: dict[str, object]
    step_digest: str

    @classmethod
    def take(cls, state: State, step: StepSpec) -> _Snapshot:
        payload = thaw(step.payload)
        assert isinstance(payload, dict)
        return cls(state.digest, state.to_dict(), step.id, step.kind, payload, step.digest)

    def require_unchanged(self, state: State, step: StepSpec, example: Mapping[str, object]) -> None:
        content = _content(state)
        if state.digest != self.state_digest or not values_identical(content, self.state_content):
            raise Broken(
                NO_MUTATION,
                f"the state it was given changed during the call: before {self.state_content!r}, after {content!r}",
                example,
            )
        payload = thaw(step.payload)
        if (
            step.digest != self.step_digest
            or (step.id, step.kind) != (self.step_id, self.step_kind)
            or not values_identical(payload, self.payload_content)
        ):
            raise Broken(
                NO_MUTATION,
                f"the step it was given changed during the call: payload before {self.payload_content!r}, "
                f"after {payload!r}",
                example,
            )

    def fresh_copies(self) -> tuple[State, StepSpec]:
        return State(self.state_content), StepSpec(self.step_id, self.step_kind, self.payload_content)


def _content(state: State) -> object:
    """The state's content as plain data; for a State broken past reading, why it cannot be read."""
    try:
        return state.to_dict()
    except Exception as exc:  # only a State altered behind its back gets here
        return f"<unreadable State: {type(exc).__name__}: {exc}>"


def _domain_problem(state: State) -> str | None:
    """Why a returned State is not a sound State in the value domain, or None."""
    content = _content(state)
    if not isinstance(content, dict):
        return f"it returned a State whose content cannot be read: {content}"
    try:
        rebuilt = State(content)
    except InvalidValueError as exc:
        return f"it returned a State holding something outside the value domain: {exc}"
    if rebuilt.digest != state.digest or not values_identical(rebuilt.to_dict(), content):
        return "it returned a State whose digest does not match its content (altered after it was built?)"
    return None


def _call(
    operation: Callable[[State, StepSpec], object], state: State, step: StepSpec, example: Mapping[str, object]
) -> object:
    """What the operation returned, or its clean failure; a crash breaks `returns-state` at once."""
    try:
        return operation(state, step)
    except StepfoldError as exc:
        return Failure.of(exc)
    except Exception as exc:  # anything else is a crash, not a clean failure
        raise Broken(
            RETURNS_STATE,
            f"it raised {type(exc).__name__}: {exc} (not a clean failure: raise OperationError instead)",
            example,
            exc,
        ) from exc


def _sound(outcome: object, example: Mapping[str, object]) -> State | Failure:
    """The outcome, once it is known to be a clean failure or a sound State in the value domain."""
    if isinstance(outcome, Failure):
        return outcome
    if not isinstance(outcome, State):
        shown = repr(outcome)
        shown = shown if len(shown) <= 200 else shown[:200] + "..."
        raise Broken(RETURNS_STATE, f"it returned {type(outcome).__qualname__} {shown}, not a State", example)
    problem = _domain_problem(outcome)
    if problem is not None:
        raise Broken(RETURNS_STATE, problem, example)
    return outcome


def _same_outcome(first: State | Failure, second: State | Failure) -> bool:
    if isinstance(first, State) and isinstance(second, State):
        return first.digest == second.digest and values_identical(first.to_dict(), second.to_dict())
    return first == second


def _require_same(first: State | Failure, second: State | Failure, how: str, example: Mapping[str, object]) -> None:
    if not _same_outcome(first, second):
        raise Broken(
            DETERMINISTIC,
            f"{how}, it gave different results\n  first:  {_show(first)}\n  second: {_show(second)}",
            example,
        )


Writes = Union[Collection[str], Callable[[StepSpec], Collection[str]]]
"""The keys an operation may write: a collection, or a function of the step (e.g. `lambda s: {s.payload["key"]}`)."""


def _declared(writes: Writes, step: StepSpec) -> frozenset[str]:
    keys = writes(step) if callable(writes) else writes
    if isinstance(keys, str):
        raise InvalidValueError(f"writes: expected a collection of keys, got the string {keys!r} (write {{{keys!r}}})")
    return frozenset(keys)


def _require_declared_writes(
    before: State, after: State, declared: frozenset[str], example: Mapping[str, object]
) -> None:
    outside = []
    for key in before:
        if key in declared:
            continue
        if key not in after:
            outside.append(f"removed {key!r}")
        elif after[key] is not before[key] and not values_equal(after[key], before[key]):
            outside.append(f"changed {key!r} from {thaw(before[key])!r} to {thaw(after[key])!r}")
    outside.extend(f"added {key!r}" for key in after if key not in before and key not in declared)
    if outside:
        raise Broken(
            DECLARED_WRITES,
            f"it wrote outside its declared keys {sorted(declared)}: {'; '.join(outside)}",
            example,
        )


def check_operation(
    operation: Callable[[State, StepSpec], object],
    payloads: SearchStrategy[Mapping[str, object]] | None = None,
    states: SearchStrategy[Mapping[str, object]] | None = None,
    writes: Writes | None = None,
    *,
    name: str | None = None,
    kind: str = RUNTIME,
    settings: hypothesis.settings | None = None,
) -> LawReport:
    """Check an operation's laws over generated states and payloads; raise `LawViolation` for the first broken one.

    On each example (a state from `states`, default `states()`; a payload
    from `payloads`, default `{}`, given to `StepSpec("step", kind, payload)`)
    the operation is called three times — twice on the same inputs, once on
    equal fresh copies — and must: return a sound `State` or fail cleanly
    (`returns-state`), leave its inputs unchanged (`no-mutation`), give
    identical outcomes, down to int vs float and error messages
    (`deterministic`) and, when `writes` is given, touch no other key
    (`declared-writes`). `settings` overrides hypothesis's (default: the
    current profile, no deadline). Returns a `LawReport` when every law holds.
    """
    __tracebackhide__ = True
    if writes is not None and isinstance(writes, str):
        raise InvalidValueError(
            f"writes: expected a collection of keys, got the string {writes!r} (write {{{writes!r}}})"
        )
    subject = f"operation {name or name_of(operation)!r}"
    counts: collections.Counter[str] = collections.Counter()

    def operation_laws(state: Mapping[str, object], payload: Mapping[str, object]) -> None:
        _check_operation_example(operation, as_state(state), StepSpec("step", kind, payload), writes, counts)

    operation_laws._hypothesis_internal_add_digest = subject.encode()  # type: ignore[attr-defined]
    test = given(
        state=_states() if states is None else states,
        payload=st.just(pmap()) if payloads is None else payloads,
    )(operation_laws)
    run_hypothesis(law_settings(settings)(test), subject)
    laws = OPERATION_LAWS if writes is not None else OPERATION_LAWS[:-1]
    return LawReport(subject, laws, sum(counts.values()), pmap(counts))


def _check_operation_example(
    operation: Callable[[State, StepSpec], object],
    state: State,
    step: StepSpec,
    writes: Writes | None,
    counts: collections.Counter[str],
) -> None:
    example = {"state": state.to_dict(), "payload": thaw(step.payload)}
    before = _Snapshot.take(state, step)
    returned = _call(operation, state, step, example)
    before.require_unchanged(state, step, example)
    first = _sound(returned, example)
    returned = _call(operation, state, step, example)
    before.require_unchanged(state, step, example)
    second = _sound(returned, example)
    _require_same(first, second, "called twice with the same state and step", example)
    fresh_state, fresh_step = before.fresh_copies()
    third = _sound(_call(operation, fresh_state, fresh_step, example), example)
    _require_same(first, third, "called on an equal copy of the same state and step", example)
    if isinstance(first, State):
        if writes is not None:
            _require_declared_writes(state, first, _declared(writes, step), example)
        counts["returned"] += 1
    else:
        counts["failed"] += 1
