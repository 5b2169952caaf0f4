# mypy: disable-error-code="arg-type, dict-item, list-item"
# (these tests pass deliberately ill-typed arguments, as an untyped caller would)
"""The catalogue of refused inputs (docs/bad-inputs.md) is a copy of a real run, and nothing a refusal touches is lost.

`test_catalogue` runs every row of `tests/bad_input_catalogue.py` and checks
its line in the document; the example tests below pin the bugs fuzzing found
(now fixed) and the "nothing is lost" promise for results, runs and stores.
"""

from __future__ import annotations

import io
import json
import sqlite3
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest

from stepfold import (
    DEFAULT_OPERATIONS,
    EnvelopeViolation,
    ExecutionContext,
    InvalidValueError,
    MissionSpec,
    OrchestrationResult,
    Policy,
    State,
    StepSpec,
    WorkflowDefinition,
    resume,
    run_mission,
    run_workflow,
    verify,
)
from stepfold.cli import main
from stepfold.errors import InvalidDocumentError, StoreError
from stepfold.store import SQLiteStore
from tests import bad_input_catalogue as catalogue

DAILY_STATE = catalogue.DAILY_STATE
APPROVAL = {"daily-confirm-priorities": {"approved": True}}


class _BadRepr:
    def __repr__(self) -> str:
        raise RuntimeError("repr refused")


# The catalogue ------------------------------------------------------------------------------------


@pytest.mark.parametrize("row", catalogue.ROWS, ids=[row.id for row in catalogue.ROWS])
def test_catalogue(row: catalogue.Row, tmp_path: Path) -> None:
    line = catalogue.row_line(row, tmp_path)
    assert "**undocumented**" not in line and "accepted:" not in line, line
    assert row.proved_by, f"{row.id}: no test proves this answer"
    document = catalogue.DOC.read_text(encoding="utf-8")
    assert line in document.splitlines(), (
        f"{row.id}: docs/bad-inputs.md does not show what this input gives now; "
        f"run `python -m tests.bad_input_catalogue` and review the diff.\nnow: {line}"
    )


def test_the_catalogue_document_is_generated_from_the_rows() -> None:
    document = catalogue.DOC.read_text(encoding="utf-8")
    generated = document.partition(catalogue.BEGIN)[2].partition(catalogue.END)[0]
    rows = [line for line in generated.splitlines() if line.startswith("| ") and not line.startswith("| input ")]
    assert len(rows) == len(catalogue.ROWS)
    assert len({row.id for row in catalogue.ROWS}) == len(catalogue.ROWS)


def test_every_proof_the_catalogue_names_exists() -> None:
    root = catalogue.ROOT
    for row in catalogue.ROWS:
        for proof in row.proved_by:
            path, _, name = proof.partition("::")
            assert f"def {name}(" in (root / path).read_text(encoding="utf-8"), f"{row.id}: {proof} does not exist"


# Bugs fuzzing found, fixed ------------------------------------------------------------------------


def test_state_refuses_pairs_with_unhashable_keys() -> None:
    with pytest.raises(InvalidValueError, match=r"^state\[1\]: keys must be strings, got list \[1\]$"):
        State([("a", 1), ([1], 2)])


def test_state_remove_refuses_unhashable_keys() -> None:
    state = State({"a": 1})
    with pytest.raises(InvalidValueError, match=r"^state: keys must be strings, got list \[\]$"):
        state.remove([])
    with pytest.raises(InvalidValueError, match=r"^state: keys must be strings, got int 1$"):
        state.remove(1)
    assert state.remove("absent") is state
    assert state.to_dict() == {"a": 1}


def test_policy_refuses_unhashable_kinds() -> None:
    with pytest.raises(InvalidValueError, match=r"^policy.allowed_kinds\[0\]: kinds are strings, got \['runtime'\]$"):
        Policy(allowed_kinds=[["runtime"]])


def test_step_mapping_with_mixed_key_types_is_refused() -> None:
    with pytest.raises(
        InvalidValueError, match=r"^steps\[0\]: a step mapping needs 'id' and 'kind'.*got keys \['x', 1\]$"
    ):
        WorkflowDefinition(id="w", steps=[{1: 2, "x": 3}])


def test_unknown_operation_with_an_odd_operation_table_is_refused() -> None:
    workflow = WorkflowDefinition(id="w", steps=[StepSpec("a", "runtime", {"operation": "zz"})])
    with pytest.raises(EnvelopeViolation, match=r"unknown operation 'zz'; known operations: \['noop', 1\]$"):
        run_workflow(workflow, operations={1: DEFAULT_OPERATIONS["noop"], "noop": DEFAULT_OPERATIONS["noop"]})


def test_messages_survive_huge_ints() -> None:
    huge = 10**5000
    cases: list[tuple[Callable[[], object], str]] = [
        (lambda: State({huge: 1}), "state: keys must be strings, got int <int of 16610 bits>"),
        (lambda: MissionSpec(huge), "mission type: expected a non-empty string, got <int of 16610 bits>"),
        (
            lambda: Policy(max_steps=-huge),
            "policy.max_steps: expected an int from 0 to 2**53 - 1, got <int of 16610 bits>",
        ),
        (lambda: StepSpec(huge, "runtime"), "step id: expected a string, got int <int of 16610 bits>"),
    ]
    for call, message in cases:
        with pytest.raises(InvalidValueError) as info:
            call()
        assert str(info.value) == message


def test_messages_survive_deeply_nested_arguments() -> None:
    deep = catalogue.nested_lists(100_000)
    with pytest.raises(InvalidValueError, match=r"^step id: expected a string, got list \[\[\[\[\.\.\.\]\]\]\]$"):
        StepSpec(deep, "runtime")
    document = json.loads(json.dumps(run_mission("echo").to_dict()))
    document["workflow"]["id"] = deep
    with pytest.raises(InvalidDocumentError, match=r"workflow id: expected a string, got list \[\[\[\[\.\.\.\]\]\]\]$"):
        OrchestrationResult.from_dict(document)


def test_messages_survive_objects_whose_repr_raises() -> None:
    with pytest.raises(InvalidValueError, match=r"^state: keys must be strings, got _BadRepr <_BadRepr object>$"):
        State({_BadRepr(): 1})
    with pytest.raises(
        InvalidValueError, match=r"^policy.allowed_kinds\[0\]: kinds are strings, got <_BadRepr object>$"
    ):
        Policy(allowed_kinds=[_BadRepr()])


def test_verify_never_raises_on_a_lone_surrogate_digest() -> None:
    document = json.loads(json.dumps(run_mission("echo").to_dict()))
    document["receipt"]["workflow_digest"] = "\ud800"
    verdict = verify(document)
    assert not verdict.ok
    assert verdict.reason == (
        "the document cannot be read as a result: result.receipt.workflow_digest: "
        "string contains a lone surrogate '\\ud800' at index 0, which is not valid Unicode"
    )


def test_from_dict_refuses_digests_that_are_not_sha256_hex() -> None:
    document = json.loads(json.dumps(run_mission("echo").to_dict()))
    document["receipt"]["links"][0]["state_digest"] = "ABC"
    with pytest.raises(
        InvalidDocumentError,
        match=r"^result.receipt.links\[0\].state_digest: expected 64 lowercase hex digits, got 'ABC'$",
    ):
        OrchestrationResult.from_dict(document)


def test_run_arguments_are_checked() -> None:
    workflow = WorkflowDefinition(id="w")
    calls: list[tuple[Callable[[], object], str]] = [
        (lambda: run_workflow({"id": "w"}), "workflow: expected a WorkflowDefinition, got dict"),
        (lambda: run_workflow(workflow, {"a": 1}), "ctx: expected an ExecutionContext, got dict"),
        (
            lambda: run_workflow(workflow, operations=["noop"]),
            "operations: expected a mapping of names to operations, got list",
        ),
        (lambda: run_workflow(workflow, policy={"max_steps": 5}), "policy: expected a Policy, got dict"),
    ]
    for call, message in calls:
        with pytest.raises(InvalidValueError) as info:
            call()
        assert str(info.value) == message


def test_cli_help_returns_an_exit_code(capsys: pytest.CaptureFixture[str]) -> None:
    out = io.StringIO()
    assert main(["--help"], out, io.StringIO()) == 0
    assert out.getvalue().startswith("usage: stepfold")
    assert capsys.readouterr().out == ""  # printed to the `out` given, not to sys.stdout


def test_a_state_file_that_is_not_utf8_exits_two(tmp_path: Path) -> None:
    (tmp_path / "state.json").write_bytes(b"\xff\xfe{}")
    outcome = catalogue._cli_in("run", "echo", "--no-store", "--state", str(tmp_path / "state.json"))(tmp_path)
    assert isinstance(outcome, catalogue.CliOutcome)
    assert outcome.code == 2 and outcome.out == ""
    assert outcome.err == f"stepfold: error: --state: {str(tmp_path / 'state.json')!r} is not UTF-8 text (byte 1)\n"
    assert outcome.err.count("\n") == 1


# Nothing is lost ----------------------------------------------------------------------------------


def test_a_refused_resume_leaves_the_suspended_result_as_it_was() -> None:
    suspended = run_mission("daily_loop", ExecutionContext(DAILY_STATE), {"date": "2026-11-24"})
    before = suspended.to_dict()
    for inputs in (
        {"daily-confirm-priorities": {"approved": float("nan")}},
        {"nope": {"approved": True}},
        {"daily-confirm-priorities": {1, 2}},
    ):
        with pytest.raises(InvalidValueError):
            resume(suspended, inputs)
    assert suspended.to_dict() == before
    assert verify(suspended).ok
    assert resume(suspended, APPROVAL).status == "completed"


def _seeded(path: Path) -> list[str]:
    with SQLiteStore(path) as store:
        first = store.save(run_mission("daily_loop", ExecutionContext(DAILY_STATE), {"date": "2026-11-24"}))
        second = store.save(run_mission("echo", ExecutionContext({"n": 1}), {"message": "hi"}))
    return [first, second]


def test_a_corrupt_store_is_refused_and_left_as_it_was(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    _seeded(path)
    with SQLiteStore(path):
        pass  # checkpoint: the whole store is in the main file
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])
    damaged = path.read_bytes()
    with pytest.raises(StoreError, match="cannot open the store"):
        with SQLiteStore(path) as store:
            store.runs()
    assert path.read_bytes() == damaged  # refused, not "repaired" or truncated further
    assert catalogue.cli("runs", "--store", str(path)).code == 2
    assert path.read_bytes() == damaged


def test_a_corrupt_run_does_not_take_the_others_with_it(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    damaged_id, intact_id = _seeded(path)
    connection = sqlite3.connect(path)
    connection.execute("UPDATE runs SET document = ? WHERE run_id = ?", (zlib.compress(b'{"lineage": {}}'), damaged_id))
    connection.commit()
    connection.close()
    with SQLiteStore(path) as store:
        with pytest.raises(StoreError, match=f"run {damaged_id[:12]} is not the run its id names"):
            store.load(damaged_id)
        intact = store.load(intact_id)
        assert verify(intact).ok
        assert {run.run_id for run in store.runs()} == {damaged_id, intact_id}  # the damaged run is still listed
        new_id = store.save(run_mission("echo", ExecutionContext({"n": 2}), {"message": "later"}))
        assert store.load(new_id).status == "completed"
    assert catalogue.cli("export", intact_id, "--store", str(path)).code == 0
    assert catalogue.cli("export", damaged_id, "--store", str(path)).code == 2


def test_from_dict_refuses_a_status_the_lineage_does_not_imply() -> None:
    # Found by `make fuzz`: a suspended document whose workflow had lost its steps raised IndexError.
    suspended = run_mission("daily_loop", ExecutionContext(DAILY_STATE), {"date": "2026-11-24"}).to_dict()
    cases: list[tuple[str, object, str]] = [
        (
            "workflow",
            {**suspended["workflow"], "steps": []},
            "result.lineage.entries: 2 entries for a workflow of 0 steps",
        ),
        ("status", "completed", "result.status: 'completed' disagrees with the lineage, which gives 'suspended'"),
        ("status", "failed", "result.status: 'failed' disagrees with the lineage, which gives 'suspended'"),
    ]
    for key, value, message in cases:
        document = json.loads(json.dumps({**suspended, key: value}))
        with pytest.raises(InvalidDocumentError) as info:
            OrchestrationResult.from_dict(document)
        assert str(info.value) == message
        assert verify(document).reason == f"the document cannot be read as a result: {message}"
