"""`stepfold.batch` (`run_many`, `run_as_completed`) and the worker protocol: the same results whatever the executor (Dask included)."""

from __future__ import annotations

import concurrent.futures
import json
import multiprocessing
import os
import textwrap
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from stepfold import MISSION_REGISTRY, ExecutionContext, Mission, StepSpec, WorkflowDefinition, run_mission
from stepfold.batch import BatchError, CallError, Outcome, run_as_completed, run_many
from stepfold.mission_call import MissionCall
from stepfold.suite import Scenario, Suite, run_suite

ROOT = Path(__file__).resolve().parent.parent
DAILY_STATE = json.loads((ROOT / "examples" / "daily_state.json").read_text(encoding="utf-8"))
APPROVE = {"daily-confirm-priorities": {"approved": True}}


def daily_calls(count: int) -> list[MissionCall]:
    """Daily loops over varied dates and limits; every fourth one is left waiting for its human step."""
    return [
        MissionCall(
            "daily_loop",
            {"date": f"2026-11-{1 + i % 28:02d}", "max_priorities": 1 + i % 3},
            DAILY_STATE,
            {} if i % 4 == 0 else APPROVE,
        )
        for i in range(count)
    ]


MIXED = [
    *daily_calls(8),
    MissionCall("echo", {"hello": "world"}),
    MissionCall("daily_loop", {}, {"tasks": [{"id": "a", "priority": "high"}]}, APPROVE),  # fails at its first step
    MissionCall("nope"),  # unknown mission: cannot run
    MissionCall("daily_loop", {"date": "24/11/2026"}),  # params its builder refuses
    MissionCall("echo", {}, {}, {"no-such-step": 1}),  # inputs for a step the workflow lacks
    MissionCall("echo", {"payload_key": "x"}, {"x": [1, 2.5, None]}),
]
BAD = {10: "UnknownMissionError", 11: "InvalidValueError", 12: "InvalidValueError"}


def documents(outcomes: Sequence[Outcome]) -> list[dict[str, object]]:
    return [outcome.to_dict() for outcome in outcomes]


@pytest.fixture(scope="module")
def expected() -> list[dict[str, object]]:
    """What running MIXED here, one call after another, gives."""
    return documents(run_many(MIXED, errors="return"))


def test_results_come_in_call_order_and_equal_run_mission() -> None:
    calls = daily_calls(6)
    results = run_many(calls)
    assert [result.to_dict() for result in results] == [
        run_mission(call.mission, ExecutionContext(call.state, call.inputs), call.params).to_dict() for call in calls
    ]
    assert [result.status for result in results] == [
        "suspended",
        "completed",
        "completed",
        "completed",
        "suspended",
        "completed",
    ]


def test_a_mission_that_fails_is_a_failed_result_not_an_error() -> None:
    (result,) = run_many([MIXED[9]])
    assert result.status == "failed" and result.failed_step_id == "daily-summarise-yesterday"


def test_errors_return_puts_a_call_error_in_its_slot_and_every_other_call_completes() -> None:
    outcomes = run_many(MIXED, errors="return")
    errors = {index: outcome for index, outcome in enumerate(outcomes) if isinstance(outcome, CallError)}
    assert {index: error.error_type for index, error in errors.items()} == BAD
    assert errors[10] == CallError(10, "nope", "UnknownMissionError", errors[10].message)
    assert "available missions: ['daily_loop', 'echo', 'run_tests']" in errors[10].message
    assert str(errors[11]).startswith("call 11 (mission 'daily_loop'): InvalidValueError: params.date:")
    assert "no human or effect step 'no-such-step'" in errors[12].message
    assert outcomes[13].to_dict()["final_state"] == {"x": [1, 2.5, None], "echo": [1, 2.5, None]}


def test_errors_raise_raises_the_first_bad_call_in_call_order() -> None:
    with pytest.raises(BatchError) as caught:
        run_many(MIXED)
    assert caught.value.error.index == 10 and caught.value.error.mission == "nope"
    assert str(caught.value).startswith("call 10 (mission 'nope'): UnknownMissionError: unknown mission 'nope'")
    assert type(caught.value.__cause__).__name__ == "UnknownMissionError"


@pytest.mark.parametrize(
    ("keywords", "message"),
    [
        ({"errors": "ignore"}, "errors: expected one of ['raise', 'return']"),
        ({"chunksize": 0}, "chunksize: expected an int >= 1"),
    ],
)
def test_bad_arguments_are_refused_before_anything_runs(keywords: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError) as caught:
        run_many(MIXED, **keywords)  # type: ignore[call-overload]
    assert message in str(caught.value)


def test_only_mission_calls_are_accepted() -> None:
    with pytest.raises(ValueError, match=r"calls\[1\]: expected a MissionCall, got dict"):
        run_many([MissionCall("echo"), {"mission": "echo"}])  # type: ignore[list-item]


# Pools ----------------------------------------------------------------------------


def test_a_thread_pool_gives_identical_results(expected: list[dict[str, object]]) -> None:
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        assert documents(run_many(MIXED, pool, errors="return")) == expected


@pytest.mark.parametrize("chunksize", [1, 4])
def test_a_process_pool_gives_identical_results(expected: list[dict[str, object]], chunksize: int) -> None:
    with concurrent.futures.ProcessPoolExecutor(2) as pool:
        assert documents(run_many(MIXED, pool, errors="return", chunksize=chunksize)) == expected
        with pytest.raises(BatchError) as caught:
            run_many(MIXED, pool, chunksize=chunksize)
    assert str(caught.value) == str(CallError(10, "nope", "UnknownMissionError", str(expected[10]["message"])))


def test_run_as_completed_yields_every_call_once(expected: list[dict[str, object]]) -> None:
    with concurrent.futures.ProcessPoolExecutor(2) as pool:
        seen = dict(run_as_completed(MIXED, pool, chunksize=3))
    assert sorted(seen) == list(range(len(MIXED)))
    assert documents([seen[index] for index in range(len(MIXED))]) == expected
    assert [index for index, _ in run_as_completed(MIXED)] == list(range(len(MIXED)))


PLUGIN = '''
"""A mission that only an entry point makes known."""
from stepfold import Mission, StepSpec, WorkflowDefinition


def stamp(state, step):
    return state.set("stamped", step.payload["mark"])


def build(params):
    mark = params.get("mark", "plugged")
    return WorkflowDefinition(id="plugged", steps=[StepSpec("stamp", "runtime", {"operation": "plugged.stamp", "mark": mark})])


PLUGGED = Mission(build, operations={"plugged.stamp": stamp})
'''


def write_plugin(site: Path, module: str, source: str, points: dict[str, str]) -> Path:
    """An installed distribution as importlib.metadata sees one: a module and a dist-info with entry points."""
    info = site / f"{module}-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {module}\nVersion: 0.1\n", encoding="utf-8")
    lines = "".join(f"{name} = {target}\n" for name, target in points.items())
    (info / "entry_points.txt").write_text(f"[stepfold.missions]\n{lines}", encoding="utf-8")
    (site / f"{module}.py").write_text(textwrap.dedent(source).lstrip(), encoding="utf-8")
    return site


def test_a_fresh_worker_finds_missions_installed_through_entry_points(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, registry_restored: None
) -> None:
    monkeypatch.syspath_prepend(
        str(write_plugin(tmp_path / "site", "plugged_mission", PLUGIN, {"plugged": "plugged_mission:PLUGGED"}))
    )
    calls = [MissionCall("plugged", {"mark": "from a plugin"}), MissionCall("echo")]
    spawn = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(1, mp_context=spawn) as pool:
        results = run_many(calls, pool)
    assert "plugged" not in MISSION_REGISTRY  # found by the worker, not registered here
    assert results[0].final_state == {"stamped": "from a plugin"}
    assert [result.status for result in results] == ["completed", "completed"]


def crash(state: object, step: object) -> object:
    os._exit(17)


def build_crash(params: object) -> WorkflowDefinition:
    return WorkflowDefinition(id="crash", steps=[StepSpec("crash-now", "runtime", {"operation": "crash.now"})])


def test_a_worker_that_dies_is_its_calls_error_not_the_end_of_the_batch(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(MISSION_REGISTRY, "crash", Mission(build_crash, operations={"crash.now": crash}))
    fork = multiprocessing.get_context("fork")
    calls = [MissionCall("echo"), MissionCall("crash"), MissionCall("echo", {"after": True})]
    with concurrent.futures.ProcessPoolExecutor(1, mp_context=fork) as pool:
        outcomes = run_many(calls, pool, errors="return")
    assert isinstance(outcomes[1], CallError) and outcomes[1].error_type == "BrokenProcessPool"
    assert outcomes[1].mission == "crash"
    for outcome in outcomes:
        assert isinstance(outcome, CallError) or outcome.status == "completed"


# Dask ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def dask_executor() -> Iterator[concurrent.futures.Executor]:
    """A local Dask cluster of two worker processes, started once for this module."""
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=40
    )
    client = distributed.Client(cluster)
    try:
        executor: concurrent.futures.Executor = client.get_executor()
        yield executor
    finally:
        client.close()
        cluster.close()


def test_a_dask_cluster_gives_identical_results(
    dask_executor: concurrent.futures.Executor, expected: list[dict[str, object]]
) -> None:
    assert documents(run_many(MIXED, dask_executor, errors="return")) == expected
    assert documents(run_many(MIXED, dask_executor, errors="return", chunksize=5)) == expected
    with pytest.raises(BatchError, match=r"^call 10 \(mission 'nope'\): UnknownMissionError"):
        run_many(MIXED, dask_executor)


def test_a_suite_over_a_dask_cluster_has_the_same_digest(dask_executor: concurrent.futures.Executor) -> None:
    suite = Suite(
        "days",
        [
            Scenario(
                "week", DAILY_STATE, [("daily_loop", {"date": f"2026-11-{day}"}, APPROVE) for day in (24, 25, 26)]
            ),
            Scenario("echo", {"x": 1}, [("echo", {"payload_key": "x"})]),
        ],
    )
    here = run_suite(suite)
    there = run_suite(suite, dask_executor)
    assert there.digest == here.digest
    assert [[r.to_dict() for r in s.results] for s in there.scenarios] == [
        [r.to_dict() for r in s.results] for s in here.scenarios
    ]


def test_run_call_refuses_what_is_not_a_call() -> None:
    from stepfold.batch import run_call
    from stepfold.errors import InvalidValueError

    with pytest.raises(InvalidValueError, match=r"^call: expected a MissionCall, got int$"):
        run_call(3)  # type: ignore[arg-type]
