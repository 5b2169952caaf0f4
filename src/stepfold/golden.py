"""Golden receipts: a suite run's receipts recorded in a file (`golden_document`, `golden_json`), and `compare_golden`.

A golden document records each mission's receipt: its head, status,
workflow and initial-state digests and every link with its step id, so that
`compare_golden` can name the scenario, the mission and the first
divergent step when a later run differs.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

import attrs

from stepfold.errors import InvalidDocumentError, InvalidValueError
from stepfold.fields import read_field, read_mapping, read_sequence, read_text
from stepfold.lineage import COMPLETED
from stepfold.messages import brief_repr
from stepfold.result import OrchestrationResult
from stepfold.suite import SuiteResult, mission_key
from stepfold.workflow import HUMAN

__all__ = ["GOLDEN_FORMAT", "GoldenDivergence", "golden_document", "golden_json", "compare_golden"]

GOLDEN_FORMAT = "stepfold/golden/1"
"""The `format` of a golden document."""


def _check_suite_result(result: object) -> None:
    if not isinstance(result, SuiteResult):
        raise InvalidValueError(f"result: expected a SuiteResult (what run_suite returns), got {type(result).__name__}")


def golden_document(result: SuiteResult) -> dict[str, object]:
    """The golden record of a suite run: per scenario and mission, the receipt's head, status, digests and links.

    Shape: `{"format", "suite", "digest", "scenarios": {scenario: {"<index>:<mission>": {"head",
    "status", "workflow_digest", "initial_state_digest", "links": [{"step", "status", "hash"}, ...]}}}}`,
    in suite and run order (write it without sorting keys).
    """
    _check_suite_result(result)
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


def _string(mapping: Mapping[str, object], key: str, where: str) -> str:
    return read_text(read_field(mapping, where, key), f"{where}.{key}")


def _read_golden(golden: object) -> dict[str, dict[str, _GoldenMission]]:
    document = read_mapping(golden, "golden")
    if document.get("format") != GOLDEN_FORMAT:
        raise InvalidDocumentError(
            f"golden.format: expected {GOLDEN_FORMAT!r}, got {brief_repr(document.get('format'))}"
        )
    scenarios: dict[str, dict[str, _GoldenMission]] = {}
    for name, missions in read_mapping(document.get("scenarios"), "golden.scenarios").items():
        read: dict[str, _GoldenMission] = {}
        for key, entry in read_mapping(missions, f"golden.scenarios.{name}").items():
            where = f"golden.scenarios.{name}.{key}"
            mission = read_mapping(entry, where)
            links = []
            for index, raw in enumerate(read_sequence(read_field(mission, where, "links"), f"{where}.links")):
                at = f"{where}.links[{index}]"
                link = read_mapping(raw, at)
                links.append(
                    _GoldenLink(_string(link, "step", at), _string(link, "status", at), _string(link, "hash", at))
                )
            read[str(key)] = _GoldenMission(
                head=_string(mission, "head", where),
                status=_string(mission, "status", where),
                workflow_digest=_string(mission, "workflow_digest", where),
                initial_state_digest=_string(mission, "initial_state_digest", where),
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
    _check_suite_result(result)
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
