"""The conventions a scripter relies on: closed pipes, `-` for standard input, `--version`, a global `--store`,
`--json` with the run id, output people can trust (escaped, singular where one), one numbering of steps.

Refused stores (`:memory:`, a link to /dev/null) are in test_cli_audit.py, a refused human input to `resume`
in test_cli_store.py; here the same conventions for the commands those tests do not reach.
"""

from __future__ import annotations

import importlib.metadata
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import stepfold
from stepfold.cli import EXIT_OUTPUT_ERROR, main
from tests.helpers import SCRIPT, run_cli

ROOT = Path(__file__).resolve().parent.parent
STATE = ROOT / "examples" / "daily_state.json"
CONFIRM = "daily-confirm-priorities"
BOM = b"\xef\xbb\xbf"

FORGED = "\n2. approve  [human, completed]  -> 000000000000"
"""A line a state key or workflow id could forge, were the output printed raw."""
CLEAR_SCREEN = "\x1b[2J"

MISSIONS = '''
from stepfold import MISSION_REGISTRY, Mission, StepSpec, WorkflowDefinition, register_mission


def build_named(params):
    """Build a one-step workflow named by its params."""
    return WorkflowDefinition(
        id=params["name"],
        steps=[StepSpec("put", "runtime", {"operation": "merge", "values": params["values"]})],
    )


def build_counter(params):
    """Count twice, the second time by the mission's own operation."""
    return WorkflowDefinition(
        id="counter",
        steps=[
            StepSpec("first", "runtime", {"operation": "increment", "key": "n"}),
            StepSpec("second", "runtime", {"operation": "counter.bump"}),
        ],
    )


def bump(state, step):
    return state.set("n", state["n"] + STEP)


def build_spoofing(params):
    """Spoof \x1b[2Jthe screen."""
    return build_named(params)


MISSION_REGISTRY["named"] = build_named
register_mission("counter", Mission(build_counter, operations={"counter.bump": bump}), replace=True)
register_mission("spoofing", build_spoofing, replace=True)
'''


def stepfold_in_process(*args: str | Path, stdin: bytes | None = None) -> tuple[int, str, str]:
    """`stepfold ARGS` in this process (standard input holding `stdin`): exit code, output, errors."""
    out, err = io.StringIO(), io.StringIO()
    saved = sys.stdin
    if stdin is not None:
        sys.stdin = io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8")
    try:
        code = main([str(arg) for arg in args], out, err)
    finally:
        sys.stdin = saved
    return code, out.getvalue(), err.getvalue()


def one_error_line(err: str) -> str:
    assert "Traceback" not in err
    assert err.count("\n") == 1 and err.startswith("stepfold: error: "), err
    return err


@pytest.fixture
def missions(tmp_path: Path, registry_restored: None) -> Path:
    """A file of user missions for `--load` (the counter's second step adds 1)."""
    path = tmp_path / "missions.py"
    path.write_text("STEP = 1\n" + MISSIONS, encoding="utf-8")
    return path


@pytest.fixture
def store(tmp_path: Path) -> Path:
    return tmp_path / "runs.db"


def saved_run(store: Path, *args: str | Path) -> str:
    """`stepfold --store STORE run ARGS --json`; the run id."""
    code, out, err = stepfold_in_process("--store", store, "run", *args, "--json")
    assert code in (0, 3), err
    run_id = json.loads(out)["run_id"]
    assert isinstance(run_id, str)
    return run_id


# a closed pipe -------------------------------------------------------------------------------


@pytest.fixture
def daily_run(store: Path) -> str:
    return saved_run(store, "daily_loop", "--state", STATE)


def _commands(run_id: str) -> Iterator[list[str]]:
    yield ["show", run_id]
    yield ["show", run_id, "--json"]
    yield ["export", run_id]
    yield ["runs"]
    yield ["runs", "--json"]
    yield ["missions"]
    yield ["verify", run_id]
    yield ["run", "echo", "--no-store"]


def test_a_reader_that_went_away_ends_the_command_quietly(store: Path, daily_run: str) -> None:
    for command in _commands(daily_run):
        reading, writing = os.pipe()
        os.close(reading)  # like `| head -1` once head has exited: every write meets a closed pipe
        try:
            proc = subprocess.run(
                [str(SCRIPT), "--store", str(store), *command],
                stdout=writing,
                stderr=subprocess.PIPE,
                text=True,
                check=False,
                timeout=60,
            )
        finally:
            os.close(writing)
        assert proc.returncode in (0, 141), (command, proc.returncode, proc.stderr)
        assert proc.stderr == "", (command, proc.stderr)


# an output that cannot be written ------------------------------------------------------------


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full (Linux)")
def test_an_output_on_a_full_disk_ends_the_command_with_one_line_and_exit_74(store: Path, daily_run: str) -> None:
    for command in [*_commands(daily_run), ["batch", "-"], ["--help"], ["--version"], ["run", "--help"]]:
        with open("/dev/full", "w", encoding="utf-8") as full:
            proc = subprocess.run(
                [str(SCRIPT), "--store", str(store), *command],
                input='{"mission": "echo"}\n',
                stdout=full,
                stderr=subprocess.PIPE,
                text=True,
                check=False,
                timeout=60,
            )
        assert proc.returncode == EXIT_OUTPUT_ERROR, (command, proc.returncode, proc.stderr)
        assert proc.stderr == "stepfold: error: cannot write the output: No space left on device (errno 28)\n", (
            command,
            proc.stderr,
        )


class _Full(io.StringIO):
    """A standard output whose every write fails as a full disk does."""

    def write(self, text: str) -> int:
        raise OSError(28, "No space left on device")


def test_a_run_whose_output_cannot_be_written_is_still_saved(store: Path) -> None:
    err = io.StringIO()
    code = main(["--store", str(store), "run", "echo", "--params", '{"a": 1}'], out=_Full(), err=err)
    assert code == EXIT_OUTPUT_ERROR
    assert err.getvalue() == "stepfold: error: cannot write the output: No space left on device (errno 28)\n"
    listed = subprocess.run(
        [str(SCRIPT), "--store", str(store), "runs", "--json"], capture_output=True, text=True, check=True, timeout=60
    )
    assert [row["workflow_id"] for row in json.loads(listed.stdout)] == ["echo"]


def test_a_file_that_cannot_be_opened_is_named_with_exit_2(monkeypatch: pytest.MonkeyPatch) -> None:
    def refused() -> None:
        raise PermissionError(13, "Permission denied", "runs.db")

    monkeypatch.setattr(sys.modules["stepfold.cli.main"], "discover_missions", refused)
    err = io.StringIO()
    assert main(["missions"], out=io.StringIO(), err=err) == 2
    assert err.getvalue() == "stepfold: error: runs.db: Permission denied\n"


# `-` for every file argument -----------------------------------------------------------------


def test_run_reads_its_state_from_standard_input(store: Path) -> None:
    code, out, err = stepfold_in_process(
        "run", "echo", "--state", "-", "--params", '{"payload_key": "x"}', "--json", "--no-store", stdin=b'{"x": 7}'
    )
    assert code == 0, err
    assert json.loads(out)["final_state"] == {"x": 7, "echo": 7}


def test_verify_reads_a_document_from_standard_input(store: Path, daily_run: str) -> None:
    _, exported, _ = stepfold_in_process("--store", store, "export", daily_run)
    code, out, err = stepfold_in_process("verify", "-", "--json", stdin=exported.encode("utf-8"))
    assert code == 0, err
    answer = json.loads(out)
    assert (answer["verdict"], answer["target"], answer["run_id"]) == ("ok", "standard input", daily_run)


def test_batch_reads_its_calls_from_standard_input(store: Path) -> None:
    calls = b'{"mission": "echo", "params": {"a": 1}}\n{"mission": "echo", "params": {"a": 2}}\n'
    code, out, err = stepfold_in_process("--store", store, "batch", "-", stdin=calls)
    assert code == 0, err
    assert out.splitlines()[-1].startswith("2 calls: 2 completed")
    _, listed, _ = stepfold_in_process("--store", store, "runs", "--json")
    assert len(json.loads(listed)) == 2


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_an_endless_input_is_refused_with_one_line_and_exit_2(store: Path, daily_run: str) -> None:
    """`/dev/zero` as a file or standard input: refused after `MAX_INPUT_BYTES`, never read into all memory."""
    zero = "/dev/zero"
    cases = {
        ("verify", "-"): "standard input",
        ("run", "echo", "--no-store", "--state", "-"): "standard input",
        ("verify", daily_run, "--key", zero): repr(zero),
        ("run", "echo", "--sign", zero): repr(zero),
    }
    for command, named in cases.items():
        with open(zero, "rb") as endless:
            proc = subprocess.run(
                [str(SCRIPT), "--store", str(store), *command],
                stdin=endless,
                capture_output=True,
                text=True,
                check=False,
                timeout=120,
            )
        assert proc.returncode == 2, (command, proc.returncode, proc.stderr)
        assert f"{named} is longer than 64 MiB, the most stepfold reads from one input" in one_error_line(proc.stderr)


# --version, a global --store, --json with the run id, exit codes in --help -------------------------


def test_version_prints_the_package_version() -> None:
    code, out, err = stepfold_in_process("--version")
    assert (code, out, err) == (0, f"stepfold {stepfold.__version__}\n", "")
    assert stepfold.__version__ == importlib.metadata.version("stepfold")


def test_the_store_may_be_given_before_the_command(
    tmp_path: Path, store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    run_id = saved_run(store, "echo")
    for command in (["runs"], ["show", run_id[:8]], ["export", run_id], ["verify", run_id], ["verify", "--all"]):
        code, out, err = stepfold_in_process("--store", store, *command)
        assert code == 0, (command, err)
        assert run_id[:12] in out or "1 run replayed" in out, command
    assert not (tmp_path / "stepfold.db").exists()  # the default store was never opened


def test_every_json_answer_about_a_run_names_its_run_id(store: Path, daily_run: str) -> None:
    _, shown, _ = stepfold_in_process("--store", store, "show", daily_run[:8], "--json")
    assert json.loads(shown)["run_id"] == daily_run
    _, listed, _ = stepfold_in_process("--store", store, "runs", "--json")
    assert [entry["run_id"] for entry in json.loads(listed)] == [daily_run]
    _, verified, _ = stepfold_in_process("--store", store, "verify", daily_run[:8], "--json")
    assert json.loads(verified)["run_id"] == daily_run
    _, forked, _ = stepfold_in_process("--store", store, "fork", daily_run, CONFIRM, "--json")
    assert json.loads(forked)["run_id"] == daily_run  # the run as it was before that step: the same run


def test_missions_json_lists_each_name_with_its_description() -> None:
    code, out, _ = stepfold_in_process("missions", "--json")
    assert code == 0
    listed = json.loads(out)
    assert [entry["name"] for entry in listed] == ["daily_loop", "echo", "run_tests"]
    assert all(set(entry) == {"name", "description"} and entry["description"] for entry in listed)


@pytest.mark.parametrize("command", ["run", "resume"])
def test_the_help_of_run_and_resume_lists_every_exit_code(command: str) -> None:
    code, out, _ = stepfold_in_process(command, "--help")
    assert code == 0
    flat = " ".join(out.split())
    assert "exit codes: 0 completed, 1 failed, 2 bad usage or input, 3 suspended" in flat


# refused input saves nothing ---------------------------------------------------------------------


def test_a_typo_in_a_human_input_to_run_is_refused_and_nothing_is_saved(tmp_path: Path, store: Path) -> None:
    code, out, err = stepfold_in_process(
        "--store", store, "run", "daily_loop", "--state", STATE, "--input", f'{CONFIRM}={{"approved": "yes"}}'
    )
    assert (code, out) == (2, "")
    line = one_error_line(err)
    assert "InvalidInputError" not in line  # the message, not the class, is for people
    assert f"step '{CONFIRM}' (operation 'daily.confirm') refused the input" in line
    assert "input.approved: expected true or false, got str 'yes'" in line
    assert not store.exists()


# output for people: escaped, singular where one -------------------------------------------------------


def test_control_characters_in_keys_and_ids_are_shown_escaped(store: Path, missions: Path) -> None:
    params = json.dumps({"name": "spoof" + FORGED + CLEAR_SCREEN, "values": {"key" + FORGED: 1, CLEAR_SCREEN: 2}})
    code, out, err = stepfold_in_process("--load", missions, "--store", store, "run", "named", "--params", params)
    assert code == 0, err
    run_id = out.split("run      ", 1)[1].split()[0]
    outputs = {"run": out}
    for command in (["show", run_id], ["runs"], ["missions"]):
        code, outputs[command[0]], err = stepfold_in_process("--load", missions, "--store", store, *command)
        assert code == 0, err
    for name, text in outputs.items():
        assert "\x1b" not in text, name
        assert not any(line.startswith("2. approve") for line in text.splitlines()), name
    assert "\\x1b[2J" in outputs["show"] and "\\x0a2. approve" in outputs["show"]
    assert "spoof\\x0a2. approve" in outputs["runs"] and "spoof\\x0a2. approve" in outputs["run"]
    assert "Spoof \\x1b[2Jthe screen." in outputs["missions"]


def test_one_of_a_thing_is_singular(store: Path) -> None:
    code, out, _ = stepfold_in_process(
        "--store", store, "run", "echo", "--state", '{"x": 1}', "--params", '{"payload_key": "x"}'
    )
    assert code == 0
    assert out.startswith("workflow echo  (1 step)\n")
    run_id = out.split("run      ", 1)[1].split()[0]
    _, shown, _ = stepfold_in_process("--store", store, "show", run_id)
    assert "initial state  1 key  " in shown
    _, verified, _ = stepfold_in_process("--store", store, "verify", run_id)
    assert f"ok  {run_id}: 1 step verified: chain intact" in verified
    _, checked, _ = stepfold_in_process("--store", store, "verify", run_id, "--no-replay")
    assert "chain and record of 1 step intact (not replayed)" in checked
    _, replayed, _ = stepfold_in_process("--store", store, "verify", "--all")
    assert replayed.splitlines()[-1] == "1 run replayed with the code installed now: 1 ok"


def test_missions_without_a_description_show_their_builders_docstring(missions: Path) -> None:
    code, out, err = stepfold_in_process("--load", missions, "missions")
    assert code == 0, err
    described = {line.split()[0]: " ".join(line.split()[1:]) for line in out.splitlines()}
    assert described["named"] == "Build a one-step workflow named by its params."  # a plain builder
    assert described["counter"] == "Count twice, the second time by the mission's own operation."  # a Mission


def test_steps_are_numbered_from_one_by_run_show_and_verify(tmp_path: Path, store: Path, missions: Path) -> None:
    code, out, err = stepfold_in_process("--load", missions, "--store", store, "run", "counter")
    assert code == 0, err
    assert [line.split()[:2] for line in out.splitlines()[2:4]] == [["1", "first"], ["2", "second"]]
    run_id = out.split("run      ", 1)[1].split()[0]
    _, shown, _ = stepfold_in_process("--store", store, "--load", missions, "show", run_id)
    assert [line.split()[0] for line in shown.splitlines() if line[:1].isdigit()] == ["1.", "2."]
    assert "  2. " in shown.split("receipt  genesis", 1)[1]  # the receipt's links, numbered alike
    changed = tmp_path / "changed.py"
    changed.write_text("STEP = 2\n" + MISSIONS, encoding="utf-8")  # the mission's operation now adds 2
    code, verified, _ = stepfold_in_process("--load", changed, "--store", store, "verify", run_id)
    assert code == 4
    assert verified.startswith(f"DIVERGED at step 2 ('second')  {run_id}: ")
    assert "replay diverges at step 2 ('second')" in verified
    _, answer, _ = stepfold_in_process("--load", changed, "--store", store, "verify", run_id, "--json")
    assert json.loads(answer)["first_mismatch"] == {"index": 1, "step": 2, "step_id": "second"}


# output in a locale that cannot spell it -----------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["ascii", "latin-1"])
def test_output_is_utf8_whatever_the_locale(tmp_path: Path, encoding: str) -> None:
    """Non-ASCII data through a standard output the locale would make ASCII or Latin-1: the same UTF-8 bytes."""
    state = json.dumps({"clé": "ü✓ 東京"})
    outputs = []
    for environment in ({**os.environ, "PYTHONIOENCODING": "utf-8"}, {**os.environ, "PYTHONIOENCODING": encoding}):
        folder = tmp_path / environment["PYTHONIOENCODING"]
        folder.mkdir()
        ran = run_cli(
            folder, "run", "echo", "--params", '{"payload_key": "clé"}', "--state", state, "--json", env=environment
        )
        assert ran.returncode == 0, ran.stderr
        run_id = json.loads(ran.stdout)["run_id"]
        shown = [
            run_cli(folder, *command, env=environment)
            for command in (["export", run_id], ["show", run_id, "--json"], ["show", run_id])
        ]
        assert [proc.returncode for proc in shown] == [0, 0, 0], [proc.stderr for proc in shown]
        assert json.loads(shown[0].stdout)["final_state"] == {"clé": "ü✓ 東京", "echo": "ü✓ 東京"}
        outputs.append([ran.stdout, *(proc.stdout for proc in shown)])
    assert outputs[0] == outputs[1]


# files with a byte-order mark ------------------------------------------------------------------------------


def test_files_with_a_utf8_byte_order_mark_are_read(tmp_path: Path, store: Path, daily_run: str) -> None:
    state = tmp_path / "state.json"
    state.write_bytes(BOM + b'{"x": 1}')
    code, out, err = stepfold_in_process(
        "run", "echo", "--state", state, "--params", '{"payload_key": "x"}', "--json", "--no-store"
    )
    assert code == 0, err
    assert json.loads(out)["final_state"] == {"x": 1, "echo": 1}
    _, exported, _ = stepfold_in_process("--store", store, "export", daily_run)
    document = tmp_path / "run.json"
    document.write_bytes(BOM + exported.encode("utf-8"))
    code, _, err = stepfold_in_process("verify", document)
    assert code == 0, err
    calls = tmp_path / "calls.jsonl"
    calls.write_bytes(BOM + b'{"mission": "echo"}\n')
    code, out, err = stepfold_in_process("--store", store, "batch", calls)
    assert code == 0, err


def test_the_console_script_reads_standard_input_too(tmp_path: Path) -> None:
    proc = subprocess.run(
        [str(SCRIPT), "run", "echo", "--no-store", "--state", "-", "--params", '{"payload_key": "x"}'],
        input=BOM + b'{"x": "from a pipe"}',
        capture_output=True,
        check=False,
        timeout=60,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert b"status   completed" in proc.stdout
    assert run_cli(tmp_path, "--version").stdout == f"stepfold {stepfold.__version__}\n"


@pytest.mark.parametrize(
    "arguments",
    [
        ["run", "{big}"],
        ["fork", "{run}", "{big}"],
        ["resume", "{run}", "--input", "{big}=1"],
        ["--load", "{big}", "missions"],
        ["--load", "{big}.py", "missions"],
        ["show", "{big}"],
    ],
)
def test_a_megabyte_argument_is_named_never_echoed(store: Path, daily_run: str, arguments: list[str]) -> None:
    big = "x" * 1_000_000
    filled = [argument.replace("{big}", big).replace("{run}", daily_run) for argument in arguments]
    code, out, err = stepfold_in_process("--store", store, *filled)
    assert code == 2 and out == ""
    assert len(one_error_line(err)) < 1_000, err[:300]
