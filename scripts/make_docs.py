"""`make docs`: regenerate every block of real output in README.md and docs/ by running what it shows.

A block of real output sits between two markers in a Markdown file::

    <!-- begin output: NAME -->
    ```text
    ...what the producer NAME printed...
    ```
    <!-- end output -->

`python scripts/make_docs.py` runs each producer and writes its output into
every block of that name; `--check` writes nothing and exits 1 naming each
block whose text differs from a fresh run (tests/test_docs.py runs it).
Producers whose output holds what a real run cannot repeat (the durations
a test run records, and so the ids of runs that record them; signatures made
with a fresh key) are compared with those parts masked; everything else must
match to the letter. `docs/bad-inputs.md` has its own generator, run too.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
STEPFOLD = BIN / "stepfold"
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(
    r"(<!-- begin output: (?P<name>[a-z0-9-]+) -->\n```[a-z]*\n)(?P<body>.*?)(```\n<!-- end output -->)", re.S
)
VOLATILE = re.compile(r"\b[0-9a-f]{64}\b|\b[0-9a-f]{12}\b|\b[0-9a-f]{16}…|\d+\.\d+ ?s\b|\"duration_s\": ?[0-9.]+")


def _run(argv: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    """What a command printed (stdout and stderr, in order), with its exit code when not 0."""
    done = subprocess.run(
        argv,
        cwd=cwd,
        capture_output=True,
        text=True,
        encoding="utf-8",
        check=False,
        timeout=600,
        env={**os.environ, "COLUMNS": "100", **(env or {})},
    )
    out = done.stdout + done.stderr
    return out if out.endswith("\n") or not out else out + "\n"


def _make_run() -> str:
    return _run(["sh", "examples/run_all.sh", str(STEPFOLD)], ROOT)


def _section(text: str, start: str, stop: str | None) -> str:
    begin = text.index(start)
    end = text.index(stop, begin) if stop is not None else len(text)
    return text[begin:end].strip("\n") + "\n"


_cache: dict[str, str] = {}


def _cached(name: str, make: Callable[[], str]) -> str:
    if name not in _cache:
        _cache[name] = make()
    return _cache[name]


def make_run_daily() -> str:
    """`make run`, part 1: the daily loop."""
    return _section(_cached("make-run", _make_run), "# 1.", "\n# 2.")


def make_run_effects() -> str:
    """`make run`, part 2: a mission of your own with effects."""
    return _section(_cached("make-run", _make_run), "# 2.", "\n# 3.")


def make_run_tests() -> str:
    """`make run`, part 3: run_tests on the sample projects (records durations: volatile)."""
    return _section(_cached("make-run", _make_run), "# 3.", None)


def custom_mission() -> str:
    """examples/custom_mission.py, run."""
    return "$ .venv/bin/python examples/custom_mission.py\n" + _run(
        [sys.executable, "examples/custom_mission.py"], ROOT
    )


def _in_scratch(commands: list[tuple[str, list[str]]], files: dict[str, str] | None = None) -> str:
    """Run `stepfold` commands in a fresh folder; each shown as `$ stepfold ...` then its output and exit code."""
    with tempfile.TemporaryDirectory(prefix="stepfold-docs-") as scratch:
        folder = Path(scratch)
        for name, text in (files or {}).items():
            (folder / name).write_text(text, encoding="utf-8")
        shown = []
        for label, argv in commands:
            done = subprocess.run(
                [str(STEPFOLD), *argv],
                cwd=folder,
                capture_output=True,
                text=True,
                encoding="utf-8",
                check=False,
                timeout=600,
            )
            shown.append(f"$ stepfold {label}\n{done.stdout}{done.stderr}(exit {done.returncode})\n")
        return "\n".join(shown)


def batch() -> str:
    """`stepfold batch` on examples/calls.jsonl."""
    calls = (ROOT / "examples" / "calls.jsonl").read_text(encoding="utf-8")
    return _in_scratch(
        [("batch calls.jsonl --workers 2", ["batch", "calls.jsonl", "--workers", "2"])], {"calls.jsonl": calls}
    )


def batch_input() -> str:
    """examples/calls.jsonl, as it is."""
    return "$ cat calls.jsonl\n" + (ROOT / "examples" / "calls.jsonl").read_text(encoding="utf-8")


PRODUCERS: dict[str, tuple[Callable[[], str], bool]] = {
    "make-run-daily": (make_run_daily, False),
    "make-run-effects": (make_run_effects, False),
    "make-run-tests": (make_run_tests, True),
    "custom-mission": (custom_mission, False),
    "batch": (batch, False),
    "batch-input": (batch_input, False),
}
"""Every producer by block name, and whether its output holds what a real run cannot repeat."""


def _masked(text: str) -> str:
    return VOLATILE.sub("…", text)


def blocks(path: Path) -> list[tuple[str, str]]:
    """The (name, body) of every block of real output in a Markdown file."""
    return [(m.group("name"), m.group("body")) for m in BLOCK.finditer(path.read_text(encoding="utf-8"))]


def regenerate(path: Path, outputs: dict[str, str]) -> str:
    """The file's text with every block's body replaced by its producer's output."""

    def fill(match: re.Match[str]) -> str:
        return match.group(1) + outputs[match.group("name")] + match.group(4)

    return BLOCK.sub(fill, path.read_text(encoding="utf-8"))


def drift(outputs: dict[str, str]) -> list[str]:
    """Each block that differs from a fresh run, as `FILE: block NAME`."""
    found = []
    for path in DOCUMENTS:
        for name, body in blocks(path):
            fresh = outputs[name]
            volatile = PRODUCERS[name][1]
            if (_masked(body) != _masked(fresh)) if volatile else (body != fresh):
                found.append(f"{path.relative_to(ROOT)}: block {name!r} differs from a fresh run")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 naming each block that drifted")
    args = parser.parse_args(argv)
    names = {name for path in DOCUMENTS for name, _ in blocks(path)}
    unknown = names - set(PRODUCERS)
    if unknown:
        print(f"make_docs: no producer for blocks {sorted(unknown)}", file=sys.stderr)
        return 2
    outputs = {name: PRODUCERS[name][0]() for name in sorted(names)}
    if args.check:
        problems = drift(outputs)
        for problem in problems:
            print(problem, file=sys.stderr)
        return 1 if problems else 0
    for path in DOCUMENTS:
        text = regenerate(path, outputs)
        if text != path.read_text(encoding="utf-8"):
            path.write_text(text, encoding="utf-8")
            print(f"rewrote {path.relative_to(ROOT)}")
    subprocess.run([sys.executable, "-m", "tests.bad_input_catalogue"], cwd=ROOT, check=True)
    shutil.rmtree(ROOT / ".stepfold-demo", ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
