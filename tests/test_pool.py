"""`stepfold.pool`: workers that ignore Ctrl-C and never outlive their parent."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from stepfold.pool import process_pool
from tests.helpers import SCRIPT

linux_only = pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="reads children from /proc")


def _children(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text()
        found |= {int(child) for child in text.split()}
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"  # a zombie has exited: only its parent's reaping is left


def _wait_gone(pids: set[int], limit: float = 30.0) -> set[int]:
    """The pids still alive after waiting up to `limit` seconds for them to exit (a bound, not a measurement)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        alive = {pid for pid in pids if _alive(pid)}
        if not alive:
            return alive
        time.sleep(0.05)
    return {pid for pid in pids if _alive(pid)}


def test_a_workers_answers_are_its_own() -> None:
    with process_pool(2) as pool:
        assert sorted(pool.map(abs, [-1, -2, 3])) == [1, 2, 3]


def test_workers_ignore_ctrl_c() -> None:
    with process_pool(1) as pool:
        assert pool.submit(signal.getsignal, signal.SIGINT).result() == signal.SIG_IGN


@linux_only
def test_batch_workers_exit_when_the_batch_is_killed(tmp_path: Path) -> None:
    (tmp_path / "calls.jsonl").write_text('{"mission": "echo"}\n' * 20_000, encoding="utf-8")
    proc = subprocess.Popen(
        [str(SCRIPT), "batch", "calls.jsonl", "--workers", "2"], cwd=tmp_path, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    for _ in range(10):  # rows are coming: the workers are up
        proc.stdout.readline()
    workers = _children(proc.pid)
    assert len(workers) >= 2
    proc.kill()  # kill -9: no chance to shut the pool down
    proc.wait()
    assert _wait_gone(workers) == set()


@linux_only
def test_without_the_kernels_help_a_watcher_ends_an_orphaned_worker(tmp_path: Path) -> None:
    script = textwrap.dedent(
        """
        import concurrent.futures, multiprocessing, os, sys, time
        import stepfold.pool as pool
        pool._die_with_parent_linux = lambda: False  # as on a system without PR_SET_PDEATHSIG
        executor = concurrent.futures.ProcessPoolExecutor(
            1, mp_context=multiprocessing.get_context("fork"), initializer=pool.watch_parent, initargs=(os.getpid(),)
        )
        print(executor.submit(os.getpid).result(), flush=True)
        time.sleep(600)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=tmp_path, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    worker = int(proc.stdout.readline())
    assert _alive(worker)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert _wait_gone({worker}) == set()
