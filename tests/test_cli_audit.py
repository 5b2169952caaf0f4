"""The auditor's commands: `verify` (anchors, signatures, `--all`, `--json`), `keygen`, and read-only stores.

Most commands run in-process (`stepfold.cli.main`, fast); the console script
runs as a subprocess where a real process matters (a `--load`ed file changed
between runs, file modes, what a command leaves on disk). Exit codes of
`verify`: 0 ok, 1 tampered (or no valid signature by `--key`), 4 diverged or
unverifiable, 2 bad usage (one line on stderr).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from stepfold import ExecutionContext, OrchestrationResult, run_workflow
from stepfold.cli import main
from stepfold.signing import generate_key
from stepfold.store import SQLiteStore
from tests.helpers import Proc, run_cli
from tests.test_verification import DECISION, decided, forged

ROOT = Path(__file__).resolve().parent.parent
STATE = ROOT / "examples" / "daily_state.json"
DATE = '{"date": "2026-11-24"}'
APPROVE = 'daily-confirm-priorities={"approved": true}'


def stepfold(*args: str | Path) -> tuple[int, str, str]:
    """`stepfold ARGS` in this process: exit code, standard output, standard error."""
    out, err = io.StringIO(), io.StringIO()
    code = main([str(arg) for arg in args], out, err)
    return code, out.getvalue(), err.getvalue()


def cli(cwd: Path, *args: str | Path) -> Proc:
    """The console script in `cwd`, as a subprocess."""
    return run_cli(cwd, *map(str, args))


def one_error_line(err: str) -> str:
    """The single `stepfold: error: ...` line a refusal prints (never a traceback)."""
    assert "Traceback" not in err
    assert err.count("\n") == 1 and err.startswith("stepfold: error: "), err
    return err.rstrip("\n")


def refused(answer: tuple[int, str, str]) -> str:
    """Assert exit 2 with one error line and nothing on standard output; return the line."""
    code, out, err = answer
    assert (code, out) == (2, ""), answer
    return one_error_line(err)


def store_files(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir())


def saved(store: Path, *results: Any) -> list[str]:
    """Save results in the store at `store` (created); their run ids."""
    with SQLiteStore(store) as opened:
        return [opened.save(result) for result in results]


def daily(store: Path, *extra: str) -> str:
    """`stepfold run daily_loop` into `store`; the run id."""
    code, out, err = stepfold(
        "run", "daily_loop", "--state", STATE, "--params", DATE, "--store", store, "--json", *extra
    )
    assert code in (0, 3), err
    run_id = json.loads(out)["run_id"]
    assert isinstance(run_id, str)
    return run_id


# keygen and signatures ------------------------------------------------------------------------


def test_keygen_writes_an_owner_only_private_key_and_a_public_key_and_never_overwrites(tmp_path: Path) -> None:
    proc = cli(tmp_path, "keygen", "signer")
    assert proc.returncode == 0, proc.stderr
    assert "signer" in proc.stdout and "signer.pub" in proc.stdout
    private, public = tmp_path / "signer", tmp_path / "signer.pub"
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert private.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert public.read_bytes().startswith(b"-----BEGIN PUBLIC KEY-----")
    before = private.read_bytes(), public.read_bytes()
    (tmp_path / "other.pub").write_text("someone's key", encoding="utf-8")
    for again in ("signer", "other"):  # the private key exists; only the public key exists
        answer = cli(tmp_path, "keygen", again)
        line = refused((answer.returncode, answer.stdout, answer.stderr))
        assert "already exists; a key is never overwritten" in line
    assert (private.read_bytes(), public.read_bytes()) == before
    assert (tmp_path / "other.pub").read_text(encoding="utf-8") == "someone's key"
    assert not (tmp_path / "other").exists()
    assert store_files(tmp_path) == ["other.pub", "signer", "signer.pub"]
    for nameless in ("", "-", ".."):
        answer = cli(tmp_path, "keygen", nameless)
        assert refused((answer.returncode, answer.stdout, answer.stderr)) == (
            f"stepfold: error: keygen: give a file name for the private key (its public key goes to FILE.pub), "
            f"got {nameless!r}"
        )


def test_a_signed_run_verifies_with_its_key_only(tmp_path: Path) -> None:
    store = tmp_path / "runs.db"
    key, pub = generate_key(tmp_path / "mine")
    _, other_pub = generate_key(tmp_path / "theirs")
    code, out, err = stepfold("run", "echo", "--params", '{"n": 1}', "--store", store, "--sign", key)
    assert code == 0, err
    (signed,) = re.findall(r"^run      ([0-9a-f]{64})  \(saved in .+; signed\)$", out, re.MULTILINE)
    unsigned = daily(store)
    code, out, _ = stepfold("verify", signed, "--key", pub, "--store", store)
    assert code == 0 and out.startswith(f"ok  {signed}: ") and "; signed by key " in out
    code, out, _ = stepfold("verify", signed, "--key", other_pub, "--store", store)
    assert code == 1 and out.startswith(f"TAMPERED  {signed}: 1 signature, none valid by key ")
    code, out, _ = stepfold("verify", unsigned, "--key", pub, "--store", store)
    assert code == 1 and out.startswith(f"TAMPERED  {unsigned}: no signature by key ")
    assert stepfold("verify", unsigned, "--store", store)[0] == 0  # without --key no signature is asked for

    code, exported, _ = stepfold("export", signed, "--store", store)
    assert code == 0
    document = json.loads(exported)
    assert [set(s) for s in document["signatures"]] == [{"algorithm", "key", "signature"}]
    assert document["signatures"][0]["algorithm"] == "ed25519"
    (tmp_path / "signed.json").write_text(exported, encoding="utf-8")
    code, out, _ = stepfold("verify", tmp_path / "signed.json", "--key", pub, "--json")
    answer = json.loads(out)
    assert (code, answer["verdict"], answer["run_id"]) == (0, "ok", signed)
    assert "signed by key" in answer["reason"]
    assert stepfold("verify", tmp_path / "signed.json", "--key", other_pub)[0] == 1

    code, unsigned_export, _ = stepfold("export", unsigned, "--store", store)
    moved = json.loads(unsigned_export)
    assert "signatures" not in moved
    moved["signatures"] = document["signatures"]  # a genuine signature, over another run's head
    (tmp_path / "moved.json").write_text(json.dumps(moved), encoding="utf-8")
    code, out, _ = stepfold("verify", tmp_path / "moved.json", "--key", pub)
    assert code == 1 and "1 signature, none valid" in out
    forgery = forged(decided(True).to_dict(), "decide", {"approved": False})
    forgery["signatures"] = document["signatures"]
    (tmp_path / "forged.json").write_text(json.dumps(forgery), encoding="utf-8")
    assert stepfold("verify", tmp_path / "forged.json")[0] == 0  # consistent: only the signature can tell
    assert stepfold("verify", tmp_path / "forged.json", "--key", pub)[0] == 1


def test_a_signature_needs_a_key_file_of_the_right_kind(tmp_path: Path) -> None:
    store = tmp_path / "runs.db"
    key, pub = generate_key(tmp_path / "mine")
    (run_id,) = saved(store, decided(True))
    assert "not a PEM public key" in refused(stepfold("verify", run_id, "--key", key, "--store", store))
    assert "--key" in refused(stepfold("verify", run_id, "--key", tmp_path / "missing.pub", "--store", store))
    assert "not an unencrypted PEM private key" in refused(stepfold("run", "echo", "--store", store, "--sign", pub))
    assert "--sign" in refused(stepfold("run", "echo", "--store", store, "--sign", tmp_path / "missing"))


# anchors, --all, --json ---------------------------------------------------------------------------


def test_expect_checks_the_head_a_trusted_copy_names(tmp_path: Path) -> None:
    store = tmp_path / "runs.db"
    genuine, other = decided(True), decided(False)
    genuine_id, other_id = saved(store, genuine, other)
    (tmp_path / "run.json").write_text(json.dumps(genuine.to_dict()), encoding="utf-8")
    for target in (genuine_id, tmp_path / "run.json"):
        assert stepfold("verify", target, "--expect", genuine_id, "--store", store)[0] == 0
        assert stepfold("verify", target, "--expect", genuine_id.upper(), "--store", store)[0] == 0
        code, out, _ = stepfold("verify", target, "--expect", other_id, "--store", store, "--no-replay")
        assert code == 1 and f"not the expected {other_id[:16]}" in out
        for malformed in (genuine_id[:12], "z" * 64, genuine_id + "0", ""):
            line = refused(stepfold("verify", target, "--expect", malformed, "--store", store))
            assert "--expect: a head is 64 hex digits" in line


MISSION = """
from stepfold import StepSpec, WorkflowDefinition, register_mission

def grade(state, step):
    return state.set("grade", GRADE)

def build(params):
    return WorkflowDefinition(id="grading", steps=[
        StepSpec("intake", "runtime", {"operation": "set", "key": "n", "value": params.get("n", 0)}),
        StepSpec("grade", "runtime", {"operation": "acme.grade"}),
    ])

register_mission("grading", build, operations={"acme.grade": grade}, replace=True)
"""


def test_verify_all_lists_each_run_that_is_not_ok(tmp_path: Path) -> None:
    mission = tmp_path / "grading.py"
    mission.write_text(MISSION.replace("GRADE", "'A'"), encoding="utf-8")
    first = cli(tmp_path, "--load", mission, "run", "grading", "--params", '{"n": 1}', "--json")
    second = cli(tmp_path, "--load", mission, "run", "grading", "--params", '{"n": 2}', "--json")
    assert (first.returncode, second.returncode) == (0, 0), first.stderr + second.stderr
    graded = json.loads(first.stdout)["run_id"]
    assert cli(tmp_path, "run", "echo").returncode == 0

    proc = cli(tmp_path, "--load", mission, "verify", "--all")
    assert (proc.returncode, proc.stdout) == (0, "3 runs replayed with the code installed now: 3 ok\n")

    proc = cli(tmp_path, "verify", "--all", "--json")  # without the mission's code
    answer = json.loads(proc.stdout)
    assert proc.returncode == 4
    assert (answer["runs"], answer["counts"]) == (3, {"ok": 1, "unverifiable": 2})
    assert {entry["verdict"] for entry in answer["not_ok"]} == {"unverifiable"}
    assert all("unknown operation 'acme.grade'" in entry["reason"] for entry in answer["not_ok"])
    assert graded in {entry["run_id"] for entry in answer["not_ok"]}

    mission.write_text(MISSION.replace("GRADE", "'B'"), encoding="utf-8")  # same name, other behaviour
    proc = cli(tmp_path, "--load", mission, "verify", "--all")
    lines = proc.stdout.splitlines()
    assert proc.returncode == 4
    assert len(lines) == 3 and lines[-1] == "3 runs replayed with the code installed now: 1 ok, 2 diverged"
    assert lines[0].startswith("DIVERGED at step 2 ('grade')  ")
    assert "replay diverges at step 2 ('grade'): the step produces a different state on replay" in lines[0]
    proc = cli(tmp_path, "--load", mission, "verify", graded, "--json")
    answer = json.loads(proc.stdout)
    assert (proc.returncode, answer["verdict"], answer["run_id"]) == (4, "diverged", graded)
    assert answer["first_mismatch"] == {"index": 1, "step": 2, "step_id": "grade"}
    assert cli(tmp_path, "--load", mission, "verify", graded, "--no-replay").returncode == 0

    connection = sqlite3.connect(tmp_path / "stepfold.db")
    connection.execute("UPDATE runs SET run_id = ? WHERE run_id = ?", ("0" * 64, graded))
    connection.commit()
    connection.close()
    proc = cli(tmp_path, "--load", mission, "verify", "--all")
    assert proc.returncode == 1  # tampered outranks diverged
    assert proc.stdout.splitlines()[-1] == "3 runs replayed with the code installed now: 1 ok, 1 diverged, 1 tampered"
    assert [line.split()[0] for line in proc.stdout.splitlines()[:-1]] == ["TAMPERED", "DIVERGED"]  # store order
    assert f"TAMPERED  {'0' * 64}: " in proc.stdout and "is not the run its id names" in proc.stdout


def test_verify_all_lists_a_row_it_cannot_read_back_as_tampered_and_checks_the_rest(tmp_path: Path) -> None:
    """A damaged row (its document not the bytes written, an index column edited) is one TAMPERED line, not the end."""
    ids = [
        json.loads(cli(tmp_path, "run", "echo", "--params", json.dumps({"n": n}), "--json").stdout)["run_id"]
        for n in range(4)
    ]
    connection = sqlite3.connect(tmp_path / "stepfold.db")
    connection.execute("UPDATE runs SET document = 'not compressed' WHERE run_id = ?", (ids[0],))
    connection.execute("UPDATE runs SET steps = 'many' WHERE run_id = ?", (ids[1],))
    connection.execute("UPDATE runs SET status = 'failed' WHERE run_id = ?", (ids[2],))
    connection.commit()
    connection.close()
    proc = cli(tmp_path, "verify", "--all")
    lines = proc.stdout.splitlines()
    assert proc.returncode == 1, proc.stderr
    assert lines[-1] == "4 runs replayed with the code installed now: 1 ok, 3 tampered"
    assert [line.split("  ")[1].split(":")[0] for line in lines[:-1]] == ids[:3]
    assert "stored data is corrupt" in lines[0]
    assert "index disagrees with its record: steps 'many' where the record gives 1" in lines[1]
    assert "index disagrees with its record: status 'failed' where the record gives 'completed'" in lines[2]
    assert cli(tmp_path, "verify", ids[2]).returncode == 1  # one run, the same verdict
    listed = cli(tmp_path, "runs")
    assert listed.returncode == 2
    assert listed.stderr == (
        f"stepfold: error: stepfold.db: run {ids[1][:12]}'s index is corrupt (steps 'many', status "
        "'completed'): stepfold verify --all says which runs are damaged\n"
    )
    proc = cli(tmp_path, "verify", "--all", "--no-replay")
    assert proc.stdout.splitlines()[-1] == "4 runs checked without replay (chain and record): 1 ok, 3 tampered"


def test_json_answers_carry_the_run_id(tmp_path: Path) -> None:
    store = tmp_path / "runs.db"
    suspended = daily(store)
    code, out, _ = stepfold("runs", "--json", "--store", store)
    assert code == 0 and [entry["run_id"] for entry in json.loads(out)] == [suspended]
    code, out, _ = stepfold("verify", suspended[:8], "--json", "--store", store)
    answer = json.loads(out)
    assert code == 0
    assert (answer["run_id"], answer["target"], answer["verdict"], answer["ok"]) == (suspended, suspended, "ok", True)
    assert answer["policy"] == {
        "allowed_effects": None,
        "allowed_kinds": ["human", "runtime"],
        "max_human_steps": 2,
        "max_steps": 5,
    }
    code, out, _ = stepfold("resume", suspended, "--input", APPROVE, "--json", "--store", store)
    assert code == 0
    done = json.loads(out)["run_id"]
    code, out, _ = stepfold("runs", "--json", "--store", store)
    listed = {entry["run_id"]: entry for entry in json.loads(out)}
    assert listed[suspended]["continued_by"] == done and listed[done]["resumed_from"] == suspended


# stores that are no files; stores read by reading commands -----------------------------------------


def test_a_store_that_is_no_file_is_refused_and_leaves_nothing_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "null.db").symlink_to(os.devnull)
    devices = os.path.dirname(os.devnull)
    devices_before = sorted(os.listdir(devices))
    commands = [["run", "echo"], ["run", "echo", "--json"], ["runs"], ["verify", "--all"], ["show", "abcdef"]]
    for command in commands:
        for store, message in (
            (":memory:", "':memory:': a store is a file that outlives the command; give a file name"),
            ("null.db", "null.db: not a stepfold store (not a regular file)"),
            (str(tmp_path / "null.db"), "null.db: not a stepfold store (not a regular file)"),
        ):
            assert message in refused(stepfold(*command, "--store", store)), (command, store)
    proc = cli(tmp_path, "run", "echo", "--store", "null.db")  # and through the console script
    assert "not a regular file" in refused((proc.returncode, proc.stdout, proc.stderr))
    assert store_files(tmp_path) == ["null.db"]
    assert sorted(os.listdir(devices)) == devices_before  # no /dev/null-journal, -wal or -shm
    assert (tmp_path / "null.db").resolve() == Path(os.devnull).resolve()


def _read_commands(store: Path, run_id: str) -> Iterator[list[str | Path]]:
    yield ["runs", "--store", store]
    yield ["runs", "--json", "--store", store]
    yield ["show", run_id, "--store", store]
    yield ["verify", run_id, "--store", store]
    yield ["verify", "--all", "--store", store]
    yield ["export", run_id, "--store", store]


def _seeded_store(folder: Path) -> tuple[Path, str]:
    """A store written and closed by the library (so it has no -wal or -shm file), holding two runs."""
    store = folder / "runs.db"
    run_id, _ = saved(store, decided(True, sign_off=False), run_workflow(DECISION, ExecutionContext()))
    assert store_files(folder) == ["runs.db"]
    return store, run_id


def test_read_commands_open_the_store_read_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store, run_id = _seeded_store(tmp_path)
    digest = hashlib.sha256(store.read_bytes()).hexdigest()
    store.chmod(0o444)
    opened: list[tuple[str, bool]] = []
    connect = sqlite3.connect

    def recording_connect(database: Any, *args: Any, **kwargs: Any) -> sqlite3.Connection:
        opened.append((str(database), bool(kwargs.get("uri"))))
        connection: sqlite3.Connection = connect(database, *args, **kwargs)
        return connection

    monkeypatch.setattr(sqlite3, "connect", recording_connect)
    for command in _read_commands(store, run_id):
        opened.clear()
        code, _, err = stepfold(*command)
        assert code == 0, (command, err)
        assert opened, command
        for database, uri in opened:
            assert uri and database.startswith("file:"), (command, database)
            assert database.endswith("?mode=ro") or database.endswith("?immutable=1"), (command, database)
    assert hashlib.sha256(store.read_bytes()).hexdigest() == digest


def test_read_commands_write_nothing(tmp_path: Path) -> None:
    # In a writable folder SQLite keeps a WAL database's shared-memory index beside it, readers included
    # (docs/store.md); what a read command may not do is write: the -wal file stays empty.
    store, run_id = _seeded_store(tmp_path)
    for command in _read_commands(store, run_id):
        code, _, err = stepfold(*command)
        assert code == 0, (command, err)
        assert set(store_files(tmp_path)) <= {"runs.db", "runs.db-shm", "runs.db-wal"}, command
        wal = tmp_path / "runs.db-wal"
        assert not wal.exists() or wal.stat().st_size == 0, command


@pytest.mark.skipif(
    hasattr(os, "geteuid") and os.geteuid() == 0,
    reason="running as root: permission bits do not bind root, so a 0o555 folder is not read-only to this test "
    "(and the interpreter lives where an unprivileged user cannot run it); see the two tests above",
)
def test_read_commands_work_on_a_store_in_a_read_only_folder(tmp_path: Path) -> None:
    folder = tmp_path / "media"
    folder.mkdir()
    store, run_id = _seeded_store(folder)
    code, exported, _ = stepfold("export", run_id, "--store", store)
    assert code == 0
    folder.chmod(0o555)
    try:
        for command in _read_commands(store, run_id):
            code, _, err = stepfold(*command)
            assert code == 0, (command, err)
        code, again, _ = stepfold("export", run_id, "--store", store)
        assert (code, again) == (0, exported)
        assert store_files(folder) == ["runs.db"]
    finally:
        folder.chmod(0o755)


def test_the_console_refuses_a_forged_run_under_a_genuine_id(tmp_path: Path) -> None:
    """The console-script side of `test_store_returns_only_the_run_its_id_names` (tests/test_store.py)."""
    store = tmp_path / "runs.db"
    genuine = decided(True, sign_off=False)
    forgery = OrchestrationResult.from_dict(forged(genuine.to_dict(), "decide", {"approved": False}))
    genuine_id, forged_id = saved(store, genuine, forgery)
    connection = sqlite3.connect(store)
    connection.execute("DELETE FROM runs WHERE run_id = ?", (genuine_id,))
    connection.execute("UPDATE runs SET run_id = ? WHERE run_id = ?", (genuine_id, forged_id))
    connection.commit()
    connection.close()
    for command in (["show", genuine_id], ["resume", genuine_id, "--input", "sign-off=1"]):
        proc = cli(tmp_path, *command, "--store", store)
        assert "is not the run its id names" in refused((proc.returncode, proc.stdout, proc.stderr))
    proc = cli(tmp_path, "verify", genuine_id, "--store", store)
    assert proc.returncode == 1 and proc.stdout.startswith(f"TAMPERED  {genuine_id}: ")
    with SQLiteStore(store, readonly=True, create=False) as opened:
        assert [summary.run_id for summary in opened.runs()] == [genuine_id]  # the refused resume saved nothing


def test_a_run_whose_key_cannot_be_used_is_not_saved(tmp_path: Path) -> None:
    store = tmp_path / "runs.db"
    _, pub = generate_key(tmp_path / "mine")
    saved(store, decided(True))
    refused(stepfold("run", "echo", "--store", store, "--sign", pub))
    with SQLiteStore(store, readonly=True, create=False) as opened:
        assert len(opened.runs()) == 1
