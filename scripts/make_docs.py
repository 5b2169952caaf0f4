"""`make docs`: regenerate every block of real output in README.md and docs/ by running what it shows.

A block of real output sits between two markers in a Markdown file::

    <!-- begin output: NAME -->
    ```text
    ...what the producer NAME printed...
    ```
    <!-- end output -->

`python scripts/make_docs.py` runs each producer and writes its output into
every block of that name; `--check` writes nothing and exits 1 naming each
block whose text differs from a fresh run (tests/test_docs.py runs it);
`--only NAME` (repeatable) does either for the blocks of that name alone.
A producer is a function returning the block's text: the commands it ran,
each as `$ command` followed by what it printed, run in a fresh scratch
folder (`make run` too, on a copy of examples/); or the source of an
example file, so that the code a page shows is the code that ran. Every
subprocess runs with `PYTHONHASHSEED=0` and `COLUMNS=100`, and pytest with
`--hypothesis-seed=0`, so that what can repeat does.

Some output holds what a real run cannot repeat: the durations a test run
records (and so every digest after them), a fresh key's fingerprint, the
time pytest took. Such a producer comes with a pattern of exactly those
parts, which are masked when comparing; everything else must match to the
letter. `docs/bad-inputs.md` has its own generator, run too.
"""

from __future__ import annotations

import argparse
import ast
import difflib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
STEPFOLD = BIN / "stepfold"
DOCUMENTS = [ROOT / "README.md", ROOT / "CHANGELOG.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(
    r"(<!-- begin output: (?P<name>[a-z0-9-]+) -->\n```[a-z]*\n)(?P<body>.*?)(```\n<!-- end output -->)", re.S
)

RUN_DIGESTS = re.compile(r"\b[0-9a-f]{64}\b|\b[0-9a-f]{12}\b|\b[0-9a-f]{16}…|\d+\.\d+ ?s\b|\"duration_s\": ?[0-9.]+")
"""What a run_tests run cannot repeat: the durations it records, and so every digest, link and run id after them."""

KEY_FINGERPRINTS = re.compile(r"\bkey [0-9a-f]{16}…")
"""A fresh key's fingerprint (`signed by key 978521c90ba8fffb…`)."""

PYTEST_TIME = re.compile(r"\bin \d+\.\d+s\b")
LIBRARY_LINES = re.compile(r"(?<=\.py:)\d+(?=: in )")
"""Line numbers of the library frames a traceback passes through (`src/stepfold/state.py:212: in __getitem__`): they
move whenever that module changes, while the user's own frames (`test_invoice.py:100: `) do not."""
"""How long pytest took (`4 failed, 4 passed in 5.04s`)."""

DAILY = 'daily_loop --state daily_state.json --params \'{"date": "2026-11-24"}\''
APPROVE = "--input 'daily-confirm-priorities={\"approved\": true}'"
NOTES = "--load examples/notes_mission.py"
PAYMENTS = "--load examples/payments_mission.py"


UNSET = frozenset({"HYPOTHESIS_PROFILE", "CI", "BUILD_NUMBER"})
"""Variables a producer's commands must not see: the test profile, and the two that make pytest print its
summary lines untruncated (as it does on a CI machine)."""


def _environment(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of every command a producer runs: this venv first on PATH, fixed hash seed and width."""
    env = {key: value for key, value in os.environ.items() if key not in UNSET}
    env.update({"COLUMNS": "100", "PYTHONHASHSEED": "0", "PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}"})
    return {**env, **(extra or {})}


def _run(argv: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    """What a command printed (stdout, then stderr)."""
    done = subprocess.run(
        argv,
        cwd=cwd,
        capture_output=True,
        text=True,
        encoding="utf-8",
        check=False,
        timeout=600,
        env=_environment(env),
    )
    out = done.stdout + done.stderr
    return out if out.endswith("\n") or not out else out + "\n"


_cache: dict[str, str] = {}


def _cached(name: str, make: Callable[[], str]) -> str:
    if name not in _cache:
        _cache[name] = make()
    return _cache[name]


def _section(text: str, start: str, stop: str | None) -> str:
    """The part of `text` from the line `start` to `stop` (or the end); the whole text in the error if it is not there."""
    begin = text.find(start)
    end = len(text) if stop is None else text.find(stop, max(begin, 0))
    if begin < 0 or end < 0:
        raise RuntimeError(f"make_docs: no section {start!r}..{stop!r} in this output:\n{text}")
    return text[begin:end].strip("\n") + "\n"


class Session:
    """Shell commands run one after another in a scratch folder, each shown as `$ command` and what it printed.

    A command may name a run id an earlier one printed: `{{name}}` is the
    id's first 12 characters and `{{name_full}}` all 64, once `remember(name,
    output)` has read it from that output.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.env = _environment()
        self.ids: dict[str, str] = {}
        self.shown: list[str] = []

    def copy(self, source: str, target: str | None = None) -> None:
        """Copy a file of the repository into the folder (at the same relative path unless `target`)."""
        destination = self.folder / (target or source)
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / source, destination)

    def write(self, name: str, text: str) -> None:
        """Write a file into the folder."""
        (self.folder / name).write_text(text, encoding="utf-8")

    def command(self, template: str) -> str:
        """The command with its `{{name}}` placeholders filled."""
        return re.sub(r"\{\{(\w+)\}\}", lambda match: self.ids[match.group(1)], template)

    def sh(self, template: str, *, note: str = "", exit_code: bool | None = None) -> str:
        """Run a command with `sh -c`, show it (with `# note`) and its output; return the output.

        The exit code is shown for a lone `stepfold` command (not piped, chained or sent to the background) and
        for any command that does not exit 0.
        """
        command = self.command(template)
        done = subprocess.run(
            ["sh", "-c", command],
            cwd=self.folder,
            capture_output=True,
            text=True,
            encoding="utf-8",
            check=False,
            timeout=600,
            env=self.env,
        )
        out = done.stdout + done.stderr
        if out and not out.endswith("\n"):
            out += "\n"
        if exit_code is None:
            exit_code = command.startswith("stepfold") and not any(sign in command for sign in "|;&")
        self.show(command, note, out, done.returncode if exit_code or done.returncode else None)
        return out

    def show(self, command: str, note: str, out: str, code: int | None) -> None:
        """Add a command with its output (and exit code, unless None) to what the session shows."""
        comment = f"    # {note}" if note else ""
        ending = "" if code is None else f"(exit {code})\n"
        self.shown.append(f"$ {command}{comment}\n{out}{ending}")

    def say(self, text: str) -> None:
        """Add a line of its own (a `#` comment) to what the session shows."""
        self.shown.append(text + "\n")

    def remember(self, name: str, output: str) -> str:
        """Read the last run id an output shows (`run      ID ...` or `run ID`) as `name`; return its short form."""
        found: list[str] = re.findall(r"^run +([0-9a-f]{64})\b", output, re.M)
        if not found:
            raise RuntimeError(f"make_docs: no run id in this output:\n{output}")
        full = found[-1]
        self.ids[name], self.ids[f"{name}_full"] = full[:12], full
        return full

    def text(self) -> str:
        """Everything the session showed, a blank line between commands."""
        return "\n".join(self.shown)


@contextmanager
def _session() -> Iterator[Session]:
    with tempfile.TemporaryDirectory(prefix="stepfold-docs-") as scratch:
        yield Session(Path(scratch))


@contextmanager
def _payments_api(session: Session, drop_first: int) -> Iterator[subprocess.Popen[str]]:
    """The stand-in payments API (examples/payments_api.py) in the background, PAYMENTS_API pointing at it."""
    session.copy("examples/payments_api.py")
    argv = [sys.executable, "examples/payments_api.py", "--port", "0", "--drop-first", str(drop_first)]
    server = subprocess.Popen(
        [*argv, "--log", "api.log"], cwd=session.folder, stdout=subprocess.PIPE, text=True, env=session.env
    )
    try:
        assert server.stdout is not None
        url = server.stdout.readline().split()[-1]
        session.env["PAYMENTS_API"] = url
        session.show(
            f"python examples/payments_api.py --drop-first {drop_first} --log api.log &",
            "a stand-in payments API; PAYMENTS_API points at it",
            "",
            None,
        )
        yield server
    finally:
        server.terminate()
        server.wait(timeout=30)


def _source(path: str, names: list[str] | None = None) -> str:
    """The text of an example file, or only its top-level definitions of these names, in file order."""
    text = (ROOT / path).read_text(encoding="utf-8")
    if names is None:
        return text
    lines = text.splitlines(keepends=True)
    tree = ast.parse(text)
    chunks, found = [], set()
    for node in tree.body:
        targets = (
            [node.name]
            if isinstance(node, (ast.FunctionDef, ast.ClassDef))
            else [t.id for t in node.targets if isinstance(t, ast.Name)]
            if isinstance(node, ast.Assign)
            else []
        )
        if any(name in names for name in targets):
            found.update(targets)
            start = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))]) - 1
            end = node.end_lineno or node.lineno
            following = tree.body.index(node) + 1
            # a string right after an assignment is its docstring
            if isinstance(node, ast.Assign) and following < len(tree.body):
                after = tree.body[following]
                if isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant):
                    end = after.end_lineno or end
            chunks.append("".join(lines[start:end]))
    missing = set(names) - found
    if missing:
        raise RuntimeError(f"make_docs: {path} defines no {sorted(missing)}")
    return "\n\n\n".join(chunk.rstrip("\n") for chunk in chunks) + "\n"


# make run -------------------------------------------------------------------------


def _make_run() -> str:
    """`make run`, on a copy of examples/ in a scratch folder (so that a `make run` going on here is left alone)."""
    with tempfile.TemporaryDirectory(prefix="stepfold-docs-") as scratch:
        ignored = shutil.ignore_patterns("__pycache__", ".pytest_cache", ".stepfold-demo")
        shutil.copytree(ROOT / "examples", Path(scratch) / "examples", ignore=ignored)
        return _run(["sh", "examples/run_all.sh", str(STEPFOLD)], Path(scratch))


def make_run_daily() -> str:
    """`make run`, part 1: the daily loop."""
    return _section(_cached("make-run", _make_run), "# 1.", "\n# 2.")


def make_run_effects() -> str:
    """`make run`, part 2: a mission of your own with effects."""
    return _section(_cached("make-run", _make_run), "# 2.", "\n# 3.")


def make_run_tests() -> str:
    """`make run`, part 3: run_tests on the sample projects (records durations: volatile)."""
    return _section(_cached("make-run", _make_run), "# 3.", None)


# Missions of your own, the policy, many runs --------------------------------------------


def custom_mission() -> str:
    """examples/custom_mission.py, run."""
    return "$ .venv/bin/python examples/custom_mission.py\n" + _run(
        [sys.executable, "examples/custom_mission.py"], ROOT
    )


def custom_mission_source() -> str:
    """The operations, builder and registration of examples/custom_mission.py."""
    return _source("examples/custom_mission.py", ["add_tax", "stamp", "build_invoice", "register", "main"])


def policy_source() -> str:
    """The policy and main of examples/wider_policy.py."""
    return _source("examples/wider_policy.py", ["ONBOARDING_POLICY", "main"])


def policy_run() -> str:
    """examples/wider_policy.py, run; and the same mission from the command line, under the default policy."""
    with _session() as session:
        session.copy("examples/wider_policy.py")
        session.sh("python examples/wider_policy.py")
        session.sh('stepfold --load examples/wider_policy.py run onboarding --params \'{"name": "grace"}\'')
        return session.text()


def run_many_source() -> str:
    """examples/run_many.py, whole."""
    return _source("examples/run_many.py")


def run_many_output() -> str:
    """examples/run_many.py, run."""
    return "$ .venv/bin/python examples/run_many.py\n" + _run([sys.executable, "examples/run_many.py"], ROOT)


def batch() -> str:
    """`stepfold batch` on examples/calls.jsonl, in a folder with one passing test for line 5 (run_tests) to run."""
    with _session() as session:
        session.copy("examples/calls.jsonl", "calls.jsonl")
        (session.folder / "tests").mkdir()
        session.write("tests/test_ok.py", "def test_ok() -> None:\n    assert True\n")
        session.sh("stepfold batch calls.jsonl --workers 2")
        return session.text()


def batch_json() -> str:
    """`stepfold batch --json --no-effects` on examples/calls.jsonl (no effect performed: every run id repeats)."""
    with _session() as session:
        session.copy("examples/calls.jsonl", "calls.jsonl")
        session.sh("stepfold batch calls.jsonl --json --no-effects")
        return session.text()


def batch_input() -> str:
    """examples/calls.jsonl, as it is."""
    return "$ cat calls.jsonl\n" + (ROOT / "examples" / "calls.jsonl").read_text(encoding="utf-8")


# Effects -----------------------------------------------------------------------------


def effects_python_source() -> str:
    """examples/effects_in_python.py, whole."""
    return _source("examples/effects_in_python.py")


def effects_python() -> str:
    """examples/effects_in_python.py, run."""
    return "$ .venv/bin/python examples/effects_in_python.py\n" + _run(
        [sys.executable, "examples/effects_in_python.py"], ROOT
    )


def notes_builder() -> str:
    """The builder and the registration of examples/notes_mission.py."""
    return _source("examples/notes_mission.py", ["build_notes_digest", "MISSION"])


def notes_summarise() -> str:
    """The model stand-in's handler of examples/notes_mission.py, which keeps a ledger of the keys it answered."""
    return _source("examples/notes_mission.py", ["LEDGER", "_answered", "summarise"])


def no_effects() -> str:
    """`run --no-effects` (exit 3), outcomes given by hand with `--input`, and `resume` performing the rest."""
    with _session() as session:
        session.copy("examples/notes_mission.py")
        session.copy("examples/notes.txt")
        out = session.sh(
            f'stepfold {NOTES} run notes_digest --params \'{{"path": "examples/notes.txt"}}\' --no-effects'
        )
        session.remember("waiting", out)
        session.sh(f"stepfold {NOTES} resume {{{{waiting}}}} --no-effects")
        read = '{"ok": true, "value": {"path": "examples/notes.txt", "lines": ["Typed by hand."]}, "attempts": 1}'
        out = session.sh(f"stepfold {NOTES} resume {{{{waiting}}}} --no-effects --input 'notes-read={read}'")
        session.remember("summarise", out)
        out = session.sh(f"stepfold {NOTES} resume {{{{summarise}}}}", note="performs model.summarise")
        session.remember("done", out)
        session.sh(f"stepfold {NOTES} show {{{{done}}}}")
        failed = '{"ok": false, "error": {"type": "FileNotFoundError", "message": "no notes today"}, "attempts": 3}'
        session.sh(
            f"stepfold {NOTES} resume {{{{waiting}}}} --fork --input 'notes-read={failed}'",
            note="the same run, had reading the file failed",
        )
        return session.text()


def payments_handler() -> str:
    """The charge handler and its Effect, from examples/payments_mission.py."""
    return _source("examples/payments_mission.py", ["PaymentDeclined", "charge", "CHARGE"])


def payments_retry() -> str:
    """The API loses its first answer; the retry sends the same key and gets the first charge back."""
    with _session() as session:
        session.copy("examples/payments_mission.py")
        session.copy("examples/invoice.json")
        with _payments_api(session, drop_first=1):
            session.sh("cat examples/invoice.json")
            out = session.sh(f"stepfold {PAYMENTS} run pay_invoice --state examples/invoice.json")
            session.remember("paid", out)
            session.sh("cat api.log", note="one charge; the retry sent the same key")
            session.sh(f"stepfold {PAYMENTS} show {{{{paid}}}}")
        return session.text()


def payments_crash() -> str:
    """Killed while waiting to retry; the same command again completes with the same key; verify calls nothing."""
    with _session() as session:
        session.copy("examples/payments_mission.py")
        session.copy("examples/invoice.json")
        command = f"stepfold {PAYMENTS} run pay_invoice --state examples/invoice.json"
        with _payments_api(session, drop_first=1) as server:
            running = subprocess.Popen(
                ["sh", "-c", f"exec {command}"],
                cwd=session.folder,
                env=session.env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            log = session.folder / "api.log"
            deadline = time.monotonic() + 60
            while not (log.exists() and "lost" in log.read_text(encoding="utf-8")):
                if time.monotonic() > deadline or running.poll() is not None:
                    raise RuntimeError("make_docs: the payments API never charged")
                time.sleep(0.01)
            time.sleep(0.2)  # attempt 1 has failed; stepfold waits 2 s before attempt 2
            running.send_signal(signal.SIGKILL)
            printed, _ = running.communicate(timeout=30)
            if running.returncode != -signal.SIGKILL:
                raise RuntimeError(f"make_docs: the run ended before it was killed:\n{printed}")
            session.show(f"{command} &", "", printed, None)
            session.show("kill -KILL $!", "the API charged and lost its answer; stepfold waits to retry", "", None)
            session.sh("cat api.log")
            session.sh("stepfold runs", note="the run was saved waiting for its effect, before performing it")
            out = session.sh(command, note="the same command again")
            session.remember("paid", out)
            session.sh("cat api.log", note="still one charge: the same Idempotency-Key")
            session.sh("stepfold runs")
            server.terminate()
            server.wait(timeout=30)
            session.show("kill %1", "no API from here on", "", None)
            session.sh(f"stepfold {PAYMENTS} verify {{{{paid}}}}")
            session.sh("cat api.log", note="verify called nothing")
        return session.text()


# Verification -------------------------------------------------------------------------

CHANGED_COUNT = '''"""Release 2 of notes_digest, done wrong: `notes.count` now counts only words longer than 3 letters."""

from stepfold import MISSION_REGISTRY, State, StepSpec, register_mission


def count_long_words(state: State, step: StepSpec) -> State:
    lines = [str(line) for line in state["notes"]["lines"]]
    return state.set("stats", {"lines": len(lines), "words": sum(len(w) > 3 for l in lines for w in l.split())})


register_mission("notes_digest", MISSION_REGISTRY["notes_digest"], operations={"notes.count": count_long_words}, replace=True)
'''

RELEASE_2 = '''"""Release 2 of notes_digest, done right: the new count is a new operation; the old one stays for the runs that used it."""

import attrs

from stepfold import MISSION_REGISTRY, Params, State, StepSpec, WorkflowDefinition, register_mission

RELEASE_1 = MISSION_REGISTRY["notes_digest"]


def count_long_words(state: State, step: StepSpec) -> State:
    lines = [str(line) for line in state["notes"]["lines"]]
    return state.set("stats", {"lines": len(lines), "words": sum(len(w) > 3 for l in lines for w in l.split())})


def build_release_2(params: Params) -> WorkflowDefinition:
    workflow = RELEASE_1(params)
    renamed = [StepSpec(s.id, s.kind, s.payload.set("operation", "notes.count/2")) if s.id == "notes-count" else s
               for s in workflow.steps]
    return attrs.evolve(workflow, steps=renamed)


register_mission("notes_digest", attrs.evolve(RELEASE_1, builder=build_release_2),
                 operations={"notes.count/2": count_long_words}, replace=True)
'''


def audit_file() -> str:
    """A run handed over as a file: verify it, with and without replay, against a published head; two forgeries."""
    with _session() as session:
        session.copy("examples/daily_state.json", "daily_state.json")
        out = session.sh(f"stepfold run {DAILY} {APPROVE}")
        session.remember("run", out)
        session.sh("stepfold export {{run}} > run.json", note="the document you are handed")
        session.sh("stepfold verify run.json")
        session.sh("stepfold verify run.json --no-replay", note="needs none of the mission's code")
        session.sh("stepfold verify run.json --expect {{run_full}}", note="the head published elsewhere")
        session.sh('sed \'s/"approved": true/"approved": false/\' run.json > edited.json')
        session.sh("stepfold verify edited.json")
        session.sh(
            f'stepfold run {DAILY} --input \'daily-confirm-priorities={{"priorities": ["t4"]}}\' '
            "--no-store --json > rewritten.json",
            note="a whole new record, consistent in itself",
        )
        session.sh("stepfold verify rewritten.json")
        session.sh("stepfold verify rewritten.json --expect {{run_full}}")
        return session.text()


def audit_key() -> str:
    """Keys: keygen, run --sign, verify --key (the right key, another key, an unsigned run)."""
    with _session() as session:
        session.sh("stepfold keygen ops-key")
        session.sh("ls -l ops-key | cut -c1-10", note="the private key: readable by its owner only")
        out = session.sh('stepfold run echo --params \'{"report": "weekly"}\' --sign ops-key')
        session.remember("signed", out)
        session.sh("stepfold export {{signed}} > signed.json")
        session.sh("stepfold verify signed.json --key ops-key.pub")
        session.sh("stepfold keygen someone-else > /dev/null")
        session.sh("stepfold verify signed.json --key someone-else.pub")
        out = session.sh('stepfold run echo --params \'{"report": "daily"}\' | tail -1', note="not signed")
        session.remember("unsigned", out)
        session.sh("stepfold verify {{unsigned}} --key ops-key.pub")
        session.sh("stepfold keygen ops-key")
        return session.text()


def auditor() -> str:
    """The README's auditor: the operator signs and publishes the head; the auditor checks the file against both."""
    with _session() as session:
        session.copy("examples/daily_state.json", "daily_state.json")
        session.say("# the operator")
        session.sh("stepfold keygen ops-key > /dev/null")
        out = session.sh(f"stepfold run {DAILY} {APPROVE} --sign ops-key | tail -1")
        session.remember("run", out)
        session.sh("stepfold export {{run}} > run.json")
        session.say("# the auditor, given run.json, ops-key.pub and the head published elsewhere")
        session.sh("stepfold verify run.json --expect {{run_full}} --key ops-key.pub")
        session.sh("stepfold verify run.json --no-replay", note="without the mission's code: the record only")
        return session.text()


def verify_all() -> str:
    """verify --all: ok; unverifiable without the mission; diverged after changing an operation; ok with a new name."""
    with _session() as session:
        session.copy("examples/daily_state.json", "daily_state.json")
        session.copy("examples/notes_mission.py")
        session.copy("examples/notes.txt")
        session.write("changed_count.py", CHANGED_COUNT)
        session.write("release_2.py", RELEASE_2)
        session.sh(f"stepfold run {DAILY} {APPROVE} > /dev/null")
        session.sh(f'stepfold {NOTES} run notes_digest --params \'{{"path": "examples/notes.txt"}}\' > /dev/null')
        session.sh(f"stepfold {NOTES} verify --all", note="the CI gate: every stored run, with the code installed now")
        session.sh("stepfold verify --all", note="without the notes mission's code")
        session.sh("cat changed_count.py")
        session.sh(f"stepfold {NOTES} --load changed_count.py verify --all")
        session.sh("cat release_2.py")
        session.sh(f"stepfold {NOTES} --load release_2.py verify --all")
        session.sh(
            f'stepfold {NOTES} --load release_2.py run notes_digest --params \'{{"path": "examples/notes.txt"}}\''
            " | tail -1"
        )
        session.sh(f"stepfold {NOTES} --load release_2.py verify --all")
        return session.text()


# Continuations ---------------------------------------------------------------------


def resume_once() -> str:
    """A suspended run resumes once; again is refused; --fork continues it differently; runs shows the links."""
    with _session() as session:
        session.copy("examples/daily_state.json", "daily_state.json")
        out = session.sh(f"stepfold run {DAILY} | tail -1")
        session.remember("waiting", out)
        session.sh(f"stepfold resume {{{{waiting}}}} {APPROVE} | tail -1")
        no = "--input 'daily-confirm-priorities={\"approved\": false}'"
        session.sh(f"stepfold resume {{{{waiting}}}} {no}")
        session.sh(f"stepfold resume {{{{waiting}}}} --fork {no} | tail -1")
        session.sh("stepfold runs")
        return session.text()


def fork_run() -> str:
    """Time travel: fork a completed run before its human step, resume it with another decision."""
    with _session() as session:
        session.copy("examples/daily_state.json", "daily_state.json")
        out = session.sh(f"stepfold run {DAILY} {APPROVE} | tail -1")
        session.remember("done", out)
        out = session.sh("stepfold fork {{done}} daily-confirm-priorities")
        session.remember("fork", out)
        out = session.sh('stepfold resume {{fork}} --input \'daily-confirm-priorities={"priorities": ["t1"]}\'')
        session.sh("stepfold runs")
        return session.text()


# The store ---------------------------------------------------------------------------

FORGE = '''"""Put another run's record under a genuine run id, as anyone who can write the file could."""

import sqlite3
import sys

genuine, other = sys.argv[1:]
with sqlite3.connect("stepfold.db") as db:
    db.execute("DELETE FROM runs WHERE run_id = ?", (genuine,))
    db.execute("UPDATE runs SET run_id = ? WHERE run_id = ?", (genuine, other))
'''


def store_files() -> str:
    """The files of a store: the database, and the side files SQLite keeps while (and after) it is read."""
    with _session() as session:
        session.sh("stepfold run echo --params '{\"n\": 0}' > /dev/null")
        session.sh("ls", note="a writer that closed leaves the database alone")
        session.sh("stepfold runs > /dev/null; ls", note="a reader, in a folder it may write")
        session.sh(
            'for n in 1 2 3 4 5 6 7 8; do stepfold --store new.db run echo --params "{\\"n\\": $n}" > /dev/null & done;'
            " wait",
            note="eight processes create one new store at once",
        )
        session.sh("stepfold --store new.db verify --all")
        return session.text()


def store_forged() -> str:
    """load returns only the run its id names: a row swapped under a genuine id is refused, never returned."""
    with _session() as session:
        session.copy("examples/daily_state.json", "daily_state.json")
        session.write("forge.py", FORGE)
        out = session.sh(f"stepfold run {DAILY} {APPROVE} | tail -1")
        session.remember("genuine", out)
        out = session.sh(f"stepfold run {DAILY} --input 'daily-confirm-priorities={{\"approved\": false}}' | tail -1")
        session.remember("other", out)
        session.sh("cat forge.py")
        session.sh("python forge.py {{genuine_full}} {{other_full}}")
        session.sh("stepfold show {{genuine}}")
        session.sh("stepfold verify {{genuine}}")
        session.sh("stepfold verify --all")
        return session.text()


# Testing ------------------------------------------------------------------------------


def _pytest(test_file: str, *others: str) -> str:
    """`pytest -q -s` on an example test file copied into a scratch folder with the files it imports."""
    with tempfile.TemporaryDirectory(prefix="stepfold-docs-") as scratch:
        for name in (test_file, *others):
            shutil.copy(ROOT / name, Path(scratch) / Path(name).name)
        out = _run(
            [
                sys.executable,
                "-m",
                "pytest",
                "-q",
                "-s",
                "-p",
                "no:cacheprovider",
                "--hypothesis-seed=0",
                Path(test_file).name,
            ],
            Path(scratch),
        )
        # pytest names a file near the scratch folder by a relative path (`../checkout/src/...`), others in full.
        nearby = os.path.relpath(ROOT, scratch)
    # Frames inside stepfold and its dependencies, shown relative to the repository rather than this machine.
    return f"$ pytest -q -s {Path(test_file).name}\n" + out.replace(f"{ROOT}/", "").replace(f"{nearby}/", "")


def _failure(run: str, test: str) -> str:
    """One test's failure report out of pytest's output."""
    start = re.search(rf"^_+ {test} _+$", run, re.M)
    if start is None:
        raise RuntimeError(f"make_docs: no failure of {test} in:\n{run}")
    stop = re.compile(r"^(_+ test_\w+ _+|=+ short test summary info =+)$", re.M).search(run, start.end())
    return run[start.start() : stop.start() if stop else len(run)].strip("\n") + "\n"


def _invoice_run() -> str:
    return _cached("pytest-invoice", lambda: _pytest("examples/user_tests/test_invoice.py"))


def _payments_run() -> str:
    return _cached(
        "pytest-payments", lambda: _pytest("examples/user_tests/test_payments.py", "examples/payments_mission.py")
    )


def _outline(run: str) -> str:
    """pytest's first lines (the dots and what the tests printed) and its short summary, without the failures."""
    lines = run.splitlines(keepends=True)
    failures = next(i for i, line in enumerate(lines) if re.fullmatch(r"=+ FAILURES =+\n", line))
    summary = next(i for i, line in enumerate(lines) if re.fullmatch(r"=+ short test summary info =+\n", line))
    return "".join(lines[:failures] + lines[summary:])


def testing_invoice_source() -> str:
    """examples/user_tests/test_invoice.py, whole."""
    return _source("examples/user_tests/test_invoice.py")


def testing_invoice_run() -> str:
    """The dots and the summary of pytest on test_invoice.py."""
    return _outline(_invoice_run())


def testing_payments_source() -> str:
    """examples/user_tests/test_payments.py, whole."""
    return _source("examples/user_tests/test_payments.py")


def testing_payments_run() -> str:
    """The dots and the summary of pytest on test_payments.py."""
    return _outline(_payments_run())


def _bug(run: Callable[[], str], test: str) -> Callable[[], str]:
    def producer() -> str:
        return _failure(run(), test)

    producer.__doc__ = f"pytest's report of {test}."
    return producer


PRODUCERS: dict[str, tuple[Callable[[], str], re.Pattern[str] | None]] = {
    "make-run-daily": (make_run_daily, None),
    "make-run-effects": (make_run_effects, None),
    "make-run-tests": (make_run_tests, RUN_DIGESTS),
    "custom-mission-source": (custom_mission_source, None),
    "custom-mission": (custom_mission, None),
    "policy-source": (policy_source, None),
    "policy-run": (policy_run, None),
    "run-many-source": (run_many_source, None),
    "run-many": (run_many_output, None),
    "batch": (batch, RUN_DIGESTS),  # line 5's run records how long its tests took
    "batch-input": (batch_input, None),
    "batch-json": (batch_json, None),
    "effects-python-source": (effects_python_source, None),
    "effects-python": (effects_python, None),
    "notes-builder": (notes_builder, None),
    "notes-summarise": (notes_summarise, None),
    "no-effects": (no_effects, None),
    "payments-handler": (payments_handler, None),
    "payments-retry": (payments_retry, None),
    "payments-crash": (payments_crash, None),
    "audit-file": (audit_file, None),
    "audit-key": (audit_key, KEY_FINGERPRINTS),
    "auditor": (auditor, KEY_FINGERPRINTS),
    "verify-all": (verify_all, None),
    "resume-once": (resume_once, None),
    "fork": (fork_run, None),
    "store-files": (store_files, None),
    "store-forged": (store_forged, None),
    "testing-invoice-source": (testing_invoice_source, None),
    "testing-invoice-run": (testing_invoice_run, PYTEST_TIME),
    "testing-bug-apply-discount": (_bug(_invoice_run, "test_apply_discount_keeps_the_laws"), LIBRARY_LINES),
    "testing-bug-number-invoice": (_bug(_invoice_run, "test_number_invoice_keeps_the_laws"), LIBRARY_LINES),
    "testing-bug-itemised": (_bug(_invoice_run, "test_itemised_keeps_the_laws"), LIBRARY_LINES),
    "testing-bug-charge": (_bug(_invoice_run, "test_charge_keeps_the_laws"), LIBRARY_LINES),
    "testing-payments-source": (testing_payments_source, None),
    "testing-payments-run": (testing_payments_run, PYTEST_TIME),
    "testing-bug-trusting": (_bug(_payments_run, "test_a_mission_that_trusts_the_api_keeps_the_laws"), LIBRARY_LINES),
    "testing-bug-verbose": (
        _bug(_payments_run, "test_a_mission_with_the_answer_in_its_message_keeps_the_laws"),
        LIBRARY_LINES,
    ),
}
"""Every producer by block name, with the pattern of what its output cannot repeat (None: it repeats to the letter)."""


def _masked(text: str, mask: re.Pattern[str] | None) -> str:
    return text if mask is None else mask.sub("…", text)


def blocks(path: Path) -> list[tuple[str, str]]:
    """The (name, body) of every block of real output in a Markdown file."""
    if not path.exists():
        return []
    return [(m.group("name"), m.group("body")) for m in BLOCK.finditer(path.read_text(encoding="utf-8"))]


def regenerate(path: Path, outputs: dict[str, str]) -> str:
    """The file's text with the body of every block named in `outputs` replaced by its producer's output.

    A block whose output differs from the fresh one only in what its producer cannot repeat is left as it is,
    so that `make docs` changes nothing that did not change.
    """

    def fill(match: re.Match[str]) -> str:
        name, body = match.group("name"), match.group("body")
        if name not in outputs:
            return match.group(0)
        mask = PRODUCERS[name][1]
        if mask is not None and _masked(body, mask) == _masked(outputs[name], mask):
            return match.group(0)
        return match.group(1) + outputs[name] + match.group(4)

    return BLOCK.sub(fill, path.read_text(encoding="utf-8"))


def drift(outputs: dict[str, str]) -> list[str]:
    """Each block named in `outputs` that differs from its fresh output, as `FILE: block NAME ...`."""
    found = []
    for path in DOCUMENTS:
        for name, body in blocks(path):
            mask = PRODUCERS[name][1]
            if name in outputs and _masked(body, mask) != _masked(outputs[name], mask):
                found.append(f"{path.relative_to(ROOT)}: block {name!r} differs from a fresh run:")
                lines = difflib.unified_diff(
                    body.splitlines(), outputs[name].splitlines(), "in the file", "fresh", n=1, lineterm=""
                )
                found.extend(f"    {line}" for line in lines)
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 naming each block that drifted")
    parser.add_argument("--only", action="append", metavar="NAME", help="only the blocks of this name (repeatable)")
    args = parser.parse_args(argv)
    names = {name for path in DOCUMENTS for name, _ in blocks(path)}
    unknown = names - set(PRODUCERS)
    if unknown:
        print(f"make_docs: no producer for blocks {sorted(unknown)}", file=sys.stderr)
        return 2
    if args.only:
        names &= set(args.only)
    outputs = {name: PRODUCERS[name][0]() for name in sorted(names)}
    if args.check:
        problems = drift(outputs)
        for problem in problems:
            print(problem, file=sys.stderr)
        return 1 if problems else 0
    for path in DOCUMENTS:
        if not path.exists():
            continue
        text = regenerate(path, outputs)
        if text != path.read_text(encoding="utf-8"):
            path.write_text(text, encoding="utf-8")
            print(f"rewrote {path.relative_to(ROOT)}")
    if not args.only:
        subprocess.run([sys.executable, "-m", "tests.bad_input_catalogue"], cwd=ROOT, check=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
