"""Scenarios, suites and golden receipts: `Scenario`, `Suite`, `run_suite`, `SuiteResult`, `golden_document`, `compare_golden`.

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
`concurrent.futures.Executor` (see `stepfold.executors` for what crosses to
a worker). The result, and its `digest`, are the same whatever the executor.

Suite digest: SHA-256 (hex) of the RFC 8785 encoding of
`["stepfold/suite/1", [[scenario name, [[mission name, receipt head], ...]], ...]]`,
scenarios in suite order and missions in run order (the suite's own name is
not hashed, so renaming a suite keeps its digest).

A golden document (`golden_document`) records each mission's receipt: its
head, status, workflow and initial-state digests and every link with its
step id, so that `compare_golden` can name the scenario, the mission and
the first divergent step when a later run differs.
"""

from __future__ import annotations

import concurrent.futures
import json
from collections.abc import Iterable, Mapping, Sequence

import attrs

from stepfold.builder import MissionSpec, build_workflow
from stepfold.canonical import sha256_json
from stepfold.engine import check_run
from stepfold.errors import InvalidDocumentError, InvalidValueError, StepfoldError
from stepfold.executors import MissionCall, _policy_document
from stepfold.lineage import COMPLETED
from stepfold.messages import brief_repr
from stepfold.plugins import discover_missions
from stepfold.policy import TIER2_POLICY, Policy
from stepfold.registry import mission_operations, run_mission
from stepfold.result import OrchestrationResult
from stepfold.state import State
from stepfold.values import Params, freeze_map, thaw
from stepfold.workflow import HUMAN, ExecutionContext

__all__ = [
    "Scenario",
    "Suite",
    "ScenarioResult",
    "SuiteResult",
    "GoldenDivergence",
    "run_suite",
    "check_suite",
    "golden_document",
    "golden_json",
    "compare_golden",
    "mission_key",
    "SUITE_DIGEST_TAG",
    "GOLDEN_FORMAT",
]

SUITE_DIGEST_TAG = "stepfold/suite/1"
"""The format tag hashed first into every suite digest."""

GOLDEN_FORMAT = "stepfold/golden/1"
"""The `format` of a golden document."""


def _name(value: object, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidValueError(f"{what}: expected a non-empty string, got {value!r}")
    return value


def _scenario_name(value: object) -> str:
    return _name(value, "scenario name")


def _suite_name(value: object) -> str:
    return _name(value, "suite name")


def _freeze_initial_state(value: object) -> Params:
    return freeze_map({} if value is None else value, path="initial_state")


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
    initial_state: Params = attrs.field(factory=dict, converter=_freeze_initial_state)
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
    within `policy`, and have inputs only for its human steps.
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


def _run_chain(
    initial_state: Mapping[str, object], missions: Sequence[MissionCall], policy: Policy
) -> list[OrchestrationResult]:
    results: list[OrchestrationResult] = []
    state: Mapping[str, object] = initial_state
    for call in missions:
        result = run_mission(call.mission, ExecutionContext(state, call.inputs), call.params, policy=policy)
        results.append(result)
        if result.status != COMPLETED:
            break
        state = result.final_state
    return results


def _run_scenario(
    initial_state: Mapping[str, object], missions: Sequence[Mapping[str, object]], policy: Mapping[str, object]
) -> dict[str, object]:
    """Worker entry point: run one scenario from plain data; `{"results": [to_dict(), ...]}` or the error, as plain data."""
    try:
        discover_missions()
        calls = [MissionCall.from_dict(document) for document in missions]
        results = _run_chain(initial_state, calls, Policy(**policy))  # type: ignore[arg-type]
    except Exception as exc:  # reported by the caller, naming the scenario
        return {"error": f"{type(exc).__name__}: {' '.join(str(exc).split())}"}
    return {"results": [result.to_dict() for result in results]}


def _read_scenario(scenario: Scenario, document: object) -> ScenarioResult:
    if not isinstance(document, Mapping) or not isinstance(document.get("results"), list):
        error = document.get("error") if isinstance(document, Mapping) else repr(document)
        raise StepfoldError(
            f"scenario {scenario.name!r} could not run in the executor: {error} (a worker finds missions "
            "registered through entry points or at import, not ones registered at run time in this process)"
        )
    return ScenarioResult(scenario, tuple(OrchestrationResult.from_dict(doc) for doc in document["results"]))


def run_suite(
    suite: Suite, executor: concurrent.futures.Executor | None = None, *, policy: Policy = TIER2_POLICY
) -> SuiteResult:
    """Check every mission, then run each scenario (in parallel over `executor`, if given); the same result whatever the executor.

    Raises what `check_suite` raises, before anything runs; a mission that
    fails or suspends is a result, and ends its scenario.
    """
    discover_missions()
    check_suite(suite, policy=policy)
    if executor is None:
        return SuiteResult(
            suite,
            tuple(
                ScenarioResult(scenario, tuple(_run_chain(scenario.initial_state, scenario.missions, policy)))
                for scenario in suite.scenarios
            ),
        )
    limits = _policy_document(policy)
    futures = []
    try:
        for scenario in suite.scenarios:
            missions = [call.to_dict() for call in scenario.missions]
            state = {key: thaw(value) for key, value in scenario.initial_state.items()}
            futures.append(executor.submit(_run_scenario, state, missions, limits))
        return SuiteResult(
            suite,
            tuple(_read_scenario(scenario, future.result()) for scenario, future in zip(suite.scenarios, futures)),
        )
    finally:
        for future in futures:
            future.cancel()


# Golden receipts ----------------------------------------------------------------


def golden_document(result: SuiteResult) -> dict[str, object]:
    """The golden record of a suite run: per scenario and mission, the receipt's head, status, digests and links.

    Shape: `{"format", "suite", "digest", "scenarios": {scenario: {"<index>:<mission>": {"head",
    "status", "workflow_digest", "initial_state_digest", "links": [{"step", "status", "hash"}, ...]}}}}`,
    in suite and run order (write it without sorting keys).
    """
    scenarios: dict[str, object] = {}
    for outcome in result.scenarios:
        missions: dict[str, object] = {}
        for index, (call, run) in enumerate(zip(outcome.scenario.missions, outcome.results)):
            receipt = run.receipt
            missions[mission_key(index, call)] = {
                "head": receipt.head,
                "status": run.status,
                "workflow_digest": receipt.workflow_digest,
                "initial_state_digest": receipt.initial_state_digest,
                "links": [{"step": link.step_id, "status": link.status, "hash": link.hash} for link in receipt.links],
            }
        scenarios[outcome.name] = missions
    return {"format": GOLDEN_FORMAT, "suite": result.suite.name, "digest": result.digest, "scenarios": scenarios}


def golden_json(document: Mapping[str, object]) -> str:
    """The text of a golden file: indented JSON in document order, each object of scalars (a link) on one line, ending in a newline."""
    return _render(document, "") + "\n"


def _is_scalar(value: object) -> bool:
    return not isinstance(value, (Mapping, list, tuple))


def _render(value: object, indent: str) -> str:
    inner = indent + "  "
    if isinstance(value, Mapping):
        if all(_is_scalar(item) for item in value.values()):
            return json.dumps(dict(value), ensure_ascii=False)
        items = [
            f"{inner}{json.dumps(str(key), ensure_ascii=False)}: {_render(item, inner)}" for key, item in value.items()
        ]
        return "{\n" + ",\n".join(items) + f"\n{indent}}}"
    if isinstance(value, (list, tuple)):
        if not value:
            return "[]"
        return "[\n" + ",\n".join(f"{inner}{_render(item, inner)}" for item in value) + f"\n{indent}]"
    return json.dumps(value, ensure_ascii=False)


@attrs.frozen
class GoldenDivergence:
    """Where a run first differs from its golden record: scenario, mission key, the first divergent step, and why."""

    scenario: str
    mission: str | None
    step_id: str | None
    step_index: int | None
    reason: str

    def __str__(self) -> str:
        where = f"scenario {self.scenario!r}"
        if self.mission is not None:
            where += f", mission {self.mission!r}"
        if self.step_id is not None:
            where += f": first divergent step {self.step_id!r} (index {self.step_index})"
        return f"{where}: {self.reason}"


@attrs.frozen
class _GoldenLink:
    step: str
    status: str
    hash: str


@attrs.frozen
class _GoldenMission:
    head: str
    status: str
    workflow_digest: str
    initial_state_digest: str
    links: tuple[_GoldenLink, ...]


def _text(mapping: Mapping[str, object], key: str, where: str) -> str:
    value = mapping.get(key)
    if not isinstance(value, str):
        raise InvalidDocumentError(f"{where}.{key}: expected a string, got {brief_repr(value)}")
    return value


def _object(value: object, where: str) -> Mapping[str, object]:
    if not isinstance(value, Mapping):
        raise InvalidDocumentError(f"{where}: expected an object, got {type(value).__name__}")
    return value


def _read_golden(golden: object) -> dict[str, dict[str, _GoldenMission]]:
    document = _object(golden, "golden")
    if document.get("format") != GOLDEN_FORMAT:
        raise InvalidDocumentError(
            f"golden.format: expected {GOLDEN_FORMAT!r}, got {brief_repr(document.get('format'))}"
        )
    scenarios: dict[str, dict[str, _GoldenMission]] = {}
    for name, missions in _object(document.get("scenarios"), "golden.scenarios").items():
        read: dict[str, _GoldenMission] = {}
        for key, entry in _object(missions, f"golden.scenarios.{name}").items():
            where = f"golden.scenarios.{name}.{key}"
            mission = _object(entry, where)
            raw_links = mission.get("links")
            if not isinstance(raw_links, list):
                raise InvalidDocumentError(f"{where}.links: expected an array, got {brief_repr(raw_links)}")
            links = []
            for index, raw in enumerate(raw_links):
                link = _object(raw, f"{where}.links[{index}]")
                at = f"{where}.links[{index}]"
                links.append(_GoldenLink(_text(link, "step", at), _text(link, "status", at), _text(link, "hash", at)))
            read[str(key)] = _GoldenMission(
                head=_text(mission, "head", where),
                status=_text(mission, "status", where),
                workflow_digest=_text(mission, "workflow_digest", where),
                initial_state_digest=_text(mission, "initial_state_digest", where),
                links=tuple(links),
            )
        scenarios[str(name)] = read
    return scenarios


def _mission_divergence(
    scenario: str, key: str, golden: _GoldenMission, run: OrchestrationResult
) -> GoldenDivergence | None:
    receipt = run.receipt
    if golden.head == receipt.head:
        return None
    links = receipt.links
    first = links[0].step_id if links else (golden.links[0].step if golden.links else None)
    if golden.workflow_digest != receipt.workflow_digest:
        return GoldenDivergence(
            scenario,
            key,
            first,
            0 if first else None,
            "the workflow differs (its builder, params or steps changed), so every link does",
        )
    if golden.initial_state_digest != receipt.initial_state_digest:
        return GoldenDivergence(
            scenario,
            key,
            first,
            0 if first else None,
            "the initial state differs (the scenario's initial_state, or an earlier mission's "
            "final state, changed), so every link does",
        )
    for index in range(min(len(golden.links), len(links))):
        was, now = golden.links[index], links[index]
        if was.step != now.step_id:
            return GoldenDivergence(scenario, key, now.step_id, index, f"the golden run has step {was.step!r} here")
        if was.hash != now.hash:
            if was.status != now.status:
                why = f"the step is now {now.status}, was {was.status}"
                if now.status != COMPLETED and run.error_message:
                    why += f" ({run.error_message})"
            elif run.workflow.steps[index].kind == HUMAN:
                why = "its link differs: its human input, or the state its operation produces, changed"
            else:
                why = "its link differs: its operation now produces a different state"
            return GoldenDivergence(scenario, key, now.step_id, index, why)
    index = min(len(golden.links), len(links))
    if len(links) > len(golden.links):
        return GoldenDivergence(
            scenario,
            key,
            links[index].step_id,
            index,
            f"the step runs now but did not in the golden run (which was {golden.status})",
        )
    if len(golden.links) > len(links):
        now_status = run.status + (f" at {run.pending_step_id!r}" if run.pending_step_id else "")
        return GoldenDivergence(
            scenario,
            key,
            golden.links[index].step,
            index,
            f"the step ran in the golden run but does not now (the run is now {now_status})",
        )
    return GoldenDivergence(
        scenario, key, None, None, "the head differs though every link matches (was the golden file edited?)"
    )


def compare_golden(golden: object, result: SuiteResult) -> tuple[GoldenDivergence, ...]:
    """How `result` differs from a golden document: per scenario, its first divergent mission and step; () when equal.

    A golden document that cannot be read raises `InvalidDocumentError` naming the field.
    """
    recorded = _read_golden(golden)
    found: list[GoldenDivergence] = []
    names = {outcome.name for outcome in result.scenarios}
    for outcome in result.scenarios:
        if outcome.name not in recorded:
            found.append(
                GoldenDivergence(outcome.name, None, None, None, "the scenario is new: it is not in the golden file")
            )
            continue
        missions = recorded[outcome.name]
        golden_keys = list(missions)
        keys = [
            mission_key(index, call) for index, call in enumerate(outcome.scenario.missions[: len(outcome.results)])
        ]
        for index in range(max(len(golden_keys), len(keys))):
            if index >= len(keys):
                last = outcome.results[-1]
                found.append(
                    GoldenDivergence(
                        outcome.name,
                        golden_keys[index],
                        None,
                        None,
                        f"the mission ran in the golden run but not now (the scenario now stops at mission "
                        f"{keys[-1]!r}, which is {last.status})",
                    )
                )
                break
            if index >= len(golden_keys):
                found.append(
                    GoldenDivergence(
                        outcome.name, keys[index], None, None, "the mission runs now but did not in the golden run"
                    )
                )
                break
            if golden_keys[index] != keys[index]:
                found.append(
                    GoldenDivergence(
                        outcome.name, keys[index], None, None, f"the golden run has mission {golden_keys[index]!r} here"
                    )
                )
                break
            divergence = _mission_divergence(outcome.name, keys[index], missions[keys[index]], outcome.results[index])
            if divergence is not None:
                later = sum(
                    1
                    for later_index in range(index + 1, min(len(keys), len(golden_keys)))
                    if missions[golden_keys[later_index]].head != outcome.results[later_index].receipt.head
                )
                if later:
                    divergence = attrs.evolve(
                        divergence, reason=f"{divergence.reason} (and {later} later mission(s) of this scenario differ)"
                    )
                found.append(divergence)
                break
    for name in recorded:
        if name not in names:
            found.append(
                GoldenDivergence(name, None, None, None, "the scenario is in the golden file but not in the suite")
            )
    return tuple(found)
