"""`SQLiteStore`: save/load round trip, ids and prefixes, content-addressed states, crash safety, foreign files."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import attrs
import pytest

import stepfold.store as store_module
from stepfold import (
    ExecutionContext,
    OrchestrationResult,
    Receipt,
    State,
    StepSpec,
    WorkflowDefinition,
    resume,
    run_mission,
    run_workflow,
    verify,
)
from stepfold.errors import RunNotFoundError, StoreError
from stepfold.store import SQLiteStore, schema
from stepfold.store.states import pack


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
