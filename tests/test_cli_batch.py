"""`stepfold batch FILE.jsonl`: every line in its own slot, every result saved as it completes, through the console script."""

from __future__ import annotations

import json
import os
import pty
import re
import signal
import subprocess
import textwrap
from pathlib import Path

import pytest

from stepfold.cli.batch import MAX_WORKERS
from tests.helpers import SCRIPT, Proc, run_cli

ROOT = Path(__file__).resolve().parent.parent

DAILY_STATE = json.loads((ROOT / "examples" / "daily_state.json").read_text(encoding="utf-8"))
APPROVE = {"daily-confirm-priorities": {"approved": True}}


def line(mission: str, params: object = None, state: object = None, inputs: object = None) -> str:
    document = {"mission": mission, "params": params, "state": state, "inputs": inputs}
    return json.dumps({key: value for key, value in document.items() if value is not None})


MIXED = [
    line("daily_loop", {"date": "2026-11-24"}, DAILY_STATE, APPROVE),  # 1 completed
    line("daily_loop", {"date": "2026-11-25"}, DAILY_STATE),  # 2 suspended
    line("echo", {"hello": "world"}),  # 3 completed
    "",  # 4 blank: skipped
    line("daily_loop", None, {"tasks": [{"id": "a", "priority": "high"}]}, APPROVE),  # 5 failed
    line("nope"),  # 6 unknown mission
    line("daily_loop", {"date": "24/11/2026"}),  # 7 params refused
    '{"mission": "echo", "params": {"x": NaN}}',  # 8 not I-JSON
    '{"mission": "echo", "stat": {}}',  # 9 unknown key
    '{"mission": "echo",',  # 10 broken JSON
    line("echo", None, {"n": 9007199254740992}),  # 11 out of the value domain
]


def write_batch(folder: Path, lines: list[str], name: str = "calls.jsonl") -> Path:
    path = folder / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def stepfold(cwd: Path, *args: str, env: dict[str, str] | None = None) -> Proc:
    return run_cli(cwd, *args, env=env)


def rows(stdout: str) -> dict[str, list[str]]:
    """The summary table by line number: [mission, status, run, detail...]."""
    table = stdout.splitlines()[1:-1]
    return {cells[0]: cells[1:] for cells in (row.split(None, 4) for row in table)}


def test_a_mixed_batch_reports_every_line_in_its_own_slot_and_saves_every_result(tmp_path: Path) -> None:
    write_batch(tmp_path, MIXED)
    proc = stepfold(tmp_path, "batch", "calls.jsonl")
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr == ""  # no progress bar when stderr is not a terminal
    assert proc.stdout.splitlines()[0].split() == ["line", "mission", "status", "run", "detail"]
    table = rows(proc.stdout)
    assert list(table) == ["1", "2", "3", "5", "6", "7", "8", "9", "10", "11"]
    assert [table[n][:2] for n in table] == [
        ["daily_loop", "completed"],
        ["daily_loop", "suspended"],
        ["echo", "completed"],
        ["daily_loop", "failed"],
        ["nope", "error"],
        ["daily_loop", "error"],
        ["-", "error"],
        ["echo", "error"],
        ["-", "error"],
        ["echo", "error"],
    ]
    assert table["2"][3] == "waiting for daily-confirm-priorities"
    assert table["5"][3].startswith("step 'daily-summarise-yesterday' (operation 'daily.summarise') failed")
    assert table["6"][3].startswith("UnknownMissionError: unknown mission 'nope'; available missions:")
    assert table["7"][3].startswith('InvalidValueError: params.date: expected a date "YYYY-MM-DD"')
    assert table["8"][3] == "invalid JSON: NaN is not allowed in JSON input"
    assert table["9"][3] == "call: unexpected keys ['stat']; expected only ['inputs', 'mission', 'params', 'state']"
    assert table["10"][3] == "invalid JSON at column 20: Expecting property name enclosed in double quotes"
    assert table["11"][3].startswith("call.state.n: integer 9007199254740992")
    assert proc.stdout.splitlines()[-1] == (
        "10 calls: 2 completed, 1 suspended, 1 failed, 6 errors; 4 runs saved in stepfold.db"
    )
    runs = stepfold(tmp_path, "runs")
    saved = {row.split()[0]: row.split()[2] for row in runs.stdout.splitlines()[1:]}
    assert saved == {table[n][2]: table[n][1] for n in ("1", "2", "3", "5")}
    shown = stepfold(tmp_path, "show", table["2"][2])
    assert "pending  daily-confirm-priorities" in shown.stdout


def test_a_process_pool_gives_the_same_summary_and_store(tmp_path: Path) -> None:
    write_batch(tmp_path, MIXED)
    alone = stepfold(tmp_path, "batch", "calls.jsonl", "--store", "runs.db")
    pooled = stepfold(tmp_path, "batch", "calls.jsonl", "--workers", "2", "--store", "runs.db")
    assert pooled.returncode == alone.returncode == 1
    assert pooled.stdout == alone.stdout
    listed = stepfold(tmp_path, "runs", "--store", "runs.db").stdout.splitlines()
    assert len(listed) == 1 + 4  # saving the same result again is a no-op


def test_json_lines_give_each_line_its_object_in_order_then_the_summary(tmp_path: Path) -> None:
    write_batch(tmp_path, MIXED)
    table = stepfold(tmp_path, "batch", "calls.jsonl", "--store", "table.db")
    proc = stepfold(tmp_path, "batch", "calls.jsonl", "--json")
    assert proc.returncode == table.returncode == 1 and proc.stderr == ""
    *answers, last = [json.loads(text) for text in proc.stdout.splitlines()]
    assert [answer["line"] for answer in answers] == [1, 2, 3, 5, 6, 7, 8, 9, 10, 11]
    shown = rows(table.stdout)
    for answer in answers:
        assert set(answer) == {"line", "mission", "status", "run_id", "detail"}
        row = shown[str(answer["line"])]
        assert [answer["mission"], answer["status"]] == row[:2]
        assert answer["detail"] == (row[3] if len(row) > 3 else "")
        if answer["run_id"] is None:
            assert row[2] == "-"
        else:  # the whole run id, which `stepfold show` takes
            assert len(answer["run_id"]) == 64 and answer["run_id"].startswith(row[2])
    assert last == {
        "summary": {
            "calls": 10,
            "completed": 2,
            "suspended": 1,
            "failed": 1,
            "error": 6,
            "saved": 4,
            "store": "stepfold.db",
            "interrupted": False,
        }
    }
    waiting = next(answer for answer in answers if answer["status"] == "suspended")
    assert "pending  daily-confirm-priorities" in stepfold(tmp_path, "show", waiting["run_id"]).stdout


@pytest.mark.parametrize(
    ("lines", "code", "totals"),
    [
        (
            [line("echo"), line("daily_loop", {}, DAILY_STATE, APPROVE)],
            0,
            "2 calls: 2 completed, 0 suspended, 0 failed, 0 errors",
        ),
        (
            [line("echo"), line("daily_loop", {}, DAILY_STATE)],
            3,
            "2 calls: 1 completed, 1 suspended, 0 failed, 0 errors",
        ),
        ([line("daily_loop", {}, DAILY_STATE), "{"], 1, "2 calls: 0 completed, 1 suspended, 0 failed, 1 error"),
        ([""], 0, "0 calls: 0 completed, 0 suspended, 0 failed, 0 errors"),
    ],
)
def test_exit_code_is_0_all_completed_1_any_failed_or_bad_3_some_suspended(
    tmp_path: Path, lines: list[str], code: int, totals: str
) -> None:
    write_batch(tmp_path, lines)
    proc = stepfold(tmp_path, "batch", "calls.jsonl")
    assert proc.returncode == code, proc.stdout + proc.stderr
    assert proc.stdout.splitlines()[-1].startswith(totals)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["batch", "missing.jsonl"], "missing.jsonl: cannot read 'missing.jsonl': No such file or directory"),
        (["batch", "calls.jsonl", "--workers", "0"], "--workers: expected 1 to 64 processes, got 0"),
        (["batch"], "the following arguments are required: FILE.jsonl"),
    ],
)
def test_bad_usage_exits_two_with_one_line(tmp_path: Path, args: list[str], message: str) -> None:
    write_batch(tmp_path, [line("echo")])
    proc = stepfold(tmp_path, *args)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and message in proc.stderr


def test_lines_that_are_not_utf8_are_reported_in_their_slot(tmp_path: Path) -> None:
    (tmp_path / "calls.jsonl").write_bytes(line("echo").encode() + b'\n{"mission": "\xff"}\n')
    proc = stepfold(tmp_path, "batch", "calls.jsonl")
    assert proc.returncode == 1
    assert rows(proc.stdout)["2"] == ["-", "error", "-", "not UTF-8 text (byte 14)"]


CRASH_MODULE = '''
"""A mission whose only step kills the process running it."""
import os
from stepfold import Mission, StepSpec, WorkflowDefinition


def crash(state, step):
    os._exit(17)


def build(params):
    return WorkflowDefinition(id="crash", steps=[StepSpec("crash-now", "runtime", {"operation": "crash.now"})])


CRASH = Mission(build, operations={"crash.now": crash})
'''


def plugin_env(tmp_path: Path) -> dict[str, str]:
    """An environment whose PYTHONPATH holds an installed distribution with the `crash` mission entry point."""
    site = tmp_path / "site"
    info = site / "crash_mission-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: crash_mission\nVersion: 0.1\n", encoding="utf-8")
    (info / "entry_points.txt").write_text("[stepfold.missions]\ncrash = crash_mission:CRASH\n", encoding="utf-8")
    (site / "crash_mission.py").write_text(textwrap.dedent(CRASH_MODULE).lstrip(), encoding="utf-8")
    return {**os.environ, "PYTHONPATH": str(site)}


def test_a_crash_mid_batch_loses_nothing_already_saved(tmp_path: Path) -> None:
    env = plugin_env(tmp_path)
    write_batch(tmp_path, [line("echo", {"n": 1}), line("echo", {"n": 2}), line("crash"), line("echo", {"n": 3})])
    proc = stepfold(tmp_path, "batch", "calls.jsonl", env=env)
    assert proc.returncode == 17  # the process died at line 3, in the middle of the batch
    listed = stepfold(tmp_path, "runs", env=env)
    assert listed.returncode == 0
    assert [row.split()[1:3] for row in listed.stdout.splitlines()[1:]] == [
        ["echo", "completed"],
        ["echo", "completed"],
    ]


def test_a_worker_that_dies_is_reported_in_its_slot_and_the_batch_ends_normally(tmp_path: Path) -> None:
    env = plugin_env(tmp_path)
    write_batch(tmp_path, [line("echo", {"n": n}) for n in range(3)] + [line("crash")])
    proc = stepfold(tmp_path, "batch", "calls.jsonl", "--workers", "2", env=env)
    assert proc.returncode == 1, proc.stderr
    table = rows(proc.stdout)
    assert table["4"][:3] == ["crash", "error", "-"] and table["4"][3].startswith("BrokenProcessPool")
    completed = {cells[2] for cells in table.values() if cells[1] == "completed"}
    listed = stepfold(tmp_path, "runs", env=env).stdout.splitlines()[1:]
    assert {row.split()[0] for row in listed} == completed


def test_the_progress_bar_is_drawn_on_a_terminal(tmp_path: Path) -> None:
    write_batch(tmp_path, [line("echo", {"n": n}) for n in range(4)] + ["{"])
    main_fd, terminal_fd = pty.openpty()
    with subprocess.Popen(
        [str(SCRIPT), "batch", "calls.jsonl"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=terminal_fd,
        text=True,
    ) as proc:
        os.close(terminal_fd)
        drawn = b""
        while True:
            try:
                chunk = os.read(main_fd, 4096)
            except OSError:  # the terminal closed with the process
                break
            if not chunk:
                break
            drawn += chunk
        assert proc.stdout is not None
        out = proc.stdout.read()
    os.close(main_fd)
    assert proc.returncode == 1
    frames = drawn.decode().replace("\r\n", "\n").split("\r")
    assert frames[0] == ""
    assert re.fullmatch(r"\[#*\.*\] +\d+% 1 lines", frames[1]) and len(frames[1].split("]")[0]) == 31
    assert frames[-1] == "[##############################] 100% 5 lines\n"  # by bytes read: the whole file
    assert 2 <= len(frames) <= 6  # redrawn at most ten times a second, and always at the end
    assert out.splitlines()[-1].startswith("5 calls: 4 completed")


# Streaming: lines read as the calls run, an endless line refused, Ctrl-C summarised ------------------------------


def _started(tmp_path: Path, *args: str) -> subprocess.Popen[str]:
    """`stepfold batch - ARGS` reading from a pipe this test writes to, in its own process group."""
    return subprocess.Popen(
        [str(SCRIPT), "batch", "-", *args],
        cwd=tmp_path,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def _read_rows(proc: subprocess.Popen[str], count: int) -> list[str]:
    """The header and the next `count` rows, read as the batch prints them."""
    assert proc.stdout is not None
    return [proc.stdout.readline() for _ in range(count + 1)]


def test_rows_are_printed_while_the_input_is_still_open(tmp_path: Path) -> None:
    proc = _started(tmp_path)
    assert proc.stdin is not None
    proc.stdin.write(line("echo", {"n": 1}) + "\n" + line("nope") + "\n")
    proc.stdin.flush()
    header, first, second = _read_rows(proc, 2)  # printed before the input ends: the batch streams
    assert header.split() == ["line", "mission", "status", "run", "detail"]
    assert first.split()[:3] == ["1", "echo", "completed"] and second.split()[:3] == ["2", "nope", "error"]
    out, err = proc.communicate("")
    assert proc.returncode == 1 and err == ""
    assert out.splitlines()[-1] == "2 calls: 1 completed, 0 suspended, 0 failed, 1 error; 1 run saved in stepfold.db"


def test_ctrl_c_while_waiting_for_input_prints_what_completed_and_keeps_it_saved(tmp_path: Path) -> None:
    proc = _started(tmp_path)
    assert proc.stdin is not None
    proc.stdin.write("".join(line("echo", {"n": n}) + "\n" for n in range(3)))
    proc.stdin.flush()
    _read_rows(proc, 3)  # three calls done and saved; the batch now waits for more input
    os.killpg(proc.pid, signal.SIGINT)  # what a terminal's Ctrl-C does: the whole process group
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
    assert out.splitlines()[-1] == (
        "interrupted (Ctrl-C) after 3 calls: 3 completed, 0 suspended, 0 failed, 0 errors; 3 runs saved in stepfold.db"
    )
    assert len(stepfold(tmp_path, "runs").stdout.splitlines()) == 1 + 3


@pytest.mark.parametrize("workers", ["1", "2"])
def test_ctrl_c_mid_batch_stops_cleanly_and_everything_completed_stays_saved(tmp_path: Path, workers: str) -> None:
    write_batch(tmp_path, [line("echo", {"n": n}) for n in range(20_000)])
    proc = subprocess.Popen(
        [str(SCRIPT), "batch", "calls.jsonl", "--workers", workers],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    seen = "".join(_read_rows(proc, 20))  # well under way
    os.killpg(proc.pid, signal.SIGINT)
    rest, err = proc.communicate(timeout=120)
    out = seen + rest
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
    summary = out.splitlines()[-1]
    match = re.fullmatch(
        r"interrupted \(Ctrl-C\) after (\d+) calls: (\d+) completed, .*; (\d+) runs saved in stepfold.db", summary
    )
    assert match is not None, summary
    done, completed, saved = map(int, match.groups())
    assert 20 <= done < 20_000 and done == completed == saved
    rows_printed = [row for row in out.splitlines()[1:-1] if row.split()[2] == "completed"]
    assert len(rows_printed) == done
    assert len(stepfold(tmp_path, "runs").stdout.splitlines()) == 1 + saved


def test_an_endless_line_is_refused_with_one_line_and_exit_2(tmp_path: Path) -> None:
    done = subprocess.run(
        ["sh", "-c", f"{{ echo '{line('echo')}'; cat /dev/zero; }} | '{SCRIPT}' batch -"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 2
    assert (
        done.stderr
        == "stepfold: error: batch: standard input line 2 is longer than 64 MiB (one call per line; nothing after it was read)\n"
    )
    assert done.stdout.splitlines()[-1].startswith("1 call: 1 completed")  # what came before it ran and was saved
    assert len(stepfold(tmp_path, "runs").stdout.splitlines()) == 2


def test_a_file_that_is_one_endless_line_is_refused(tmp_path: Path) -> None:
    done = stepfold(tmp_path, "batch", "/dev/zero")
    assert done.returncode == 2
    assert (
        done.stderr
        == "stepfold: error: batch: /dev/zero line 1 is longer than 64 MiB (one call per line; nothing after it was read)\n"
    )


def test_a_call_with_effects_has_them_performed_here_unless_no_effects(tmp_path: Path) -> None:
    project = ROOT / "examples" / "projects" / "passing"
    calls = write_batch(tmp_path, [line("run_tests", {"paths": ["tests"]})])
    performed = run_cli(project, "--store", str(tmp_path / "runs.db"), "batch", str(calls))
    assert performed.returncode == 0, performed.stdout + performed.stderr
    assert performed.stdout.splitlines()[1].split()[:3] == ["1", "run_tests", "completed"]
    held = run_cli(project, "--store", str(tmp_path / "held.db"), "batch", str(calls), "--no-effects")
    assert held.returncode == 3
    assert held.stdout.splitlines()[1].split()[:3] == ["1", "run_tests", "suspended"]
    assert "waiting for tests-discover" in held.stdout


@pytest.mark.parametrize("workers", ["0", "65", "100000000"])
def test_batch_refuses_a_number_of_workers_outside_one_to_max(tmp_path: Path, workers: str) -> None:
    calls = tmp_path / "calls.jsonl"
    calls.write_text('{"mission": "echo"}\n', encoding="utf-8")
    proc = subprocess.run(
        [str(SCRIPT), "--store", str(tmp_path / "s.db"), "batch", str(calls), "--workers", workers],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert proc.returncode == 2
    assert proc.stderr == f"stepfold: error: --workers: expected 1 to {MAX_WORKERS} processes, got {workers}\n"
    assert not (tmp_path / "s.db").exists()
