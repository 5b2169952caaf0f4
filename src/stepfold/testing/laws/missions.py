"""`check_mission`: the laws of a mission, checked over generated params, states, human inputs and effect outcomes.

No effect is ever performed: an effect step's outcome is an input like a
person's, drawn from `effect_outcomes` (successes and failures), so a
mission that calls an API is property-tested in milliseconds without it.
"""

from __future__ import annotations

import collections
from collections.abc import Callable, Mapping
from typing import Union

import attrs
import hypothesis
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy
from pyrsistent import PMap, pmap

from stepfold.builder import lookup_builder, stamp_mission
from stepfold.engine import resume, run_workflow
from stepfold.errors import AntiFailureViolation, EnvelopeViolation, InvalidInputError, InvalidValueError, StepfoldError
from stepfold.frozen import thaw, values_identical
from stepfold.lineage import FAILED, SUSPENDED
from stepfold.missions.base import Mission
from stepfold.operations import DEFAULT_OPERATIONS
from stepfold.operations.base import Operation
from stepfold.outcome import read_outcome
from stepfold.policy import TIER2_POLICY, Policy, check_workflow
from stepfold.registry import mission_operations
from stepfold.result import OrchestrationResult
from stepfold.state import State
from stepfold.testing.laws.harness import (
    Broken,
    Failure,
    as_state,
    first_difference,
    law_settings,
    name_of,
    run_hypothesis,
)
from stepfold.testing.laws.law import (
    BUILDER_DETERMINISTIC,
    BUILDS_CLEANLY,
    FAILED_OUTCOME_FAILS_CLEANLY,
    FAILS_CLEANLY,
    MISSION_LAWS,
    RESUME_EQUALS_RUN,
    RUN_DETERMINISTIC,
    WITHIN_POLICY,
    Law,
    LawReport,
)
from stepfold.testing.strategies import states as _states
from stepfold.testing.strategies import step_inputs
from stepfold.values import Params, freeze_map
from stepfold.workflow import ExecutionContext, StepSpec, WorkflowDefinition

__all__ = ["check_mission", "Inputs"]

Inputs = Union[
    SearchStrategy[Mapping[str, object]],
    Mapping[str, object],
    Callable[[WorkflowDefinition], SearchStrategy[Mapping[str, object]]],
]
"""Inputs for `check_mission`: a fixed mapping, a strategy of mappings, or a function of the workflow giving one.

Keys are step ids: a human step's input, or an effect step's outcome
(`ok_outcome(value)`, `failed_outcome(type, message)`, or `effect_outcomes(...)`).
"""


@attrs.frozen
class _Crash:
    """An operation that raised something other than a StepfoldError during a run."""

    operation: str
    step_id: str
    error: BaseException


@attrs.frozen
class _Watch:
    """What the operations of one run did: the step ids they were called for, and their crashes."""

    calls: list[str] = attrs.field(factory=list)
    crashes: list[_Crash] = attrs.field(factory=list)


def _watched(operations: Mapping[str, Operation], watch: _Watch) -> PMap[str, Operation]:
    """The table with each operation noting its calls and crashes in `watch`; results and errors are unchanged."""

    def watching(name: str, operation: Operation) -> Operation:
        def watched(state: State, step: StepSpec) -> State:
            watch.calls.append(step.id)
            try:
                return operation(state, step)
            except StepfoldError:
                raise
            except Exception as exc:
                watch.crashes.append(_Crash(name, step.id, exc))
                raise

        return watched

    return pmap({name: watching(name, operation) for name, operation in operations.items()})


@attrs.frozen
class _MissionUnderTest:
    """How to build and run the mission being checked."""

    build: Callable[[Params], object]
    registered: str | None  # the registry name, whose metadata build_workflow adds
    operations: Mapping[str, Operation]
    policy: Policy

    def workflow(self, params: Params, example: Mapping[str, object]) -> WorkflowDefinition | Failure:
        try:
            built = self.build(params)
        except StepfoldError as exc:
            return Failure.of(exc)
        except Exception as exc:  # a crash, not a refusal
            raise Broken(
                BUILDS_CLEANLY,
                f"the builder raised {type(exc).__name__}: {exc} (refuse params with InvalidValueError instead)",
                example,
                exc,
            ) from exc
        if not isinstance(built, WorkflowDefinition):
            raise Broken(
                BUILDS_CLEANLY, f"the builder returned {type(built).__qualname__}, not a WorkflowDefinition", example
            )
        # A registered mission's digests are those run_mission runs: build_workflow's metadata included.
        return built if self.registered is None else stamp_mission(built, self.registered, params)

    def run(
        self, workflow: WorkflowDefinition, state: State, inputs: Mapping[str, object], watch: _Watch | None = None
    ) -> OrchestrationResult:
        context = ExecutionContext(initial_state=state, inputs=inputs)
        operations = self.operations if watch is None else _watched(self.operations, watch)
        return run_workflow(workflow, context, policy=self.policy, operations=operations)

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
        return _MissionUnderTest(mission.builder, None, pmap(base) + mission.operations, policy), name or name_of(
            mission.builder
        )
    if not callable(mission):
        raise InvalidValueError(
            f"mission: expected a registered name, a Mission or a builder function, got {type(mission).__name__}"
        )
    return _MissionUnderTest(mission, None, pmap(base), policy), name or name_of(mission)


def _require_same_run(
    law: Law,
    runs: tuple[tuple[str, OrchestrationResult], tuple[str, OrchestrationResult]],
    how: str,
    example: Mapping[str, object],
) -> None:
    (first_label, first), (second_label, second) = runs
    one, two = first.to_dict(), second.to_dict()
    if first.receipt.head == second.receipt.head and values_identical(one, two):
        return
    width = max(len(first_label), len(second_label)) + 1
    lines = [f"{how} differ at {first_difference(one, two, 'result', [])}"]
    for label, result in runs:
        lines.append(
            f"  {label + ':':<{width}} {result.status}, final state {result.final_state!r}, "
            f"receipt head {result.receipt.head[:16]}"
        )
    raise Broken(law, "\n".join(lines), example)


def _require_same_build(
    first: WorkflowDefinition | Failure, second: WorkflowDefinition | Failure, example: Mapping[str, object]
) -> None:
    if isinstance(first, WorkflowDefinition) and isinstance(second, WorkflowDefinition):
        if first.digest == second.digest:
            return
        detail = f"the workflows differ at {first_difference(first.to_dict(), second.to_dict(), 'workflow', [])}"
    elif first == second:
        return
    else:

        def shown(built: WorkflowDefinition | Failure) -> str:
            if isinstance(built, WorkflowDefinition):
                return f"built workflow {built.id!r} with steps {[step.id for step in built.steps]}"
            return f"refused: {built.kind}: {built.message}"

        detail = f"first {shown(first)}; then {shown(second)}"
    raise Broken(BUILDER_DETERMINISTIC, f"built twice from equal params, {detail}", example)


def _require_clean_operations(watch: _Watch, example: Mapping[str, object]) -> None:
    if watch.crashes:
        crash = watch.crashes[0]
        raise Broken(
            FAILS_CLEANLY,
            f"operation {crash.operation!r} at step {crash.step_id!r} raised {type(crash.error).__name__}: "
            f"{crash.error} (not a clean failure: raise OperationError instead)",
            example,
            crash.error,
        )


def _require_failed_outcomes_fail(result: OrchestrationResult, watch: _Watch, example: Mapping[str, object]) -> None:
    """Where the run reached an effect step with a failed outcome, it failed there, its operation never ran, and says so."""
    for entry in result.lineage.entries:
        step = entry.step
        if step.effect is None or read_outcome(entry.input, "outcome").ok:
            continue
        problems = []
        if result.status != FAILED or result.failed_step_id != step.id:
            problems.append(f"the run is {result.status} (failed step {result.failed_step_id!r})")
        if step.id in watch.calls:
            problems.append("its operation ran")
        message = result.error_message or ""
        if step.id not in message or step.effect not in message:
            problems.append(f"the error {message!r} does not name the step and the effect")
        if problems:
            raise Broken(
                FAILED_OUTCOME_FAILS_CLEANLY,
                f"step {step.id!r} was given a failed outcome of effect {step.effect!r}, but " + "; ".join(problems),
                example,
            )


def _draw_inputs(inputs: Inputs | None, workflow: WorkflowDefinition, data: st.DataObject) -> Params:
    if inputs is None:
        drawn: Mapping[str, object] = data.draw(step_inputs(workflow))
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
    """Check a mission's laws over generated params, states, inputs and effect outcomes; raise `LawViolation` for the first broken one.

    `mission` is a registered name (looked up at each build, its own
    operations added), a `Mission`, or a builder `params -> workflow`.
    Operations are `operations` (default `DEFAULT_OPERATIONS`) plus the
    mission's own. On each example the builder, called twice, must return a
    workflow or refuse cleanly (`builds-cleanly`), the same both times
    (`builder-deterministic`) and within `policy` with known operations
    (`within-policy`); two runs must be identical (`run-deterministic`);
    every operation reached must return a State or fail cleanly
    (`fails-cleanly`); an effect step given a failed outcome must fail
    without running its operation (`failed-outcome-fails-cleanly`); and a run
    given some inputs up front, suspended and resumed with the rest one at a
    time, must equal the run given them all up front (`resume-equals-run`).
    `inputs` (default: `step_inputs(workflow)`: inputs for human steps and
    outcomes, successes and failures, for effect steps) maps step ids to
    inputs; ids of steps that take none are ignored. No effect is performed.
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
        _check_mission_example(under_test, frozen, as_state(state), state_strategy, inputs, data, counts)

    mission_laws._hypothesis_internal_add_digest = subject.encode()  # type: ignore[attr-defined]
    test = given(params=st.just(pmap()) if params is None else params, state=state_strategy, data=st.data())(
        mission_laws
    )
    run_hypothesis(law_settings(settings)(test), subject)
    return LawReport(subject, MISSION_LAWS, sum(counts.values()), pmap(counts))


def _refusal(run: Callable[[], OrchestrationResult]) -> OrchestrationResult | Failure:
    try:
        return run()
    except InvalidInputError as exc:
        return Failure.of(exc)


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
    if isinstance(first, Failure):
        counts["refused"] += 1
        return
    workflow = first
    try:
        check_workflow(workflow, mission.policy, mission.operations)
    except (AntiFailureViolation, EnvelopeViolation) as exc:
        raise Broken(WITHIN_POLICY, f"{type(exc).__name__}: {exc}", example) from None

    takers = [step.id for step in workflow.steps if step.takes_input]
    drawn = _draw_inputs(inputs, workflow, data)
    supplied = pmap({step_id: drawn[step_id] for step_id in takers if step_id in drawn})
    flags = data.draw(st.lists(st.booleans(), min_size=len(supplied), max_size=len(supplied)))
    up_front = [step_id for step_id, flag in zip([t for t in takers if t in supplied], flags) if flag]
    example["inputs"] = thaw(supplied)
    example["given up front"] = up_front

    watch = _Watch()
    full = _refusal(lambda: mission.run(workflow, state, supplied, watch))
    again = _refusal(lambda: mission.run(workflow, State(state.to_dict()), freeze_map(thaw(supplied), path="inputs")))
    _require_clean_operations(watch, example)
    if isinstance(full, Failure) or isinstance(again, Failure):
        if full != again:
            raise Broken(
                RUN_DETERMINISTIC, f"two runs with the same inputs: first {_shown(full)}; then {_shown(again)}", example
            )
        counts["input refused"] += 1
        return
    _require_same_run(
        RUN_DETERMINISTIC,
        (("first run", full), ("second run", again)),
        "two runs with the same workflow, state and inputs",
        example,
    )
    _require_failed_outcomes_fail(full, watch, example)

    staged = mission.run(workflow, state, {step_id: supplied[step_id] for step_id in up_front})
    if staged.status == SUSPENDED:
        # While a run waits for a person or an effect, the process runs other work, as a real one would;
        # an operation that keeps anything between steps outside the State shows it here.
        meanwhile = as_state(data.draw(states, label="state of another run while suspended"))
        example["state of another run while suspended"] = meanwhile.to_dict()
        _refusal(lambda: mission.run(workflow, meanwhile, supplied))

    remaining = {step_id: value for step_id, value in supplied.items() if step_id not in up_front}
    while staged.status == SUSPENDED and staged.pending_step_id in remaining:
        pending = staged.pending_step_id
        assert pending is not None
        staged = mission.resume(staged, {pending: remaining.pop(pending)})
    if staged.status == SUSPENDED and remaining:
        staged = mission.resume(staged, remaining)
        remaining = {}
    # A run that stopped (failed) before a step that takes an input never took it; neither may the reference.
    reference = (
        full
        if not remaining
        else mission.run(workflow, state, {k: v for k, v in supplied.items() if k not in remaining})
    )
    _require_same_run(
        RESUME_EQUALS_RUN,
        (("resumed", staged), ("up front", reference)),
        "the run suspended and resumed, and the run given every input up front,",
        example,
    )
    counts[full.status] += 1


def _shown(outcome: OrchestrationResult | Failure) -> str:
    if isinstance(outcome, Failure):
        return f"refused the input ({outcome.message})"
    return f"{outcome.status} with receipt head {outcome.receipt.head[:16]}"
