"""Process pools that behave like one program: `process_pool(n)`, whose workers never outlive their parent.

A `concurrent.futures.ProcessPoolExecutor`'s workers are ordinary
processes: Ctrl-C reaches each of them (each prints its own traceback), and
when the parent is killed (`kill -9`, an OOM kill, a closed CI job) they
stay, holding their memory, until something reaps them. The workers of
`process_pool` instead

- ignore Ctrl-C (SIGINT): the parent decides what an interrupt means
  (`stepfold batch` prints what completed and exits 130), and shuts the
  pool down;
- exit when their parent dies: on Linux the kernel sends them SIGTERM
  (`PR_SET_PDEATHSIG`); elsewhere a watcher thread in each worker notices
  within a second that its parent is gone and exits it.

`stepfold batch --workers N` runs on such a pool; pass one to `run_many`
or `run_suite` to get the same behaviour from your own code.
"""

from __future__ import annotations

import concurrent.futures
import os
import signal
import sys
import threading
import time

__all__ = ["process_pool", "watch_parent", "PARENT_POLL_SECONDS"]

PARENT_POLL_SECONDS = 0.5
"""How often a worker without `PR_SET_PDEATHSIG` checks that its parent is still there."""

_PR_SET_PDEATHSIG = 1


def _die_with_parent_linux() -> bool:
    """Ask the kernel to send SIGTERM to this process when its parent dies; False when it cannot."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return bool(libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) == 0)
    except (OSError, AttributeError):
        return False


def _watch(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(PARENT_POLL_SECONDS)
    os._exit(1)  # the parent is gone: nobody will read what this worker makes


def watch_parent(parent: int) -> None:
    """A pool worker's initializer: ignore Ctrl-C, and exit when the process `parent` is no longer this one's parent.

    When the parent died before this call (its id is already not our parent's), exit at once.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if os.getppid() != parent:
        os._exit(1)
    if _die_with_parent_linux() and os.getppid() == parent:  # checked again: it may have died in between
        return
    threading.Thread(target=_watch, args=(parent,), name="stepfold-parent-watch", daemon=True).start()


def process_pool(workers: int) -> concurrent.futures.ProcessPoolExecutor:
    """A process pool of `workers` processes that ignore Ctrl-C and exit when this process dies."""
    return concurrent.futures.ProcessPoolExecutor(workers, initializer=watch_parent, initargs=(os.getpid(),))
