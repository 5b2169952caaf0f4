"""The CLI on top of the run store, through the console entry point (a subprocess per command).

Every command runs with `cwd=tmp_path`, so the default `./stepfold.db` lands
in a fresh folder. Exit codes: 0 completed / ok, 1 failed / not ok,
3 suspended, 2 bad usage or input (exactly one line on stderr, starting
"stepfold: error: ", never a traceback).
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import attrs
import pytest

from stepfold import ExecutionContext, MissionSpec, StepSpec, WorkflowDefinition, build_workflow, run_workflow
from stepfold.store import SQLiteStore
from tests.helpers import Proc, run_cli

ROOT = Path(__file__).resolve().parent.parent
STATE = ROOT / "examples" / "daily_state.json"
DATE = '{"date": "2026-11-24"}'
APPROVE = 'daily-confirm-priorities={"approved": true}'
HEX64 = re.compile(r"[0-9a-f]{64}")
SAVED_LINE = re.compile(r"^run      ([0-9a-f]{64})  \(saved in (.+)\)$", re.MULTILINE)
DAILY_STEPS = [
    "daily-summarise-yesterday",
    "daily-generate-priorities",
    "daily-confirm-priorities",
    "daily-log-summary",
]


def cli(cwd: Path, *args: str, env: Mapping[str, str] | None = None) -> Proc:
    """Run the console script in `cwd` (with `env` added to the environment); output decoded as UTF-8."""
    return run_cli(cwd, *args, env=None if env is None else {**os.environ, **env})


def saved_id(proc: Proc, store: str = "stepfold.db") -> str:
    """The run id from the `run      <id>  (saved in FILE)` line, checking FILE."""
    matches = SAVED_LINE.findall(proc.stdout)
    assert len(matches) == 1, proc.stdout + proc.stderr
    run_id, where = matches[0]
    assert where == store
    return str(run_id)


def usage_error(proc: Proc) -> str:
    """Assert exit 2 with exactly one `stepfold: error: ...` line on stderr and nothing on stdout; return the line."""
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert proc.stdout == ""
    assert "Traceback" not in proc.stderr
    assert proc.stderr.count("\n") == 1 and proc.stderr.endswith("\n"), proc.stderr
    assert proc.stderr.startswith("stepfold: error: "), proc.stderr
    return proc.stderr.rstrip("\n")


def run_daily(cwd: Path, *extra: str) -> Proc:
    return cli(cwd, "run", "daily_loop", "--state", str(STATE), "--params", DATE, *extra)


def suspended_daily(cwd: Path, store: str | None = None) -> str:
    """Run the daily loop up to its human step (exit 3) and return the saved run's id."""
    proc = run_daily(cwd, *([] if store is None else ["--store", store]))
    assert proc.returncode == 3, proc.stderr
    return saved_id(proc, store or "stepfold.db")


def runs_table(cwd: Path, *extra: str) -> list[list[str]]:
    """`stepfold runs` as rows of cells (header first); asserts exit 0."""
    proc = cli(cwd, "runs", *extra)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    return [re.split(r"\s{2,}", line.strip()) for line in proc.stdout.splitlines()]


def export(cwd: Path, run_id: str, *extra: str) -> str:
    proc = cli(cwd, "export", run_id, *extra)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    return proc.stdout


def files(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir())


# run -------------------------------------------------------------------------


def test_run_saves_the_run_and_prints_its_id(tmp_path: Path) -> None:
    proc = cli(tmp_path, "run", "echo", "--params", '{"hello": "world"}')
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    run_id = saved_id(proc)
    assert f"receipt  {run_id}\n" in proc.stdout
    assert "stepfold.db" in files(tmp_path)
    assert runs_table(tmp_path) == [
        ["run", "workflow", "status", "steps", "pending", "links"],
        [run_id[:12], "echo", "completed", "1"],
    ]
    document = json.loads(export(tmp_path, run_id))
    assert document["receipt"]["head"] == run_id
    assert document["final_state"] == {"echo": {"hello": "world"}}


def test_running_the_same_thing_twice_stores_it_once(tmp_path: Path) -> None:
    first = saved_id(cli(tmp_path, "run", "echo"))
    second = saved_id(cli(tmp_path, "run", "echo"))
    assert first == second
    assert len(runs_table(tmp_path)) == 2


def test_store_option_puts_the_run_elsewhere(tmp_path: Path) -> None:
    (tmp_path / "elsewhere").mkdir()
    store = str(Path("elsewhere") / "runs.db")
    proc = cli(tmp_path, "run", "echo", "--store", store)
    assert proc.returncode == 0, proc.stderr
    run_id = saved_id(proc, store)
    assert files(tmp_path) == ["elsewhere"]  # nothing in the default place
    assert "runs.db" in files(tmp_path / "elsewhere")
    assert runs_table(tmp_path, "--store", store)[1][0] == run_id[:12]
    assert json.loads(export(tmp_path, run_id[:6], "--store", store))["receipt"]["head"] == run_id
    usage_error(cli(tmp_path, "runs"))  # the default store still does not exist ...
    assert files(tmp_path) == ["elsewhere"]  # ... and reading it did not create it


@pytest.mark.parametrize("extra", [[], ["--json"]])
def test_no_store_saves_nothing(tmp_path: Path, extra: list[str]) -> None:
    proc = run_daily(tmp_path, "--input", APPROVE, "--no-store", *extra)
    assert proc.returncode == 0, proc.stderr
    assert SAVED_LINE.search(proc.stdout) is None
    assert files(tmp_path) == []


def test_old_flags_keep_working(tmp_path: Path) -> None:
    state_file = tmp_path / "state.json"
    state_file.write_text('{"x": [1, "two"], "echo": "old"}', encoding="utf-8")
    for state in (str(state_file), "state.json", '{"x": [1, "two"], "echo": "old"}'):
        proc = cli(tmp_path, "run", "echo", "--state", state, "--params", '{"payload_key": "x"}', "--json")
        assert proc.returncode == 0, proc.stderr
        assert json.loads(proc.stdout)["final_state"] == {"x": [1, "two"], "echo": [1, "two"]}
    proc = run_daily(tmp_path, "--input", 'daily-confirm-priorities={"priorities": ["t4", "t1"]}')
    assert proc.returncode == 0, proc.stderr
    assert "status   completed" in proc.stdout
    document = json.loads(export(tmp_path, saved_id(proc)))
    assert document["final_state"]["confirmed_priorities"] == ["t4", "t1"]
    assert document["context"]["inputs"] == {"daily-confirm-priorities": {"priorities": ["t4", "t1"]}}
    assert document["workflow"]["metadata"]["params"] == {"date": "2026-11-24"}
    # the three --state runs were one and the same run; the daily one is the second
    assert [row[1] for row in runs_table(tmp_path)[1:]] == ["echo", "daily_loop"]


def test_json_prints_only_the_to_dict_and_the_run_id(tmp_path: Path) -> None:
    proc = run_daily(tmp_path, "--input", APPROVE, "--json")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert proc.stdout.count("\n") == 1  # one JSON document, no report, no `run` line
    document: dict[str, Any] = json.loads(proc.stdout)
    for key in (
        "id",
        "success",
        "status",
        "executed_steps",
        "final_state",
        "failed_step_id",
        "error_message",
        "lineage",
        "receipt",
    ):
        assert key in document
    assert document["status"] == "completed" and document["success"] is True
    run_id = document["run_id"]
    assert HEX64.fullmatch(run_id) and run_id == document["receipt"]["head"]
    assert json.loads(export(tmp_path, run_id)) == document  # saved, and the head is its id
    assert runs_table(tmp_path)[1][0] == run_id[:12]


@pytest.mark.parametrize(
    ("args", "code", "status"),
    [
        (["run", "daily_loop", "--state", str(STATE), "--input", APPROVE], 0, "completed"),
        (["run", "daily_loop", "--state", '{"tasks": [{"id": "a", "priority": "high"}]}'], 1, "failed"),
        (["run", "daily_loop", "--state", str(STATE)], 3, "suspended"),
    ],
)
def test_run_exit_codes_and_every_outcome_is_saved(tmp_path: Path, args: list[str], code: int, status: str) -> None:
    proc = cli(tmp_path, *args)
    assert proc.returncode == code, proc.stderr
    assert proc.stderr == ""
    run_id = saved_id(proc)
    assert runs_table(tmp_path)[1][:3] == [run_id[:12], "daily_loop", status]
    json_proc = cli(tmp_path, *args, "--json")
    assert json_proc.returncode == code
    assert json.loads(export(tmp_path, run_id)) == json.loads(json_proc.stdout)


# resume ----------------------------------------------------------------------


@pytest.mark.parametrize("length", [6, 64], ids=["6-char-prefix", "full-id"])
def test_resume_continues_a_suspended_run_like_a_fresh_run(tmp_path: Path, length: int) -> None:
    suspended = suspended_daily(tmp_path)
    proc = cli(tmp_path, "resume", suspended[:length], "--input", APPROVE)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert "status   completed" in proc.stdout
    resumed = saved_id(proc)
    assert resumed != suspended
    assert runs_table(tmp_path)[1:] == [
        [suspended[:12], "daily_loop", "resumed", "2", "daily-confirm-priorities", f"continued by {resumed[:12]}"],
        [resumed[:12], "daily_loop", "completed", "4", f"resumes {suspended[:12]}"],
    ]
    fresh = run_daily(tmp_path, "--input", APPROVE, "--store", "fresh.db")
    assert fresh.returncode == 0, fresh.stderr
    assert saved_id(fresh, "fresh.db") == resumed
    assert export(tmp_path, resumed) == export(tmp_path, resumed, "--store", "fresh.db")
    # the suspended run is still there; resuming it again is refused, naming its continuation, unless --fork
    again = usage_error(cli(tmp_path, "resume", suspended, "--input", APPROVE))
    assert f"was already resumed: its continuation is {resumed[:12]}" in again
    forked = cli(tmp_path, "resume", suspended, "--input", APPROVE, "--json", "--fork")
    assert forked.returncode == 0, forked.stderr
    assert json.loads(forked.stdout) == json.loads(export(tmp_path, resumed))  # the same input: the same run
    assert len(runs_table(tmp_path)) == 3


def test_a_refused_input_exits_two_saves_nothing_and_the_run_stays_suspended(tmp_path: Path) -> None:
    suspended = suspended_daily(tmp_path)
    before = runs_table(tmp_path)
    for decision in ('{"priorities": ["zz"]}', '{"approved": "yes"}'):
        proc = cli(tmp_path, "resume", suspended[:8], "--input", f"daily-confirm-priorities={decision}")
        assert proc.returncode == 2, proc.stdout
        assert proc.stdout == ""
        assert len(proc.stderr.splitlines()) == 1, proc.stderr
        assert "refused the input" in proc.stderr and "nothing was recorded" in proc.stderr
    assert runs_table(tmp_path) == before  # nothing saved; the run is still suspended
    declined = cli(tmp_path, "resume", suspended[:8], "--input", 'daily-confirm-priorities={"approved": false}')
    assert declined.returncode == 0, declined.stderr  # a decision the step can read is recorded


def test_resume_uses_the_store_option(tmp_path: Path) -> None:
    suspended = suspended_daily(tmp_path, "other.db")
    usage_error(cli(tmp_path, "resume", suspended, "--input", APPROVE))  # not in the default store
    proc = cli(tmp_path, "resume", suspended, "--input", APPROVE, "--store", "other.db")
    assert proc.returncode == 0, proc.stderr
    saved_id(proc, "other.db")
    assert files(tmp_path) == ["other.db"]


# show ------------------------------------------------------------------------


def _show(cwd: Path, run_id: str, *extra: str, env: Mapping[str, str] | None = None) -> list[str]:
    proc = cli(cwd, "show", run_id, *extra, env=env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    return proc.stdout.splitlines()


def test_show_lists_steps_their_changes_and_the_receipt(tmp_path: Path) -> None:
    run_id = saved_id(run_daily(tmp_path, "--input", APPROVE))
    lines = _show(tmp_path, run_id[:7])
    text = "\n".join(lines)
    assert lines[0] == f"run {run_id}"
    assert "workflow daily_loop  status completed" in text
    for number, step in enumerate(DAILY_STEPS, start=1):
        kind = "human" if step == "daily-confirm-priorities" else "runtime"
        assert any(line.startswith(f"{number}. {step}  [{kind}, completed]  -> ") for line in lines), text
    assert '     + summary = {"done":1,"journal_entries":2,"open":4}' in lines
    assert '     + priorities = ["t2","t3","t1"]' in lines
    assert '     input  {"approved":true}' in lines
    assert '     + confirmed_priorities = ["t2","t3","t1"]' in lines
    (log,) = [line for line in lines if line.startswith("     + log = ")]
    value = log.removeprefix("     + log = ")
    assert value.startswith('[{"date":"2026-11-24",') and value.endswith("…")  # abbreviated
    assert len(value) < len(json.dumps(json.loads(export(tmp_path, run_id))["final_state"]["log"]))
    document = json.loads(export(tmp_path, run_id))
    receipt = document["receipt"]
    assert f"receipt  genesis {receipt['genesis']}" in lines
    for number, link in enumerate(receipt["links"], start=1):
        assert f"  {number}. {link['hash']}  {link['step_id']} ({link['status']})" in lines
    assert lines[-1] == f"  head  {run_id}"


def test_show_marks_added_changed_and_removed_keys(tmp_path: Path) -> None:
    workflow = WorkflowDefinition(
        id="tidy",
        steps=[
            StepSpec("tidy-bump", "runtime", {"operation": "increment", "key": "count"}),
            StepSpec("tidy-drop", "runtime", {"operation": "delete", "key": "scratch"}),
            StepSpec("tidy-idle", "runtime", {"operation": "noop"}),
            StepSpec("tidy-note", "runtime", {"operation": "set", "key": "note", "value": "x" * 200}),
        ],
    )
    result = run_workflow(workflow, ExecutionContext(initial_state={"count": 1, "scratch": [1, 2, 3]}))
    with SQLiteStore(tmp_path / "stepfold.db") as store:
        run_id = store.save(result)
    lines = _show(tmp_path, run_id[:6])
    text = "\n".join(lines)
    assert "initial state  2 keys" in text
    assert lines[lines.index(next(line for line in lines if line.startswith("1. tidy-bump"))) + 1] == "     ~ count = 2"
    assert lines[lines.index(next(line for line in lines if line.startswith("2. tidy-drop"))) + 1] == "     - scratch"
    assert lines[lines.index(next(line for line in lines if line.startswith("3. tidy-idle"))) + 1] == "     (no change)"
    (note,) = [line for line in lines if line.startswith("     + note = ")]
    assert note.startswith('     + note = "xxxx') and note.endswith("…") and len(note) < 120
    assert cli(tmp_path, "verify", run_id).returncode == 0  # a run the library saved verifies through the CLI


def test_show_marks_a_changed_key_from_the_cli(tmp_path: Path) -> None:
    proc = cli(tmp_path, "run", "echo", "--state", '{"echo": "old", "x": "new"}', "--params", '{"payload_key": "x"}')
    lines = _show(tmp_path, saved_id(proc))
    assert '     ~ echo = "new"' in lines


def test_show_names_the_pending_step_and_the_error(tmp_path: Path) -> None:
    suspended = suspended_daily(tmp_path)
    lines = _show(tmp_path, suspended)
    assert "pending  daily-confirm-priorities" in lines
    assert not any(line.startswith("3. ") for line in lines)
    failed = saved_id(cli(tmp_path, "run", "daily_loop", "--state", '{"tasks": [{"id": "a", "priority": "high"}]}'))
    text = "\n".join(_show(tmp_path, failed))
    assert "[runtime, failed]" in text and "error    " in text and "state.tasks[0].priority" in text


def test_show_is_the_same_in_every_process(tmp_path: Path) -> None:
    run_id = saved_id(run_daily(tmp_path, "--input", APPROVE))
    outputs = {tuple(_show(tmp_path, run_id, env={"PYTHONHASHSEED": seed})) for seed in ("1", "2", "3")}
    assert len(outputs) == 1


# verify ----------------------------------------------------------------------


@pytest.mark.parametrize("length", [6, 64])
def test_verify_a_stored_run(tmp_path: Path, length: int) -> None:
    run_id = saved_id(run_daily(tmp_path, "--input", APPROVE))
    suspended = suspended_daily(tmp_path)
    for target in (run_id, suspended):
        proc = cli(tmp_path, "verify", target[:length])
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert proc.stdout.startswith("ok") and target in proc.stdout
        assert proc.stderr == ""


def _exported(tmp_path: Path) -> dict[str, Any]:
    folder = tmp_path / "runs"
    folder.mkdir()
    run_id = saved_id(run_daily(folder, "--input", APPROVE))
    document: dict[str, Any] = json.loads(export(folder, run_id))
    return document


def test_verify_an_exported_file(tmp_path: Path) -> None:
    document = _exported(tmp_path)
    (tmp_path / "work").mkdir()
    path = tmp_path / "work" / "run.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    proc = cli(tmp_path / "work", "verify", "run.json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.startswith("ok")
    assert files(tmp_path / "work") == ["run.json"]  # verifying a file needs no store and makes none


def test_verify_a_tampered_file_names_the_step(tmp_path: Path) -> None:
    document = _exported(tmp_path)
    changes = document["lineage"]["entries"][1]["changes"]["set"]
    assert changes == {"priorities": ["t2", "t3", "t1"]}
    changes["priorities"] = ["t1", "t3", "t2"]
    (tmp_path / "tampered.json").write_text(json.dumps(document), encoding="utf-8")
    proc = cli(tmp_path, "verify", "tampered.json")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert proc.stdout.startswith("TAMPERED")
    assert "at step 2 ('daily-generate-priorities')" in proc.stdout
    assert proc.stderr == ""


@pytest.mark.parametrize(
    "edit",
    ["final_state", "receipt_head", "input", "link_order"],
)
def test_verify_catches_other_edits(tmp_path: Path, edit: str) -> None:
    document = _exported(tmp_path)
    if edit == "final_state":
        document["final_state"]["priorities"] = ["t4"]
    elif edit == "receipt_head":
        document["receipt"]["head"] = "0" * 64
    elif edit == "input":
        document["context"]["inputs"]["daily-confirm-priorities"] = {"approved": False}
    else:
        links = document["receipt"]["links"]
        links[0], links[1] = links[1], links[0]
    (tmp_path / "edited.json").write_text(json.dumps(document), encoding="utf-8")
    proc = cli(tmp_path, "verify", "edited.json")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert proc.stdout.startswith("TAMPERED")


def test_verify_a_document_that_is_not_a_result(tmp_path: Path) -> None:
    (tmp_path / "empty.json").write_text("{}", encoding="utf-8")
    proc = cli(tmp_path, "verify", "empty.json")
    assert proc.returncode == 1
    assert proc.stdout.startswith("TAMPERED") and "cannot be read as a result" in proc.stdout


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "bad.json: invalid JSON at line 1 column 2"),
        ("[1, 2]", "bad.json: expected a JSON object, got list"),
        ('{"a": NaN}', "NaN is not allowed"),
        ("", "bad.json: invalid JSON"),
    ],
)
def test_verify_a_file_that_is_not_json_exits_two(tmp_path: Path, content: str, message: str) -> None:
    (tmp_path / "bad.json").write_text(content, encoding="utf-8")
    assert message in usage_error(cli(tmp_path, "verify", "bad.json"))
    assert files(tmp_path) == ["bad.json"]


# runs and export -------------------------------------------------------------


def test_runs_lists_every_run_oldest_first(tmp_path: Path) -> None:
    echo = saved_id(cli(tmp_path, "run", "echo"))
    suspended = suspended_daily(tmp_path)
    failed = saved_id(cli(tmp_path, "run", "daily_loop", "--state", '{"tasks": [{"id": "a", "priority": "high"}]}'))
    resumed = saved_id(cli(tmp_path, "resume", suspended, "--input", APPROVE))
    assert runs_table(tmp_path) == [
        ["run", "workflow", "status", "steps", "pending", "links"],
        [echo[:12], "echo", "completed", "1"],
        [suspended[:12], "daily_loop", "resumed", "2", "daily-confirm-priorities", f"continued by {resumed[:12]}"],
        [failed[:12], "daily_loop", "failed", "1"],
        [resumed[:12], "daily_loop", "completed", "4", f"resumes {suspended[:12]}"],
    ]


def test_runs_on_an_empty_store_prints_the_header(tmp_path: Path) -> None:
    SQLiteStore(tmp_path / "stepfold.db").close()
    assert runs_table(tmp_path) == [["run", "workflow", "status", "steps", "pending", "links"]]


def test_export_prints_the_to_dict_json(tmp_path: Path) -> None:
    proc = run_daily(tmp_path, "--input", APPROVE, "--json")
    document = json.loads(proc.stdout)
    run_id = document["receipt"]["head"]
    text = export(tmp_path, run_id[:6])
    assert json.loads(text) == document
    assert text == json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True) + "\n"  # keys sorted, stable
    assert export(tmp_path, run_id) == text


# bad usage and bad input -----------------------------------------------------


@attrs.frozen
class Seeded:
    folder: Path
    suspended: str
    completed: str
    missing: str


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    folder = tmp_path_factory.mktemp("seeded")
    suspended = suspended_daily(folder)
    completed = saved_id(cli(folder, "run", "echo"))
    missing = next(
        prefix
        for prefix in (c * 6 for c in "0123456789abcdef")
        if not suspended.startswith(prefix) and not completed.startswith(prefix)
    )
    yield Seeded(folder, suspended, completed, missing)


BAD_USAGE: list[tuple[list[str], str]] = [
    ([], "the following arguments are required: COMMAND"),
    (["bogus"], "invalid choice: 'bogus'"),
    (["run"], "the following arguments are required: mission"),
    (["run", "nope"], "unknown mission 'nope'; available missions: ['daily_loop', 'echo', 'run_tests']"),
    (["run", "echo", "--bogus"], "unrecognized arguments: --bogus"),
    (["run", "echo", "--params", "{bad"], "--params: invalid JSON at line 1 column 2"),
    (["run", "echo", "--params", "[1]"], "--params: expected a JSON object, got list"),
    (["run", "echo", "--params", '{"a": 1, "a": 2}'], "duplicate key 'a'"),
    (["run", "echo", "--state", "missing.json"], "--state: 'missing.json' is neither a file nor a JSON object"),
    (["run", "echo", "--state", "{"], "--state: invalid JSON"),
    (["run", "daily_loop", "--input", "novalue"], "--input 'novalue': expected STEP=JSON"),
    (["run", "daily_loop", "--input", "daily-confirm-priorities={"], "--input daily-confirm-priorities: invalid JSON"),
    (["run", "daily_loop", "--params", '{"date": "24/11/2026"}'], "params.date: expected a date"),
    (["run", "echo", "--store", "no/such/folder/x.db"], "no/such/folder/x.db: cannot open the store"),
    (["run", "echo", "--store", "."], "not a stepfold store (not a regular file)"),
    (["resume"], "the following arguments are required: run_id"),
    (
        ["resume", "<suspended>"],
        "waits at step 'daily-confirm-priorities'; give the person's input with --input daily-confirm-priorities=JSON",
    ),
    (
        ["resume", "<suspended>", "--input", "daily-confirm-priorities={bad"],
        "--input daily-confirm-priorities: invalid JSON",
    ),
    (["resume", "<suspended>", "--input", "x=1"], "inputs.x: workflow 'daily_loop' has no human or effect step 'x'"),
    (["resume", "<suspended>", "--input", "a=1", "--input", "a=2"], "--input a: given twice"),
    (["resume", "<completed>", "--input", APPROVE], "is completed; only a suspended run resumes"),
    (["resume", "<missing>", "--input", APPROVE], "run '<missing>': no such run in stepfold.db"),
    (["show"], "the following arguments are required: run_id"),
    (["show", "abc"], "run id 'abc': give the id or a unique prefix of at least 6 hex characters"),
    (["show", "<suspended5>"], "give the id or a unique prefix of at least 6 hex characters"),
    (["show", "zzzzzz"], "run id 'zzzzzz': give the id or a unique prefix of at least 6 hex characters"),
    (["show", "<missing>"], "run '<missing>': no such run in stepfold.db"),
    (["show", "<suspended>0"], "no such run in stepfold.db"),
    (["show", "<suspended>", "extra"], "unrecognized arguments: extra"),
    (["export"], "the following arguments are required: run_id"),
    (["export", "<missing>"], "run '<missing>': no such run in stepfold.db"),
    (["export", "ghost!"], "give the id or a unique prefix of at least 6 hex characters"),
    (["verify"], "verify: give a run id, a JSON file, - (standard input), or --all"),
    (["verify", "<missing>"], "run '<missing>': no such run in stepfold.db"),
    (["verify", "00"], "verify: '00' is neither a JSON file nor a run id"),
    (["verify", "nothere.json"], "verify: 'nothere.json' is neither a JSON file nor a run id"),
    (["runs", "extra"], "unrecognized arguments: extra"),
]


@pytest.mark.parametrize(("args", "message"), BAD_USAGE, ids=[" ".join(a) or "(none)" for a, _ in BAD_USAGE])
def test_bad_usage_exits_two_with_one_clear_line(seeded: Seeded, args: list[str], message: str) -> None:
    names = {
        "suspended": seeded.suspended,
        "suspended5": seeded.suspended[:5],
        "completed": seeded.completed,
        "missing": seeded.missing,
    }

    def fill(text: str) -> str:
        for name, value in names.items():
            text = text.replace(f"<{name}>", value)
        return text

    with SQLiteStore(seeded.folder / "stepfold.db", create=False) as store:
        before = store.runs()
    line = usage_error(cli(seeded.folder, *map(fill, args)))
    assert fill(message) in line
    with SQLiteStore(seeded.folder / "stepfold.db", create=False) as store:
        assert store.runs() == before  # a refused command saves nothing
    assert files(seeded.folder) == ["stepfold.db"]


def test_a_run_id_in_upper_case_names_the_same_run(seeded: Seeded) -> None:
    """A head copied from somewhere that writes hex in capitals still names its run, whole or as a prefix."""
    for given in (seeded.suspended.upper(), seeded.suspended[:8].upper()):
        proc = cli(seeded.folder, "show", given)
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.startswith(f"run {seeded.suspended}\n")


def _ambiguous_pair() -> tuple[int, int, str]:
    """Two echo runs whose ids share their first 6 hex characters (a birthday search, ~5k runs in memory)."""
    seen: dict[str, int] = {}
    for n in range(200_000):
        head = run_workflow(build_workflow(MissionSpec("echo", {"n": n})), ExecutionContext()).receipt.head
        if head[:6] in seen:
            return seen[head[:6]], n, head[:6]
        seen[head[:6]] = n
    raise AssertionError("no two of 200000 runs share a 6-character prefix")


def test_an_ambiguous_prefix_exits_two(tmp_path: Path) -> None:
    first, second, prefix = _ambiguous_pair()
    ids = [saved_id(cli(tmp_path, "run", "echo", "--params", json.dumps({"n": n}))) for n in (first, second)]
    assert ids[0] != ids[1] and ids[0][:6] == ids[1][:6] == prefix
    for args in (["show", prefix], ["export", prefix], ["verify", prefix], ["resume", prefix, "--input", "a=1"]):
        line = usage_error(cli(tmp_path, *args))
        assert f"run {prefix!r}: the prefix matches more than one run" in line
    for run_id in ids:
        common = len(os.path.commonprefix(ids))
        assert json.loads(export(tmp_path, run_id[: common + 1]))["receipt"]["head"] == run_id


READ_COMMANDS: list[list[str]] = [
    ["runs"],
    ["show", "abcdef"],
    ["verify", "abcdef"],
    ["export", "abcdef"],
    ["resume", "abcdef", "--input", APPROVE],
]


@pytest.mark.parametrize("store", [None, "other.db"])
@pytest.mark.parametrize("args", READ_COMMANDS, ids=[a[0] for a in READ_COMMANDS])
def test_a_read_command_on_a_missing_store_exits_two_and_creates_nothing(
    tmp_path: Path, args: list[str], store: str | None
) -> None:
    extra = [] if store is None else ["--store", store]
    line = usage_error(cli(tmp_path, *args, *extra))
    assert f"{store or 'stepfold.db'}: no such store" in line
    assert files(tmp_path) == []


def _text_file(path: Path) -> None:
    path.write_text("these are my notes, not a database\n", encoding="utf-8")


def _other_sqlite(path: Path) -> None:
    connection = sqlite3.connect(path)
    connection.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
    connection.execute("INSERT INTO notes (body) VALUES ('keep me')")
    connection.commit()
    connection.close()


@pytest.mark.parametrize("make", [_text_file, _other_sqlite], ids=["text-file", "other-sqlite"])
@pytest.mark.parametrize(
    "args",
    [*READ_COMMANDS, ["run", "echo"], ["run", "echo", "--json"]],
    ids=[*(a[0] for a in READ_COMMANDS), "run", "run-json"],
)
def test_a_file_that_is_not_a_store_exits_two(tmp_path: Path, make: Callable[[Path], None], args: list[str]) -> None:
    make(tmp_path / "stepfold.db")
    before = (tmp_path / "stepfold.db").read_bytes()
    line = usage_error(cli(tmp_path, *args))
    assert "stepfold.db: not a stepfold store" in line
    assert (tmp_path / "stepfold.db").read_bytes() == before  # left untouched
    assert files(tmp_path) == ["stepfold.db"]


def test_a_store_of_a_newer_format_exits_two(tmp_path: Path) -> None:
    run_id = saved_id(cli(tmp_path, "run", "echo"))
    connection = sqlite3.connect(tmp_path / "stepfold.db")
    connection.execute("PRAGMA user_version = 99")
    connection.close()
    for args in (["runs"], ["show", run_id], ["run", "echo"]):
        line = usage_error(cli(tmp_path, *args))
        assert "store format 99 is newer than this stepfold understands" in line


@pytest.mark.parametrize("args", [["runs"], ["show", "abcdef"], ["run", "echo"]], ids=["runs", "show", "run"])
def test_a_damaged_store_exits_two_with_one_line(tmp_path: Path, args: list[str]) -> None:
    saved_id(run_daily(tmp_path, "--input", APPROVE))
    path = tmp_path / "stepfold.db"
    connection = sqlite3.connect(path)
    page_size = int(connection.execute("PRAGMA page_size").fetchone()[0])
    connection.close()
    data = bytearray(path.read_bytes())
    data[page_size:] = b"\x5a" * (len(data) - page_size)  # keep page 1 (header and schema), damage the rest
    path.write_bytes(bytes(data))
    line = usage_error(cli(tmp_path, *args))
    assert "stepfold.db" in line
