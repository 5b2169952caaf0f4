"""Scenarios and suites: `Scenario`, `Suite`, `check_suite`, `run_suite`, `ScenarioResult`, `SuiteResult`.

A `Scenario` is a story told in missions: an initial state and an ordered
list of mission calls, each starting from the final state of the one
before (a daily loop over several days is one scenario, one mission per
day). A scenario stops at its first mission that does not complete (failed
or suspended): the missions after it would start from a state the story
never reached, so they are not run and `ScenarioResult.skipped` lists them.

A `Suite` is a named set of independent scenarios. `run_suite` checks every
mission of every scenario first (registered, params accepted, within the
policy, inputs naming human steps) and runs nothing unless all pass; then
it runs the scenarios, one task per scenario over an optional
`concurrent.futures.Executor` (see `stepfold.worker` for what crosses to
a worker). The result, and its `digest`, are the same whatever the executor.

Suite digest: SHA-256 (hex) of the RFC 8785 encoding of
`["stepfold/suite/1", [[scenario name, [[mission name, receipt head], ...]], ...]]`,
scenarios in suite order and missions in run order (the suite's own name is
not hashed, so renaming a suite keeps its digest).
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Iterable, Mapping

import attrs

from stepfold.builder import MissionSpec, build_workflow
from stepfold.canonical import sha256_json
from stepfold.engine import check_run
from stepfold.errors import InvalidValueError, StepfoldError
from stepfold.lineage import COMPLETED
from stepfold.messages import brief_repr
from stepfold.mission_call import MissionCall
from stepfold.plugins import discover_missions
from stepfold.policy import TIER2_POLICY, Policy
from stepfold.registry import mission_operations
from stepfold.result import OrchestrationResult
from stepfold.state import State, to_state
from stepfold.worker import ChainError, check_arguments, run_chain, submit_chains
from stepfold.workflow import ExecutionContext

__all__ = [
    "Scenario",
    "Suite",
    "ScenarioResult",
    "SuiteResult",
    "run_suite",
    "check_suite",
    "mission_key",
    "SUITE_DIGEST_TAG",
]

SUITE_DIGEST_TAG = "stepfold/suite/1"
"""The format tag hashed first into every suite digest."""


def _name(value: object, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidValueError(f"{what}: expected a non-empty string, got {value!r}")
    return value


def _scenario_name(value: object) -> str:
    return _name(value, "scenario name")


def _suite_name(value: object) -> str:
    return _name(value, "suite name")


def _freeze_initial_state(value: object) -> State:
    return to_state(value, path="initial_state")


def _mission_entry(entry: object, index: int) -> MissionCall:
    where = f"missions[{index}]"
    if isinstance(entry, MissionCall):
        if entry.state:
            raise InvalidValueError(
                f"{where}: a scenario's mission takes its state from the mission before it; "
                "give the state as the scenario's initial_state, not on the MissionCall"
            )
        return entry
    if isinstance(entry, str):
        return MissionCall(entry)
    if isinstance(entry, (tuple, list)) and 1 <= len(entry) <= 3:
        mission, params, inputs = (*entry, None, None)[:3]
        try:
            return MissionCall(mission, params, None, inputs)
        except InvalidValueError as exc:
            raise InvalidValueError(f"{where}.{exc}") from None
    raise InvalidValueError(
        f"{where}: expected (mission, params, inputs), a mission name or a MissionCall, got {brief_repr(entry)}"
    )


def _freeze_missions(value: object) -> tuple[MissionCall, ...]:
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Iterable):
        raise InvalidValueError(f"missions: expected a list of (mission, params, inputs), got {type(value).__name__}")
    missions = tuple(_mission_entry(entry, index) for index, entry in enumerate(value))
    if not missions:
        raise InvalidValueError("missions: a scenario needs at least one mission")
    return missions


@attrs.frozen
class Scenario:
    """A named story: `initial_state`, then `missions` run in order, each from the previous one's final state.

    A mission entry is `(mission, params, inputs)` (params and inputs
    optional), a bare mission name, or a `MissionCall` without a state;
    everything is frozen on construction.
    """

    name: str = attrs.field(converter=_scenario_name)
    initial_state: State = attrs.field(factory=State, converter=_freeze_initial_state)
    missions: tuple[MissionCall, ...] = attrs.field(factory=tuple, converter=_freeze_missions)


def _freeze_scenarios(value: object) -> tuple[Scenario, ...]:
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Iterable):
        raise InvalidValueError(f"scenarios: expected a list of Scenario, got {type(value).__name__}")
    scenarios = tuple(value)
    seen: set[str] = set()
    for index, scenario in enumerate(scenarios):
        if not isinstance(scenario, Scenario):
            raise InvalidValueError(f"scenarios[{index}]: expected a Scenario, got {type(scenario).__name__}")
        if scenario.name in seen:
            raise InvalidValueError(
                f"scenarios[{index}]: the name {scenario.name!r} is already taken; names must be unique"
            )
        seen.add(scenario.name)
    if not scenarios:
        raise InvalidValueError("scenarios: a suite needs at least one scenario")
    return scenarios


@attrs.frozen
class Suite:
    """A named set of independent scenarios (names unique), run by `run_suite`."""

    name: str = attrs.field(converter=_suite_name)
    scenarios: tuple[Scenario, ...] = attrs.field(converter=_freeze_scenarios)

    def scenario(self, name: str) -> Scenario:
        """The scenario called `name`; `KeyError` naming the known ones otherwise."""
        for scenario in self.scenarios:
            if scenario.name == name:
                return scenario
        raise KeyError(f"suite {self.name!r} has no scenario {name!r}; scenarios: {[s.name for s in self.scenarios]}")


def mission_key(index: int, call: MissionCall) -> str:
    """How golden documents name a scenario's mission: `"<index>:<mission>"`, e.g. `"0:daily_loop"`."""
    return f"{index}:{call.mission}"


@attrs.frozen
class ScenarioResult:
    """The results of one scenario's missions that ran, in order (a scenario stops at its first non-completed mission)."""

    scenario: Scenario
    results: tuple[OrchestrationResult, ...]

    @property
    def name(self) -> str:
        """The scenario's name."""
        return self.scenario.name

    @property
    def status(self) -> str:
        """ "completed" when every mission ran and completed; otherwise the status of the mission it stopped at."""
        return self.results[-1].status

    @property
    def skipped(self) -> tuple[MissionCall, ...]:
        """The missions not run because an earlier one did not complete."""
        return self.scenario.missions[len(self.results) :]

    @property
    def final_state(self) -> State:
        """The last mission's final state."""
        return self.results[-1].final_state


@attrs.frozen
class SuiteResult:
    """Each scenario's results, in suite order, and the suite `digest` over every receipt head."""

    suite: Suite
    scenarios: tuple[ScenarioResult, ...]

    def scenario(self, name: str) -> ScenarioResult:
        """The results of the scenario called `name`; `KeyError` naming the known ones otherwise."""
        for outcome in self.scenarios:
            if outcome.name == name:
                return outcome
        raise KeyError(
            f"suite {self.suite.name!r} has no scenario {name!r}; scenarios: {[s.name for s in self.scenarios]}"
        )

    def result(self, scenario: str, index: int) -> OrchestrationResult:
        """The result of mission `index` (from 0) of the scenario `scenario`; `IndexError` if it did not run."""
        outcome = self.scenario(scenario)
        if not 0 <= index < len(outcome.results):
            raise IndexError(
                f"scenario {scenario!r}: mission {index} did not run ({len(outcome.results)} of "
                f"{len(outcome.scenario.missions)} missions ran)"
            )
        return outcome.results[index]

    @property
    def ok(self) -> bool:
        """True when every mission of every scenario ran and completed."""
        return all(outcome.status == COMPLETED and not outcome.skipped for outcome in self.scenarios)

    @property
    def digest(self) -> str:
        """SHA-256 of JCS `["stepfold/suite/1", [[scenario, [[mission, head], ...]], ...]]` (see the module doc)."""
        body = [
            [
                outcome.name,
                [
                    [call.mission, result.receipt.head]
                    for call, result in zip(outcome.scenario.missions, outcome.results)
                ],
            ]
            for outcome in self.scenarios
        ]
        return sha256_json([SUITE_DIGEST_TAG, body])

    def heads(self) -> dict[str, dict[str, str]]:
        """`{scenario: {"<index>:<mission>": receipt head}}`, in suite order."""
        return {
            outcome.name: {
                mission_key(index, call): result.receipt.head
                for index, (call, result) in enumerate(zip(outcome.scenario.missions, outcome.results))
            }
            for outcome in self.scenarios
        }


# Running ----------------------------------------------------------------------


def check_suite(suite: Suite, *, policy: Policy = TIER2_POLICY) -> None:
    """Every check `run_suite` makes before anything runs; raises the first failure, noted with its scenario and mission.

    Each mission must be registered, build a workflow from its params
    within `policy`, and have inputs only for its steps that take one.
    """
    if not isinstance(suite, Suite):
        raise InvalidValueError(f"suite: expected a Suite, got {type(suite).__name__}")
    for scenario in suite.scenarios:
        for index, call in enumerate(scenario.missions):
            try:
                workflow = build_workflow(MissionSpec(call.mission, call.params), policy=policy)
                check_run(
                    workflow,
                    ExecutionContext(inputs=call.inputs),
                    policy=policy,
                    operations=mission_operations(call.mission),
                )
            except Exception as exc:
                exc.add_note(
                    f"in suite {suite.name!r}, scenario {scenario.name!r}, mission {mission_key(index, call)!r}"
                )
                raise


def run_suite(
    suite: Suite, executor: concurrent.futures.Executor | None = None, *, policy: Policy = TIER2_POLICY
) -> SuiteResult:
    """Check every mission, then run each scenario (in parallel over `executor`, if given); the same result whatever the executor.

    Raises what `check_suite` raises, before anything runs; a mission that
    fails or suspends is a result, and ends its scenario. Each scenario is
    one task of `stepfold.worker`'s protocol.
    """
    check_arguments(executor, policy)
    discover_missions()
    check_suite(suite, policy=policy)
    if executor is None:
        return SuiteResult(
            suite,
            tuple(
                ScenarioResult(scenario, tuple(run_chain(scenario.initial_state, scenario.missions, policy)))
                for scenario in suite.scenarios
            ),
        )
    tasks = []
    try:
        for scenario in suite.scenarios:
            tasks.append(submit_chains(executor, [(scenario.initial_state, scenario.missions)], policy))
        outcomes = []
        for scenario, task in zip(suite.scenarios, tasks):
            (outcome,) = task.outcomes()
            if isinstance(outcome, ChainError):
                raise StepfoldError(
                    f"scenario {scenario.name!r} could not run in the executor: {outcome.error_type}: "
                    f"{outcome.message} (a worker finds missions registered through entry points or at import, "
                    "not ones registered at run time in this process)"
                )
            outcomes.append(ScenarioResult(scenario, tuple(outcome)))
        return SuiteResult(suite, tuple(outcomes))
    finally:
        for task in tasks:
            task.cancel()
