"""`SQLiteStore`: save/load round trip, ids and prefixes, content-addressed states, crash safety, foreign files."""

from __future__ import annotations

import json
import multiprocessing
import re
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import stepfold.store as store_module
from stepfold import (
    AlreadyResumedError,
    ExecutionContext,
    InvalidValueError,
    OrchestrationResult,
    Receipt,
    State,
    StepSpec,
    TamperedRunError,
    WorkflowDefinition,
    failed_outcome,
    fork,
    ok_outcome,
    resume,
    run_mission,
    run_workflow,
    verify,
)
from stepfold.errors import RunNotFoundError, StepfoldError, StoreError
from stepfold.operations import DEFAULT_OPERATIONS
from stepfold.store import RunSummary, SQLiteStore, schema
from stepfold.store.states import pack
from tests.helpers import SCRIPT
from tests.test_cli_audit import APPROVE, daily, one_error_line, refused, stepfold
from tests.test_verification import DECISION, _input_for, decided, forged, policed_runs


def _workflow(run: int) -> WorkflowDefinition:
    return WorkflowDefinition(
        id="w",
        steps=[
            StepSpec("set", "runtime", {"operation": "set", "key": "k00005", "value": {"run": run}}),
            StepSpec("count", "runtime", {"operation": "increment", "key": "counter", "by": run}),
            StepSpec("ask", "human", {}),
        ],
    )


def _state(size: int) -> State:
    return State({f"k{i:05d}": {"id": i, "name": f"item {i}", "tags": ["a", "b"]} for i in range(size)})


def test_save_load_round_trip(tmp_path: Path) -> None:
    context = ExecutionContext(initial_state=_state(50), inputs={"ask": {"ok": True}}, metadata={"who": "test"})
    result = run_workflow(_workflow(1), context)
    with SQLiteStore(tmp_path / "runs.db") as store:
        run_id = store.save(result)
        assert run_id == result.receipt.head
        loaded = store.load(run_id)
    assert loaded.to_dict() == result.to_dict()
    assert verify(loaded).ok


def test_suspended_run_resumes_after_reopening(tmp_path: Path) -> None:
    path = tmp_path / "runs.db"
    with SQLiteStore(path) as store:
        run_id = store.save(run_workflow(_workflow(2), ExecutionContext(initial_state=_state(20))))
    with SQLiteStore(path) as store:
        suspended = store.load(run_id[:8])
        assert suspended.pending_step_id == "ask"
        done = resume(suspended, {"ask": "yes"})
        done_id = store.save(done)
        upfront = run_workflow(_workflow(2), ExecutionContext(initial_state=_state(20), inputs={"ask": "yes"}))
        assert store.load(done_id).to_dict() == upfront.to_dict()
        assert [(r.status, r.pending_step_id, r.steps) for r in store.runs()] == [
            ("suspended", "ask", 2),
            ("completed", None, 3),
        ]


def test_run_ids_resolve_from_unique_prefixes(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "runs.db") as store:
        ids = [store.save(run_workflow(_workflow(i), ExecutionContext(initial_state=_state(5)))) for i in range(40)]
        for run_id in ids:
            assert store.resolve(run_id) == run_id
        assert store.resolve(ids[0][:20]) == ids[0]
        assert store.resolve(ids[0].upper()) == store.resolve(ids[0][:12].upper()) == ids[0]  # hex in either case
        with pytest.raises(RunNotFoundError, match="at least 6 hex characters"):
            store.resolve(ids[0][:5])
        with pytest.raises(RunNotFoundError, match="no such run"):
            store.resolve("0" * 64 if not any(i.startswith("000000") for i in ids) else "f" * 64)
        shared = sorted(ids)
        prefix = next((a[:6] for a, b in zip(shared, shared[1:]) if a[:6] == b[:6]), None)
        if prefix is not None:
            with pytest.raises(RunNotFoundError, match="more than one run"):
                store.resolve(prefix)


def test_saving_twice_is_a_no_op_and_a_different_result_with_the_same_head_is_refused(tmp_path: Path) -> None:
    workflow = WorkflowDefinition(id="w", steps=[StepSpec("h1", "human", {}), StepSpec("h2", "human", {})])
    first = run_workflow(workflow, ExecutionContext(inputs={"h2": 1}))
    other = run_workflow(workflow, ExecutionContext(inputs={"h2": 2}))
    assert first.receipt.head == other.receipt.head
    with SQLiteStore(tmp_path / "runs.db") as store:
        assert store.save(first) == store.save(first)
        with pytest.raises(StoreError, match="different result with the same receipt head"):
            store.save(other)
        assert len(store.runs()) == 1
        assert store.load(first.receipt.head).context.inputs == {"h2": 1}


def test_delete_removes_the_run_and_states_nobody_needs(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "runs.db") as store:
        a = store.save(run_workflow(_workflow(1), ExecutionContext(initial_state=_state(10))))
        b = store.save(run_workflow(_workflow(2), ExecutionContext(initial_state=_state(10))))
        assert store.delete(a[:10]) == a
        with pytest.raises(RunNotFoundError):
            store.load(a)
        assert store.load(b).final_state["counter"] == 2
        store.delete(b)
        assert store.runs() == []
    count = sqlite3.connect(tmp_path / "runs.db").execute("SELECT count(*) FROM states").fetchone()[0]
    assert count == 0


def test_states_are_stored_once_and_as_differences(tmp_path: Path) -> None:
    """300 runs over one 20k-entry state cost about one state plus small differences, not 300 states."""
    context = ExecutionContext(initial_state=_state(20_000))
    path = tmp_path / "runs.db"
    with SQLiteStore(path) as store:
        store.save(run_workflow(_workflow(0), context))
    one_run = path.stat().st_size
    with SQLiteStore(path) as store:
        for run in range(1, 300):
            store.save(run_workflow(_workflow(run), context))
        states = store._connection.execute("SELECT count(*), sum(base IS NULL) FROM states").fetchone()
    many_runs = path.stat().st_size
    assert states == (301, 1)  # the shared initial state whole, each run's final state as a difference
    per_run = (many_runs - one_run) / 299
    assert per_run < 3072  # receipt, steps and one difference: independent of the state's size
    assert many_runs < 300 * one_run / 50


def test_difference_chains_stay_short(tmp_path: Path) -> None:
    """Day after day (each run starting from the last one's final state), loading stays bounded."""
    state = _state(100)
    with SQLiteStore(tmp_path / "runs.db") as store:
        for day in range(40):
            result = run_workflow(_workflow(day), ExecutionContext(initial_state=state, inputs={"ask": day}))
            store.save(result)
            state = result.final_state
        depths = [row[0] for row in store._connection.execute("SELECT depth FROM states")]
        assert max(depths) <= store_module.MAX_DELTA_CHAIN
    with SQLiteStore(tmp_path / "runs.db") as store:
        last = store.runs()[-1]
        assert store.load(last.run_id).final_state == state


SAVE_LOOP = textwrap.dedent(
    """
    import sys
    from stepfold import ExecutionContext, State, StepSpec, WorkflowDefinition, run_workflow
    from stepfold.store import SQLiteStore

    store = SQLiteStore(sys.argv[1])
    state = State({f"k{i}": {"v": i} for i in range(2000)})
    run = 0
    while True:
        run += 1
        steps = [StepSpec("s", "runtime", {"operation": "set", "key": f"run{run}", "value": list(range(run % 50))})]
        print(store.save(run_workflow(WorkflowDefinition(id="loop", steps=steps), ExecutionContext(initial_state=state))), flush=True)
    """
)


def test_a_process_killed_mid_save_loses_no_completed_run(tmp_path: Path) -> None:
    path = tmp_path / "runs.db"
    script = tmp_path / "loop.py"
    script.write_text(SAVE_LOOP, encoding="utf-8")
    proc = subprocess.Popen([sys.executable, str(script), str(path)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    saved = [proc.stdout.readline().strip() for _ in range(25)]
    proc.kill()
    proc.wait()
    with SQLiteStore(path) as store:
        listed = [summary.run_id for summary in store.runs()]
        assert saved == listed[: len(saved)]
        assert len(listed) <= len(saved) + 1
        for run_id in listed:
            assert store.load(run_id).status == "completed"


def test_a_file_that_is_not_a_store_is_refused(tmp_path: Path) -> None:
    text = tmp_path / "notes.db"
    text.write_text("hello", encoding="utf-8")
    with pytest.raises(StoreError, match="not a stepfold store \\(not an SQLite database\\)"):
        SQLiteStore(text)
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE people (name TEXT)").connection.commit()
    with pytest.raises(StoreError, match="not a stepfold store \\(an SQLite database of something else\\)"):
        SQLiteStore(other)
    assert text.read_text(encoding="utf-8") == "hello"


def test_a_newer_store_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "runs.db"
    SQLiteStore(path).close()
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA user_version = 99")
    connection.close()
    with pytest.raises(StoreError, match="store format 99 is newer than this stepfold understands \\(2\\)"):
        SQLiteStore(path)


def test_a_store_with_tables_but_no_version_is_damaged_not_migrated(tmp_path: Path) -> None:
    path = tmp_path / "runs.db"
    SQLiteStore(path).close()
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA user_version = 0")
    connection.close()
    for create in (True, False):  # neither a writer (which would migrate from nothing) nor a reader takes it
        with pytest.raises(StoreError, match="the store is damaged: it holds tables but no format version"):
            SQLiteStore(path, create=create)


def format_1(result: OrchestrationResult) -> OrchestrationResult:
    """The same run as stepfold 0.1 recorded it: a format-1 receipt (no policy bound), links re-chained."""
    receipt = Receipt(result.id, result.workflow.digest, result.lineage.initial_state.digest)
    for link in result.receipt.links:
        receipt = receipt.extend(link.step_id, link.step_digest, link.input_digest, link.state_digest, link.status)
    return attrs.evolve(result, receipt=receipt)


def _store_of_format_1(path: Path, result: OrchestrationResult) -> None:
    """A store file as stepfold 0.1 wrote it: schema 1, whole states without accumulators, a format-1 document."""
    connection = sqlite3.connect(path, isolation_level=None)
    schema.MIGRATIONS[0](connection)
    connection.execute(f"PRAGMA application_id = {schema.APPLICATION_ID}")
    connection.execute("PRAGMA user_version = 1")
    for state in {
        result.lineage.initial_state.digest: result.lineage.initial_state,
        result.final_state.digest: result.final_state,
    }.values():
        connection.execute("INSERT INTO states VALUES (?, NULL, 0, ?)", (state.digest, pack(state.to_dict())))
    connection.execute(
        "INSERT INTO runs VALUES (?, 1, ?, ?, ?, ?, ?, ?, ?)",
        (
            result.run_id,
            result.id,
            result.status,
            result.pending_step_id,
            len(result.executed_steps),
            result.lineage.initial_state.digest,
            result.final_state.digest,
            pack(result.to_dict(include_states=False)),
        ),
    )
    connection.close()


def test_a_store_of_stepfold_0_1_is_migrated_and_its_runs_still_load_and_verify(tmp_path: Path) -> None:
    old = format_1(run_mission("daily_loop", ExecutionContext(initial_state={"tasks": [{"id": "a", "priority": 1}]})))
    assert old.to_dict()["format"] == "stepfold/result/1" and old.receipt.format == "stepfold/receipt/1"
    path = tmp_path / "runs.db"
    _store_of_format_1(path, old)
    with pytest.raises(StoreError, match="older than this stepfold's"):
        SQLiteStore(path, create=False, readonly=True)  # reading commands do not migrate
    with SQLiteStore(path) as store:
        loaded = store.load(old.run_id)
        assert loaded.to_dict() == old.to_dict()
        assert verify(loaded).verdict == "ok"
        done = resume(loaded, {"daily-confirm-priorities": {"approved": True}})
        assert done.receipt.format == "stepfold/receipt/1"  # a run continues in the format it began in
        store.save(done, resumed_from=loaded.run_id)
    connection = sqlite3.connect(path)
    assert connection.execute("PRAGMA user_version").fetchone()[0] == schema.SCHEMA_VERSION == 2
    assert "resumed_from" in [row[1] for row in connection.execute("PRAGMA table_info(runs)")]


@pytest.mark.parametrize("column", ["not json", 5])
def test_a_document_column_edited_to_another_type_is_reported_not_raised(tmp_path: Path, column: object) -> None:
    path = tmp_path / "runs.db"
    with SQLiteStore(path) as store:
        run_id = store.save(run_workflow(_workflow(1), ExecutionContext(initial_state=_state(5))))
    connection = sqlite3.connect(path)
    connection.execute("UPDATE runs SET document = ?", (column,))
    connection.commit()
    connection.close()
    with SQLiteStore(path) as store, pytest.raises(StoreError, match="stored data is corrupt \\(a (str|int), not"):
        store.load(run_id)


def test_opening_for_reading_creates_nothing(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no such store"):
        SQLiteStore(tmp_path / "missing.db", create=False)
    assert list(tmp_path.iterdir()) == []


def test_a_damaged_state_is_reported_not_returned(tmp_path: Path) -> None:
    path = tmp_path / "runs.db"
    with SQLiteStore(path) as store:
        run_id = store.save(run_workflow(_workflow(1), ExecutionContext(initial_state=_state(5))))
    connection = sqlite3.connect(path)
    connection.execute("UPDATE states SET body = ? WHERE base IS NULL", (b"garbage",))
    connection.commit()
    connection.close()
    with SQLiteStore(path) as store, pytest.raises(StoreError, match="stored data is corrupt"):
        store.load(run_id)


# The store is part of the trust (DESIGN.md, "Verification you can rely on") ------------------------


def _sql(path: Path, statement: str, *parameters: object) -> None:
    connection = sqlite3.connect(path)
    connection.execute(statement, parameters)
    connection.commit()
    connection.close()


def _run_ids(path: Path) -> list[str]:
    with SQLiteStore(path, readonly=True, create=False) as store:
        return [summary.run_id for summary in store.runs()]


def test_store_returns_only_the_run_its_id_names(tmp_path: Path) -> None:
    path = tmp_path / "runs.db"
    with SQLiteStore(path) as store:
        real = store.save(run_workflow(_workflow(1), ExecutionContext(initial_state=_state(3), inputs={"ask": 1})))
    _sql(path, "UPDATE runs SET run_id = ? WHERE run_id = ?", "0" * 64, real)
    with SQLiteStore(path, readonly=True, create=False) as store:
        with pytest.raises(TamperedRunError, match="run 000000000000 is not the run its id names: the chain is intact"):
            store.load("000000000000")
        with pytest.raises(RunNotFoundError):
            store.load(real)
        assert [summary.run_id for summary in store.runs()] == ["0" * 64]  # listed, never returned
    code, out, err = stepfold("verify", "000000000000", "--store", path)
    assert (code, err) == (1, "")
    assert out.startswith(f"TAMPERED  {'0' * 64}: ") and "is not the run its id names" in out
    assert "is not the run its id names" in refused(stepfold("show", "000000000000", "--store", path))

    # A consistent forgery (the person's decision changed, the chain recomputed) put in the genuine run's row.
    path = tmp_path / "forged.db"
    genuine = decided(True, sign_off=False)
    forgery = OrchestrationResult.from_dict(forged(genuine.to_dict(), "decide", {"approved": False}))
    assert verify(forgery).ok and forgery.final_state.to_dict()["decision"] == {"approved": False}
    with SQLiteStore(path) as store:
        genuine_id, forged_id = store.save(genuine), store.save(forgery)
    _sql(path, "DELETE FROM runs WHERE run_id = ?", genuine_id)
    _sql(path, "UPDATE runs SET run_id = ? WHERE run_id = ?", genuine_id, forged_id)
    for readonly in (True, False):
        with SQLiteStore(path, readonly=readonly, create=False) as store:
            with pytest.raises(TamperedRunError, match=f"run {genuine_id[:12]} is not the run its id names"):
                store.load(genuine_id)
    for command in (["show", genuine_id], ["export", genuine_id], ["resume", genuine_id, "--input", "sign-off=1"]):
        assert "is not the run its id names" in refused(stepfold(*command, "--store", path)), command
    code, out, _ = stepfold("verify", genuine_id, "--store", path)
    assert code == 1 and out.startswith(f"TAMPERED  {genuine_id}: ")
    assert stepfold("verify", "--all", "--store", path)[0] == 1
    assert _run_ids(path) == [genuine_id]  # the refused resume saved nothing


def _racer(index: int) -> OrchestrationResult:
    steps = [StepSpec("who", "runtime", {"operation": "set", "key": "who", "value": index})]
    return run_workflow(WorkflowDefinition(id="racer", steps=steps))


def _save_at_the_signal(path: str, index: int, start: Any, ids: Any) -> None:
    """In a child process: build a run, wait for every racer to be ready, then open the (new) store and save it."""
    result = _racer(index)
    start.wait()
    with SQLiteStore(path) as store:
        ids.put(store.save(result))


@pytest.mark.skipif(sys.platform == "win32", reason="forks its racers")
def test_concurrent_creation_of_a_new_store_loses_no_run(tmp_path: Path) -> None:
    context = multiprocessing.get_context("fork")  # racers that start in a millisecond, not an import apart
    for racers in range(4, 9):
        path = tmp_path / f"new-{racers}.db"
        start, ids = context.Barrier(racers), context.Queue()
        processes = [
            context.Process(target=_save_at_the_signal, args=(str(path), index, start, ids)) for index in range(racers)
        ]
        for process in processes:
            process.start()
        for process in processes:
            process.join(timeout=60)
        assert [process.exitcode for process in processes] == [0] * racers
        reported = {ids.get(timeout=5) for _ in range(racers)}
        expected = {_racer(index).run_id for index in range(racers)}
        assert reported == expected
        assert set(_run_ids(path)) == expected and len(_run_ids(path)) == racers
        with SQLiteStore(path, readonly=True, create=False) as store:
            assert all(store.load(run_id).status == "completed" for run_id in expected)

    for attempt in range(4):  # two `stepfold run` racing to create the store named by --store
        folder = tmp_path / f"cli-{attempt}"
        folder.mkdir()
        commands = [
            [str(SCRIPT), "run", "echo", "--params", json.dumps({"racer": n}), "--store", "new.db", "--json"]
            for n in range(2)
        ]
        runs = [
            subprocess.Popen(command, cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for command in commands
        ]
        answers = [run.communicate(timeout=60) for run in runs]
        assert [run.returncode for run in runs] == [0, 0], answers
        assert sorted(_run_ids(folder / "new.db")) == sorted(json.loads(out)["run_id"] for out, _ in answers)


def test_a_suspended_run_is_resumed_at_most_once(tmp_path: Path) -> None:
    path = tmp_path / "runs.db"
    suspended = decided(True, sign_off=False)
    with SQLiteStore(path) as store:
        waiting = store.save(suspended)
        first = store.save(resume(suspended, {"sign-off": "yes"}), resumed_from=waiting)
        assert store.save(resume(suspended, {"sign-off": "yes"}), resumed_from=waiting) == first  # the same: a no-op
        other = resume(suspended, {"sign-off": "no"})
        for _ in range(2):
            with pytest.raises(
                AlreadyResumedError,
                match=f"run {waiting[:12]} was already resumed: its continuation is {first[:12]}",
            ):
                store.save(other, resumed_from=waiting)
        assert other.run_id not in [summary.run_id for summary in store.runs()]
        fork_id = store.save(other, resumed_from=waiting, fork=True)
        assert store.continuation(waiting) == first
        summaries = {summary.run_id: summary for summary in store.runs()}
    assert summaries[waiting] == RunSummary(waiting, "payout", "suspended", "sign-off", 3, None, first, False)
    assert summaries[waiting].resumed
    assert (summaries[first].resumed_from, summaries[first].forked, summaries[first].resumed) == (waiting, False, False)
    assert (summaries[fork_id].resumed_from, summaries[fork_id].forked) == (waiting, True)

    # The command line: a second resume is refused with one line naming the continuation; --fork continues.
    path = tmp_path / "cli.db"
    run_id = daily(path)
    code, out, err = stepfold("resume", run_id, "--input", APPROVE, "--store", path, "--json")
    assert code == 0, err
    continuation = json.loads(out)["run_id"]
    line = refused(
        stepfold("resume", run_id, "--input", 'daily-confirm-priorities={"approved": false}', "--store", path)
    )
    assert f"run {run_id[:12]} was already resumed: its continuation is {continuation[:12]}" in line
    code, out, err = stepfold(
        "resume", run_id, "--fork", "--input", 'daily-confirm-priorities={"approved": false}', "--store", path, "--json"
    )
    assert code == 0, err
    forked_id = json.loads(out)["run_id"]
    code, out, _ = stepfold("runs", "--store", path)
    assert code == 0
    rows = [re.split(r"\s{2,}", line.strip()) for line in out.splitlines()[1:]]
    assert rows == [
        [run_id[:12], "daily_loop", "resumed", "2", "daily-confirm-priorities", f"continued by {continuation[:12]}"],
        [continuation[:12], "daily_loop", "completed", "4", f"resumes {run_id[:12]}"],
        [forked_id[:12], "daily_loop", "completed", "4", f"forked from {run_id[:12]}"],
    ]

    # Two `stepfold resume` of one run at once, with different inputs: exactly one wins.
    decisions = ['{"approved": true}', '{"priorities": []}']
    for attempt in range(3):
        folder = tmp_path / f"race-{attempt}"
        folder.mkdir()
        run_id = daily(folder / "stepfold.db")
        processes = [
            subprocess.Popen(
                [str(SCRIPT), "resume", run_id, "--input", f"daily-confirm-priorities={decision}", "--json"],
                cwd=folder,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for decision in decisions
        ]
        answers = [process.communicate(timeout=60) for process in processes]
        codes = sorted(process.returncode for process in processes)
        assert codes == [0, 2], answers
        (winner,) = [json.loads(out)["run_id"] for out, _ in answers if out]
        (loser,) = [err for out, err in answers if not out]
        assert f"run {run_id[:12]} was already resumed: its continuation is {winner[:12]}" in one_error_line(loser)
        assert sorted(_run_ids(folder / "stepfold.db")) == sorted([run_id, winner])


@st.composite
def _forkable(draw: st.DrawFn) -> tuple[OrchestrationResult, str, object]:
    """A run (all its inputs given up front, or resumed) and one of its human or effect steps it reached, with a new input."""
    result = draw(policed_runs())
    reached = [
        step
        for index, step in enumerate(result.workflow.steps)
        if step.takes_input
        and (
            index < len(result.lineage.entries) or (index == len(result.lineage.entries) and result.status != "failed")
        )
    ]
    assume(reached)
    step = draw(st.sampled_from(reached))
    return result, step.id, draw(_input_for(step))


@given(_forkable())
def test_fork_then_resume_equals_a_fresh_run_with_those_inputs(case: tuple[OrchestrationResult, str, object]) -> None:
    result, step_id, new_input = case
    position = {step.id: index for index, step in enumerate(result.workflow.steps)}
    earlier = {key: value for key, value in result.context.inputs.items() if position[key] < position[step_id]}
    context = ExecutionContext(result.lineage.initial_state, earlier, result.context.metadata)
    branch = fork(result, step_id)
    assert (branch.status, branch.pending_step_id) == ("suspended", step_id)
    assert branch.to_dict() == run_workflow(result.workflow, context, policy=result.policy).to_dict()
    assert verify(branch).ok and branch.policy == result.policy
    fresh = run_workflow(
        result.workflow, attrs.evolve(context, inputs={**earlier, step_id: new_input}), policy=result.policy
    )
    assert resume(branch, {step_id: new_input}).to_dict() == fresh.to_dict()  # under its recorded policy


def test_fork_refuses_a_step_that_takes_no_input_or_was_never_reached(tmp_path: Path) -> None:
    done = decided(True)
    with pytest.raises(InvalidValueError, match="fork: step 'log' is neither a human nor an effect step"):
        fork(done, "log")
    with pytest.raises(InvalidValueError, match="fork: workflow 'payout' has no step 'nope'"):
        fork(done, "nope")
    waiting = run_workflow(DECISION, ExecutionContext())
    assert waiting.pending_step_id == "decide"
    assert fork(waiting, "decide").to_dict() == waiting.to_dict()
    with pytest.raises(InvalidValueError, match="fork: run 'payout' never reached step 'sign-off'"):
        fork(waiting, "sign-off")

    fetching = WorkflowDefinition(
        id="fetching",
        steps=[
            StepSpec("fetch", "runtime", {"effect": "http.get", "into": "page"}),
            StepSpec("read", "human", {}),
        ],
    )
    timed_out = run_workflow(fetching, ExecutionContext(inputs={"fetch": failed_outcome("TimeoutError", "slow")}))
    assert (timed_out.status, timed_out.failed_step_id) == ("failed", "fetch")
    retried = resume(fork(timed_out, "fetch"), {"fetch": ok_outcome("<html>"), "read": "seen"})
    assert (
        retried.to_dict()
        == run_workflow(fetching, ExecutionContext(inputs={"fetch": ok_outcome("<html>"), "read": "seen"})).to_dict()
    )


def test_fork_refuses_the_step_after_the_one_that_failed() -> None:
    workflow = WorkflowDefinition(
        id="w", steps=[StepSpec("boom", "runtime", {"operation": "fail", "reason": "no"}), StepSpec("ask", "human", {})]
    )
    failed = run_workflow(workflow)
    assert (failed.status, len(failed.lineage.entries)) == ("failed", 1)
    with pytest.raises(InvalidValueError, match="never reached step 'ask'"):
        fork(failed, "ask")  # today: a "suspended" run whose last step failed, which from_dict itself refuses


def test_a_fork_that_drops_inputs_given_ahead_is_the_stored_run_and_the_store_says_so(tmp_path: Path) -> None:
    # A store keeps one record per run id; inputs given ahead for steps not run yet are not part of the id.
    workflow = WorkflowDefinition(id="w", steps=[StepSpec("first", "human", {}), StepSpec("second", "human", {})])
    waiting = run_workflow(workflow, ExecutionContext(inputs={"second": 2}))  # waits at `first`, `second` given
    with SQLiteStore(tmp_path / "runs.db") as store:
        waiting_id = store.save(waiting)
        done = resume(waiting, {"first": 1})
        store.save(done, resumed_from=waiting_id)
        branch = fork(done, "first")
        assert branch.run_id == waiting_id and dict(branch.context.inputs) == {}
        with pytest.raises(StoreError, match=r"differ only in inputs given ahead for steps not run yet \['second'\]"):
            store.save(branch, fork=True)


def test_the_fork_command_saves_a_suspended_run_and_says_how_to_resume_it(tmp_path: Path) -> None:
    path = tmp_path / "runs.db"
    done = daily(path, "--input", APPROVE)
    code, out, err = stepfold("fork", done, "daily-confirm-priorities", "--store", path)
    assert (code, err) == (3, "")
    (branch,) = re.findall(r"^run      ([0-9a-f]{64})  \(forked from ", out, re.MULTILINE)
    assert f"(forked from {done[:12]} at daily-confirm-priorities; saved in {path})" in out
    assert f"next     stepfold resume {branch[:12]} --input STEP=JSON\n" in out
    with SQLiteStore(path, readonly=True, create=False) as store:
        assert store.load(branch).pending_step_id == "daily-confirm-priorities"
    code, out, err = stepfold(
        "resume", branch[:12], "--input", 'daily-confirm-priorities={"priorities": []}', "--store", path, "--json"
    )
    assert code == 0, err
    assert json.loads(out)["final_state"]["confirmed_priorities"] == []
    code, out, _ = stepfold("fork", done, "daily-confirm-priorities", "--store", path)  # once resumed: say --fork
    assert code == 3 and f"next     stepfold resume {branch[:12]} --fork --input STEP=JSON\n" in out
    line = refused(stepfold("fork", done, "daily-log-summary", "--store", path))
    assert "fork: step 'daily-log-summary' is neither a human nor an effect step" in line
    assert "no step 'nope'" in refused(stepfold("fork", done, "nope", "--store", path))


def test_a_continuation_must_continue_the_run_it_names(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "runs.db") as store:
        waiting = store.save(decided(True, sign_off=False))
        unrelated = run_workflow(_workflow(1), ExecutionContext(inputs={"ask": 1}))
        for claimed in (waiting, "f" * 64):
            with pytest.raises(StepfoldError):  # StoreError or InvalidValueError, naming both runs
                store.save(unrelated, resumed_from=claimed)
        assert store.continuation(waiting) is None


def test_an_immutable_reader_refuses_a_store_whose_log_holds_changes(tmp_path: Path) -> None:
    """On read-only media SQLite reads a store as immutable, which ignores its -wal: refuse rather than miss runs."""
    path = tmp_path / "runs.db"
    path.write_bytes(b"")
    schema._refuse_unread_log(path)  # no log: fine
    (tmp_path / "runs.db-wal").write_bytes(b"")
    schema._refuse_unread_log(path)  # an empty log: fine
    (tmp_path / "runs.db-wal").write_bytes(b"\0" * 32)
    with pytest.raises(StoreError, match=r"write-ahead log runs.db-wal holds changes not yet in the file"):
        schema._refuse_unread_log(path)


def test_a_second_record_of_a_run_says_what_differs(tmp_path: Path) -> None:
    # An operation's failure message is not bound by the receipt: a message that varies makes equal runs' records differ.
    said = iter(["first words", "other words"])

    def moody(state: State, step: StepSpec) -> State:
        raise RuntimeError(next(said))

    workflow = WorkflowDefinition(id="w", steps=[StepSpec("talk", "runtime", {"operation": "moody"})])
    operations = DEFAULT_OPERATIONS.set("moody", moody)
    first, second = (run_workflow(workflow, operations=operations) for _ in range(2))
    assert first.run_id == second.run_id and first.error_message != second.error_message
    with SQLiteStore(tmp_path / "runs.db") as store:
        store.save(first)
        with pytest.raises(StoreError, match=r"differ only in error_message, which the receipt does not bind"):
            store.save(second)


def _edit_stored_state(path: Path, digest: str, key: str, value: object) -> None:
    """Change one entry of a whole state's stored body, its accumulator left as it was (what a forger would do)."""
    import zlib

    with sqlite3.connect(path) as connection:
        (body,) = connection.execute("SELECT body FROM states WHERE digest = ?", (digest,)).fetchone()
        document = json.loads(zlib.decompress(body))
        document[key] = value
        connection.execute("UPDATE states SET body = ? WHERE digest = ?", (pack(document), digest))


def test_an_entry_edited_in_a_stored_state_is_tampered_for_verify(tmp_path: Path) -> None:
    # The store trusts the accumulators it wrote (load is fast); verify trusts none: it rehashes what was taken as given.
    path = tmp_path / "runs.db"
    steps = [StepSpec("bump", "runtime", {"operation": "increment", "key": "n"})]
    context = ExecutionContext(initial_state={"n": 1, "untouched": "kept", **{f"k{i}": i for i in range(50)}})
    with SQLiteStore(path) as store:
        run_id = store.save(run_workflow(WorkflowDefinition(id="w", steps=steps), context))
    _edit_stored_state(path, context.initial_state.digest, "untouched", "forged")
    with SQLiteStore(path, create=False) as store:
        loaded = store.load(run_id)
    assert loaded.lineage.initial_state["untouched"] == "forged" and not loaded.lineage.initial_state.hashed
    for replay in (True, False):
        verdict = verify(loaded, replay=replay)
        assert verdict.verdict == "tampered", verdict
        assert "initial state" in verdict.reason
    assert verify(loaded, replay=False, trust_accumulators=True).verdict == "ok"  # what load itself checks
    assert verify(run_workflow(WorkflowDefinition(id="w", steps=steps), context)).verdict == "ok"


def test_a_store_names_arguments_that_are_not_what_it_takes_and_a_closed_handle(tmp_path: Path) -> None:
    """A bad argument or a closed store is the caller's, never reported as a damaged file."""
    for path in (None, 3, str(tmp_path / "a\0b.db")):
        with pytest.raises(StoreError, match=r"^store path: expected a file name, got "):
            SQLiteStore(path)  # type: ignore[arg-type]
    store = SQLiteStore(tmp_path / "runs.db")
    result = run_workflow(_workflow(1), ExecutionContext(initial_state=_state(2)))
    with pytest.raises(StoreError, match=r"^resumed_from: expected a run id or None, got 3$"):
        store.save(result, resumed_from=3)  # type: ignore[arg-type]
    for digest in (3, "\ud800" * 6):
        with pytest.raises(StoreError, match=r"^load_state: expected a state digest \(64 hex digits\), got "):
            store.load_state(digest)  # type: ignore[arg-type]
    store.close()
    with pytest.raises(StoreError, match=r"the store was closed; open it again to use it$"):
        store.runs()
