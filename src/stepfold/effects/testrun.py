"""The built-in effects of the `run_tests` mission: `tests.discover` and `tests.run`.

`tests.discover` lists the files under `paths` whose names match `pattern`,
sorted, relative to the working directory. `tests.run` runs the `runner`
argv (`python` meaning this interpreter) plus those files as a subprocess in
the working directory, killing its whole process group past `timeout_s`;
for a pytest runner it asks for a JUnit XML report and records the
passed/failed/errors/skipped counts from it (null for other runners), with
the exit code, the duration and the output's last 50 lines capped at 8 KiB.
"""

from __future__ import annotations

import fnmatch
import os
import signal
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ElementTree
from pathlib import Path

from pyrsistent import PMap, PVector

from stepfold.effect import EffectCall
from stepfold.errors import OperationError
from stepfold.operations.base import describe

__all__ = ["discover_tests", "run_tests", "TAIL_LINES", "TAIL_BYTES", "DEFAULT_TIMEOUT_S"]

TAIL_LINES = 50
"""How many of the runner's last output lines `tests.run` records."""

TAIL_BYTES = 8 * 1024
"""The most bytes of output `tests.run` records (the end of the last `TAIL_LINES` lines)."""

DEFAULT_TIMEOUT_S = 900
"""Seconds a test run may take when the payload does not say."""

_SKIPPED_DIRS = frozenset({"__pycache__", "node_modules"})


def _strings(call: EffectCall, name: str) -> list[str]:
    value = call.arguments.get(name)
    if not isinstance(value, PVector) or not all(isinstance(item, str) for item in value):
        raise OperationError(f"payload {name!r} must be a list of strings, got {describe(value)}")
    return [str(item) for item in value]


def discover_tests(call: EffectCall) -> list[str]:
    """The files under `arguments.paths` matching `arguments.pattern`, sorted, as POSIX paths relative to the working directory."""
    pattern = call.arguments.get("pattern")
    if not isinstance(pattern, str):
        raise OperationError(f"payload 'pattern' must be a string, got {describe(pattern)}")
    here = Path.cwd()
    found: set[str] = set()
    for index, name in enumerate(_strings(call, "paths")):
        root = here / name
        if root.is_file():
            found.add(_relative(root, here))
        elif root.is_dir():
            for folder, dirs, files in os.walk(root):
                dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in _SKIPPED_DIRS)
                found.update(_relative(Path(folder, f), here) for f in files if fnmatch.fnmatchcase(f, pattern))
        else:
            raise FileNotFoundError(f"paths[{index}] {name!r} does not exist in {here}")
    return sorted(found)


def _relative(path: Path, here: Path) -> str:
    return Path(os.path.relpath(path, here)).as_posix()


def _files(call: EffectCall) -> list[str]:
    tests = call.state.get("tests")
    files = tests.get("files") if isinstance(tests, PMap) else None
    if not isinstance(files, PVector) or not all(isinstance(f, str) for f in files):
        raise OperationError("state.tests.files: missing; tests-discover records the files to run first")
    return [str(f) for f in files]


def _is_pytest(argv: list[str]) -> bool:
    return any(Path(arg).name in ("pytest", "py.test") for arg in argv[:3]) or "pytest" in argv[1:3]


def run_tests(call: EffectCall) -> dict[str, object]:
    """Run the runner on the discovered files; what happened, as `{"command", "exit_code", "passed", ...}`."""
    runner = _strings(call, "runner")
    if not runner:
        raise OperationError("payload 'runner' must name a command, got an empty list")
    timeout = call.arguments.get("timeout_s", DEFAULT_TIMEOUT_S)
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
        raise OperationError(f"payload 'timeout_s' must be a number of seconds > 0, got {describe(timeout)}")
    files = _files(call)
    if not files:
        raise FileNotFoundError("no test files to run: tests-discover found none")
    argv = [sys.executable if runner[0] == "python" else runner[0], *runner[1:]]
    with tempfile.TemporaryDirectory(prefix="stepfold-tests-") as scratch:
        junit = Path(scratch, "junit.xml")
        extra = [f"--junitxml={junit}"] if _is_pytest(runner) else []
        output = Path(scratch, "output.txt")
        started = time.monotonic()
        with output.open("wb") as sink:
            process = subprocess.Popen(
                [*argv, *extra, *files],
                stdout=sink,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
            try:
                exit_code = process.wait(timeout=float(timeout))
            except subprocess.TimeoutExpired:
                _kill_group(process)
                raise TimeoutError(f"the test run took longer than {timeout:g} s; its processes were killed") from None
            except BaseException:  # Ctrl-C, or the process dying: never leave the run's processes behind
                _kill_group(process)
                raise
        duration = round(time.monotonic() - started, 3)
        counts = _junit_counts(junit) if extra else dict.fromkeys(("passed", "failed", "errors", "skipped"))
        return {
            "command": [*runner, *files],
            "exit_code": exit_code,
            **counts,
            "duration_s": duration,
            "output_tail": _tail(output),
        }


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    process.wait()


def _junit_counts(path: Path) -> dict[str, object]:
    """passed/failed/errors/skipped summed over the report's test suites; all null when there is no readable report."""
    try:
        root = ElementTree.parse(path).getroot()
    except (OSError, ElementTree.ParseError):
        return dict.fromkeys(("passed", "failed", "errors", "skipped"))
    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
    total = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for suite in suites:
        for name in total:
            try:
                total[name] += int(suite.get(name, "0"))
            except ValueError:
                pass
    failed, errors, skipped = total["failures"], total["errors"], total["skipped"]
    return {
        "passed": total["tests"] - failed - errors - skipped,
        "failed": failed,
        "errors": errors,
        "skipped": skipped,
    }


def _tail(path: Path) -> str:
    with path.open("rb") as handle:
        handle.seek(0, os.SEEK_END)
        size = handle.tell()
        handle.seek(max(0, size - 4 * TAIL_BYTES))
        data = handle.read()
    lines = data.decode("utf-8", errors="replace").splitlines()[-TAIL_LINES:]
    text = "\n".join(lines)
    encoded = text.encode("utf-8")
    if len(encoded) > TAIL_BYTES:
        text = encoded[-TAIL_BYTES:].decode("utf-8", errors="ignore")
    return text
