"""Law checkers for your own operations and missions: `check_operation`, `check_mission` and `LawViolation`.

Each checker runs hypothesis over generated examples and checks the laws
stepfold's guarantees rest on. A broken law raises one `LawViolation` whose
message names the law and the subject, says what went wrong, shows the
minimal counterexample hypothesis shrank to, and says what to do about it.

What counts as failing *cleanly*: an operation (or a builder refusing its
params) that raises a `StepfoldError` — `OperationError` is the one meant
for it; `InvalidValueError` from a `State` method counts too. Any other
exception (`KeyError`, `TypeError`, ...) is a crash: the engine would still
record it as a failed step, but it is a bug the law `returns-state` (or
`builds-cleanly`) reports.
"""

from __future__ import annotations

import collections
import pprint
from collections.abc import Callable, Collection, Mapping
from typing import Final, Union

import attrs
import hypothesis
from hypothesis import HealthCheck, Phase, given
from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy
from pyrsistent import PMap, pmap

from stepfold.builder import lookup_builder
from stepfold.engine import resume, run_workflow
from stepfold.errors import AntiFailureViolation, EnvelopeViolation, InvalidValueError, StepfoldError
from stepfold.lineage import SUSPENDED
from stepfold.missions.base import Mission
from stepfold.operations import DEFAULT_OPERATIONS
from stepfold.operations.base import Operation
from stepfold.policy import TIER2_POLICY, Policy, check_workflow
from stepfold.registry import mission_operations
from stepfold.result import OrchestrationResult
from stepfold.state import State
from stepfold.testing.strategies import human_inputs
from stepfold.testing.strategies import states as _states
from stepfold.values import Params, format_path, freeze_map, thaw, values_equal, values_identical
from stepfold.workflow import HUMAN, RUNTIME, ExecutionContext, StepSpec, WorkflowDefinition

__all__ = [
    "LawViolation",
    "LawReport",
    "Writes",
    "Inputs",
    "check_operation",
    "check_mission",
    "LAWS",
    "OPERATION_LAWS",
    "MISSION_LAWS",
    "RETURNS_STATE",
    "NO_MUTATION",
    "DETERMINISTIC",
    "DECLARED_WRITES",
    "BUILDS_CLEANLY",
    "BUILDER_DETERMINISTIC",
    "WITHIN_POLICY",
    "RUN_DETERMINISTIC",
    "RESUME_EQUALS_RUN",
]

RETURNS_STATE: Final = "returns-state"
"""Law: an operation returns a sound State or fails cleanly (raises a StepfoldError)."""
NO_MUTATION: Final = "no-mutation"
"""Law: an operation leaves the state and step it was given unchanged."""
DETERMINISTIC: Final = "deterministic"
"""Law: an operation gives identical outcomes for equal states and steps."""
DECLARED_WRITES: Final = "declared-writes"
"""Law: an operation touches only the keys it declares (`writes=`)."""
BUILDS_CLEANLY: Final = "builds-cleanly"
"""Law: a builder returns a WorkflowDefinition or refuses its params with a StepfoldError."""
BUILDER_DETERMINISTIC: Final = "builder-deterministic"
"""Law: a builder builds the same workflow from equal params."""
WITHIN_POLICY: Final = "within-policy"
"""Law: a builder's workflow passes the policy and names only known operations."""
RUN_DETERMINISTIC: Final = "run-deterministic"
"""Law: two runs on the same state and inputs are identical, receipts included."""
RESUME_EQUALS_RUN: Final = "resume-equals-run"
"""Law: suspending and resuming gives the result of running with every input up front."""

OPERATION_LAWS: Final = (RETURNS_STATE, NO_MUTATION, DETERMINISTIC, DECLARED_WRITES)
"""The laws `check_operation` checks, in the order it checks them on each example."""

MISSION_LAWS: Final = (BUILDS_CLEANLY, BUILDER_DETERMINISTIC, WITHIN_POLICY, RUN_DETERMINISTIC, RESUME_EQUALS_RUN)
"""The laws `check_mission` checks, in the order it checks them on each example."""

LAWS: Final[PMap[str, str]] = pmap(
    {
        RETURNS_STATE: "an operation returns a State in the value domain, or fails cleanly by raising a StepfoldError",
        NO_MUTATION: "an operation leaves the state and the step it was given exactly as they were",
        DETERMINISTIC: "an operation gives the same result for equal states and steps, every time it is called",
        DECLARED_WRITES: "an operation adds, changes or removes only the keys it declares it writes",
        BUILDS_CLEANLY: "a builder returns a WorkflowDefinition, or refuses its params by raising a StepfoldError",
        BUILDER_DETERMINISTIC: "a builder builds the same workflow (same digest) from equal params, every time",
        WITHIN_POLICY: "a builder's workflow passes the policy (step count, human steps, kinds) and names only known operations",
        RUN_DETERMINISTIC: "running a mission's workflow twice on the same state and inputs gives identical results and receipts",
        RESUME_EQUALS_RUN: "suspending at a human step and resuming gives the result of running with every input up front",
    }
)
"""Each law's name and its one-line statement."""

_FIXES: Final = {
    RETURNS_STATE: "return `state.set(...)`/`state.update(...)` (a State), and raise OperationError for bad input "
    "instead of letting KeyError, TypeError and friends escape",
    NO_MUTATION: "derive a new State with set/update/remove; never object.__setattr__ or write into what you were given",
    DETERMINISTIC: "compute the result from the state and the step alone: no counters, clocks, random numbers, id() "
    "or module-level caches",
    DECLARED_WRITES: "write only the declared keys, or declare every key the operation may write",
    BUILDS_CLEANLY: "return a WorkflowDefinition, and raise InvalidValueError for params the mission cannot use",
    BUILDER_DETERMINISTIC: "build the workflow from the params alone: no counters, clocks, random ids or global state",
    WITHIN_POLICY: "plan fewer steps (or fewer human steps), use the kinds the policy allows, register every "
    "operation the workflow names, or refuse the params with InvalidValueError",
    RUN_DETERMINISTIC: "make every operation the workflow runs pass check_operation; results must not depend on the process",
    RESUME_EQUALS_RUN: "keep nothing between steps outside the State: an operation must not read what an earlier "
    "operation left in a global, a closure or a cache",
}


def _render(law: str, subject: str, detail: str, example: Mapping[str, object], flaky: bool) -> str:
    lines = [f"law {law!r} broken by {subject}: {detail}"]
    if flaky:
        lines.append(
            "  (hypothesis could not make this example fail again when it replayed it: "
            "the outcome changes from call to call, which is itself non-determinism)"
        )
    lines.append("minimal example (shrunk by hypothesis):")
    for name, value in example.items():
        shown = pprint.pformat(value, width=100, sort_dicts=False).replace("\n", "\n    ")
        lines.append(f"  {name} = {shown}")
    lines.append(f"the law: {LAWS.get(law, law)}")
    if law in _FIXES:
        lines.append(f"to fix it: {_FIXES[law]}")
    return "\n".join(lines)


class LawViolation(StepfoldError, AssertionError):
    """A law of an operation or a mission does not hold; the message names it and shows the minimal counterexample.

    `law` is the law's name (a key of `LAWS`), `subject` what broke it (e.g.
    "operation 'flaky'"), `detail` what went wrong, `example` the shrunk
    inputs as plain data (state, payload / params, inputs), and `flaky` is
    True when hypothesis could not reproduce the failure on replay.
    """

    __module__ = "stepfold.testing"  # where users import it from, and what a traceback shows

    def __init__(
        self, law: str, subject: str, detail: str, example: Mapping[str, object], *, flaky: bool = False
    ) -> None:
        super().__init__(_render(law, subject, detail, example, flaky))
        self.law = law
        self.subject = subject
        self.detail = detail
        self.example: dict[str, object] = dict(example)
        self.flaky = flaky

    def __reduce__(self) -> tuple[object, ...]:
        """Pickle by the fields, so a violation survives a process pool or pytest-xdist."""
        return (_violation, (self.law, self.subject, self.detail, self.example, self.flaky))


def _violation(law: str, subject: str, detail: str, example: Mapping[str, object], flaky: bool) -> LawViolation:
    return LawViolation(law, subject, detail, example, flaky=flaky)


@attrs.frozen
class LawReport:
    """What a passing check tried: the subject, the laws that held, and how many examples ended which way.

    `outcomes` counts examples by how they ended: for an operation
    "returned" and "failed" (cleanly); for a mission "refused" (the builder
    refused the params) and the full run's status ("completed", "failed",
    "suspended"). Assert on it to make sure your strategies reach the cases
    you care about (e.g. `report.outcomes.get("returned", 0) > 0`).
    """

    subject: str
    laws: tuple[str, ...]
    examples: int
    outcomes: PMap[str, int]


class _Broken(Exception):
    """Internal: raised inside the hypothesis test, so that hypothesis shrinks to the minimal breaking example."""

    def __init__(self, law: str, detail: str, example: Mapping[str, object], cause: BaseException | None = None) -> None:
        super().__init__(f"law {law!r}: {detail}")
        self.law = law
        self.detail = detail
        self.example = dict(example)
        self.cause = cause

    def violation(self, subject: str, *, flaky: bool) -> LawViolation:
        return LawViolation(self.law, subject, self.detail, self.example, flaky=flaky)


@attrs.frozen
class _Failure:
    """A clean failure (a StepfoldError): its type name and message, compared by value."""

    kind: str
    message: str

    @classmethod
    def of(cls, exc: BaseException) -> _Failure:
        return cls(type(exc).__name__, str(exc))


def _show(outcome: State | _Failure) -> str:
    if isinstance(outcome, State):
        return f"returned {outcome!r}"
    return f"raised {outcome.kind}: {outcome.message}"


def _law_settings(chosen: hypothesis.settings | None) -> hypothesis.settings:
    """The caller's settings (or the current profile without a deadline), reporting one bug, without `explain`.

    The explain phase annotates hypothesis's own report, which a `LawViolation`
    replaces, and it costs more than all the other phases of a failing check.
    """
    base = chosen if chosen is not None else hypothesis.settings(
        deadline=None, suppress_health_check=[HealthCheck.too_slow]
    )
    phases = tuple(phase for phase in base.phases if phase is not Phase.explain)
    return hypothesis.settings(base, report_multiple_bugs=False, phases=phases)


def _first_broken(error: BaseException) -> _Broken | None:
    if isinstance(error, _Broken):
        return error
    if isinstance(error, BaseExceptionGroup):
        for inner in error.exceptions:
            found = _first_broken(inner)
            if found is not None:
                return found
    return None


def _run_hypothesis(test: Callable[[], None], subject: str) -> None:
    """Run the law test; turn the minimal breaking example hypothesis replays last into one `LawViolation`."""
    __tracebackhide__ = True
    try:
        test()
    except _Broken as broken:
        raise broken.violation(subject, flaky=False) from broken.cause
    except BaseExceptionGroup as group:  # hypothesis's FlakyFailure: the failure did not reproduce on replay
        broken_in_group = _first_broken(group)
        if broken_in_group is None:
            raise
        raise broken_in_group.violation(subject, flaky=True) from broken_in_group.cause


def _name_of(thing: object) -> str:
    name = getattr(thing, "__name__", None)
    return name if isinstance(name, str) else repr(thing)


def _as_state(drawn: Mapping[str, object]) -> State:
    return drawn if isinstance(drawn, State) else State(drawn)


# Operations -------------------------------------------------------------------


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
            raise _Broken(
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
            raise _Broken(
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
        return _Failure.of(exc)
    except Exception as exc:  # anything else is a crash, not a clean failure
        raise _Broken(
            RETURNS_STATE,
            f"it raised {type(exc).__name__}: {exc} (not a clean failure: raise OperationError instead)",
            example,
            exc,
        ) from exc


def _sound(outcome: object, example: Mapping[str, object]) -> State | _Failure:
    """The outcome, once it is known to be a clean failure or a sound State in the value domain."""
    if isinstance(outcome, _Failure):
        return outcome
    if not isinstance(outcome, State):
        shown = repr(outcome)
        shown = shown if len(shown) <= 200 else shown[:200] + "..."
        raise _Broken(RETURNS_STATE, f"it returned {type(outcome).__qualname__} {shown}, not a State", example)
    problem = _domain_problem(outcome)
    if problem is not None:
        raise _Broken(RETURNS_STATE, problem, example)
    return outcome


def _same_outcome(first: State | _Failure, second: State | _Failure) -> bool:
    if isinstance(first, State) and isinstance(second, State):
        return first.digest == second.digest and values_identical(first.to_dict(), second.to_dict())
    return first == second


def _require_same(
    first: State | _Failure, second: State | _Failure, how: str, example: Mapping[str, object]
) -> None:
    if not _same_outcome(first, second):
        raise _Broken(
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
        raise _Broken(
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
        raise InvalidValueError(f"writes: expected a collection of keys, got the string {writes!r} (write {{{writes!r}}})")
    subject = f"operation {name or _name_of(operation)!r}"
    counts: collections.Counter[str] = collections.Counter()

    def operation_laws(state: Mapping[str, object], payload: Mapping[str, object]) -> None:
        _check_operation_example(operation, _as_state(state), StepSpec("step", kind, payload), writes, counts)

    operation_laws._hypothesis_internal_add_digest = subject.encode()  # type: ignore[attr-defined]
    test = given(
        state=_states() if states is None else states,
        payload=st.just(pmap()) if payloads is None else payloads,
    )(operation_laws)
    _run_hypothesis(_law_settings(settings)(test), subject)
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


# Missions ---------------------------------------------------------------------

Inputs = Union[
    SearchStrategy[Mapping[str, object]],
    Mapping[str, object],
    Callable[[WorkflowDefinition], SearchStrategy[Mapping[str, object]]],
]
"""Human inputs for `check_mission`: a fixed mapping, a strategy of mappings, or a function of the workflow giving one."""


@attrs.frozen
class _MissionUnderTest:
    """How to build and run the mission being checked."""

    build: Callable[[Params], object]
    registered: str | None  # the registry name, whose metadata build_workflow adds
    operations: Mapping[str, Operation]
    policy: Policy

    def workflow(self, params: Params, example: Mapping[str, object]) -> WorkflowDefinition | _Failure:
        try:
            built = self.build(params)
        except StepfoldError as exc:
            return _Failure.of(exc)
        except Exception as exc:  # a crash, not a refusal
            raise _Broken(
                BUILDS_CLEANLY,
                f"the builder raised {type(exc).__name__}: {exc} (refuse params with InvalidValueError instead)",
                example,
                exc,
            ) from exc
        if not isinstance(built, WorkflowDefinition):
            raise _Broken(
                BUILDS_CLEANLY, f"the builder returned {type(built).__qualname__}, not a WorkflowDefinition", example
            )
        if self.registered is None:
            return built
        # What build_workflow does for a registered mission, so the digests are those run_mission runs.
        return WorkflowDefinition(
            id=built.id,
            steps=built.steps,
            metadata=built.metadata.set("mission", self.registered).set("params", params),
        )

    def run(self, workflow: WorkflowDefinition, state: State, inputs: Mapping[str, object]) -> OrchestrationResult:
        context = ExecutionContext(initial_state=state, inputs=inputs)
        return run_workflow(workflow, context, policy=self.policy, operations=self.operations)

    def resume(self, result: OrchestrationResult, inputs: Mapping[str, object]) -> OrchestrationResult:
        return resume(result, inputs, policy=self.policy, operations=self.operations)


def _mission_under_test(
    mission: str | Mission | Callable[[Params], object],
    operations: Mapping[str, Operation] | None,
    policy: Policy,
    name: str | None,
) -> tuple[_MissionUnderTest, str]:
    base = DEFAULT_OPERATIONS if operations is None else operations
    if isinstance(mission, str):
        table = mission_operations(mission, base)  # UnknownMissionError now, before any example

        def registered_builder(params: Params) -> object:
            return lookup_builder(mission)(params)  # looked up at call time, as run_mission does

        return _MissionUnderTest(registered_builder, mission, table, policy), name or mission
    if isinstance(mission, Mission):
        return _MissionUnderTest(mission.build, None, pmap(base) + mission.operations, policy), name or _name_of(mission.build)
    if not callable(mission):
        raise InvalidValueError(
            f"mission: expected a registered name, a Mission or a builder function, got {type(mission).__name__}"
        )
    return _MissionUnderTest(mission, None, pmap(base), policy), name or _name_of(mission)


def _first_difference(a: object, b: object, root: str, segments: list[str | int]) -> str | None:
    """The path (from `root`) and the two values where plain JSON data `a` and `b` first differ, or None."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b)):
            if key not in a or key not in b:
                side = "first" if key in a else "second"
                return f"{format_path(root, [*segments, key])} only in the {side}"
            found = _first_difference(a[key], b[key], root, [*segments, key])
            if found is not None:
                return found
        return None
    if isinstance(a, list) and isinstance(b, list):
        for index, (x, y) in enumerate(zip(a, b)):
            found = _first_difference(x, y, root, [*segments, index])
            if found is not None:
                return found
        if len(a) != len(b):
            return f"{format_path(root, segments)}: {len(a)} items vs {len(b)}"
        return None
    if values_identical(a, b):
        return None
    return f"{format_path(root, segments)}: {a!r} vs {b!r}"


def _require_same_run(
    law: str,
    runs: tuple[tuple[str, OrchestrationResult], tuple[str, OrchestrationResult]],
    how: str,
    example: Mapping[str, object],
) -> None:
    (first_label, first), (second_label, second) = runs
    one, two = first.to_dict(), second.to_dict()
    if first.receipt.head == second.receipt.head and values_identical(one, two):
        return
    width = max(len(first_label), len(second_label)) + 1
    lines = [f"{how} differ at {_first_difference(one, two, 'result', [])}"]
    for label, result in runs:
        lines.append(
            f"  {label + ':':<{width}} {result.status}, final state {result.final_state!r}, "
            f"receipt head {result.receipt.head[:16]}"
        )
    raise _Broken(law, "\n".join(lines), example)


def _require_same_build(
    first: WorkflowDefinition | _Failure, second: WorkflowDefinition | _Failure, example: Mapping[str, object]
) -> None:
    if isinstance(first, WorkflowDefinition) and isinstance(second, WorkflowDefinition):
        if first.digest == second.digest:
            return
        detail = f"the workflows differ at {_first_difference(first.to_dict(), second.to_dict(), 'workflow', [])}"
    elif first == second:
        return
    else:
        def shown(built: WorkflowDefinition | _Failure) -> str:
            if isinstance(built, WorkflowDefinition):
                return f"built workflow {built.id!r} with steps {[step.id for step in built.steps]}"
            return f"refused: {built.kind}: {built.message}"

        detail = f"first {shown(first)}; then {shown(second)}"
    raise _Broken(BUILDER_DETERMINISTIC, f"built twice from equal params, {detail}", example)


def _draw_inputs(
    inputs: Inputs | None, workflow: WorkflowDefinition, data: st.DataObject
) -> Params:
    if inputs is None:
        drawn: Mapping[str, object] = data.draw(human_inputs(workflow))
    elif isinstance(inputs, SearchStrategy):
        drawn = data.draw(inputs)
    elif isinstance(inputs, Mapping):
        drawn = inputs
    else:
        drawn = data.draw(inputs(workflow))
    return freeze_map(drawn, path="inputs")


def check_mission(
    mission: str | Mission | Callable[[Params], object],
    params: SearchStrategy[Mapping[str, object]] | None = None,
    states: SearchStrategy[Mapping[str, object]] | None = None,
    inputs: Inputs | None = None,
    *,
    policy: Policy = TIER2_POLICY,
    operations: Mapping[str, Operation] | None = None,
    name: str | None = None,
    settings: hypothesis.settings | None = None,
) -> LawReport:
    """Check a mission's laws over generated params, states and inputs; raise `LawViolation` for the first broken one.

    `mission` is a registered name (looked up at each build, its own
    operations added), a `Mission`, or a builder `params -> workflow`.
    Operations are `operations` (default `DEFAULT_OPERATIONS`) plus the
    mission's own. On each example the builder, called twice, must return a
    workflow or refuse cleanly (`builds-cleanly`), the same both times
    (`builder-deterministic`) and within `policy` with known operations
    (`within-policy`); two runs must be identical (`run-deterministic`); and
    a run given some inputs up front, suspended and resumed with the rest one
    at a time, must equal the run given them all up front
    (`resume-equals-run`). `inputs` (default: `human_inputs(workflow)`) maps
    human step ids to inputs; ids that are not human steps are ignored.
    """
    __tracebackhide__ = True
    under_test, label = _mission_under_test(mission, operations, policy, name)
    if isinstance(inputs, Mapping):
        inputs = freeze_map(inputs, path="inputs")  # a bad fixed input is the caller's mistake: say so now
    subject = f"mission {label!r}"
    counts: collections.Counter[str] = collections.Counter()

    state_strategy = _states() if states is None else states

    def mission_laws(params: Mapping[str, object], state: Mapping[str, object], data: st.DataObject) -> None:
        frozen = freeze_map(params, path="params")
        _check_mission_example(under_test, frozen, _as_state(state), state_strategy, inputs, data, counts)

    mission_laws._hypothesis_internal_add_digest = subject.encode()  # type: ignore[attr-defined]
    test = given(params=st.just(pmap()) if params is None else params, state=state_strategy, data=st.data())(
        mission_laws
    )
    _run_hypothesis(_law_settings(settings)(test), subject)
    return LawReport(subject, MISSION_LAWS, sum(counts.values()), pmap(counts))


def _check_mission_example(
    mission: _MissionUnderTest,
    params: Params,
    state: State,
    states: SearchStrategy[Mapping[str, object]],
    inputs: Inputs | None,
    data: st.DataObject,
    counts: collections.Counter[str],
) -> None:
    example: dict[str, object] = {"params": thaw(params), "state": state.to_dict()}
    first = mission.workflow(params, example)
    second = mission.workflow(freeze_map(thaw(params), path="params"), example)
    _require_same_build(first, second, example)
    if isinstance(first, _Failure):
        counts["refused"] += 1
        return
    workflow = first
    try:
        check_workflow(workflow, mission.policy, mission.operations)
    except (AntiFailureViolation, EnvelopeViolation) as exc:
        raise _Broken(WITHIN_POLICY, f"{type(exc).__name__}: {exc}", example) from None

    humans = [step.id for step in workflow.steps if step.kind == HUMAN]
    drawn = _draw_inputs(inputs, workflow, data)
    supplied = pmap({step_id: drawn[step_id] for step_id in humans if step_id in drawn})
    flags = data.draw(st.lists(st.booleans(), min_size=len(supplied), max_size=len(supplied)))
    up_front = [step_id for step_id, flag in zip([h for h in humans if h in supplied], flags) if flag]
    example["inputs"] = thaw(supplied)
    example["given up front"] = up_front

    full = mission.run(workflow, state, supplied)
    again = mission.run(workflow, State(state.to_dict()), freeze_map(thaw(supplied), path="inputs"))
    _require_same_run(
        RUN_DETERMINISTIC,
        (("first run", full), ("second run", again)),
        "two runs with the same workflow, state and inputs",
        example,
    )

    staged = mission.run(workflow, state, {step_id: supplied[step_id] for step_id in up_front})
    if staged.status == SUSPENDED:
        # While a run waits for a person, the process runs other work, as a real one would;
        # an operation that keeps anything between steps outside the State shows it here.
        meanwhile = _as_state(data.draw(states, label="state of another run while suspended"))
        example["state of another run while suspended"] = meanwhile.to_dict()
        mission.run(workflow, meanwhile, supplied)

    remaining = {step_id: value for step_id, value in supplied.items() if step_id not in up_front}
    while staged.status == SUSPENDED and staged.pending_step_id in remaining:
        pending = staged.pending_step_id
        assert pending is not None
        staged = mission.resume(staged, {pending: remaining.pop(pending)})
    if staged.status == SUSPENDED and remaining:
        staged = mission.resume(staged, remaining)
        remaining = {}
    # A run that stopped (failed) before a human step never took that step's input; neither may the reference.
    reference = full if not remaining else mission.run(
        workflow, state, {k: v for k, v in supplied.items() if k not in remaining}
    )
    _require_same_run(
        RESUME_EQUALS_RUN,
        (("resumed", staged), ("up front", reference)),
        "the run suspended and resumed, and the run given every input up front,",
        example,
    )
    counts[full.status] += 1
