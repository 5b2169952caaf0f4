"""Batch benchmark: throughput of `run_many` on daily_loop calls, in-process, over a process pool and on a local Dask cluster.

Run from the repository root (`make bench`)::

    .venv/bin/python bench/bench_many.py            # full run
    .venv/bin/python bench/bench_many.py --quick    # smoke run
    .venv/bin/python bench/bench_many.py --json bench/results/many.json   # also write the figures

What it measures, in one run, side by side: wall-clock time of
`run_many(calls, executor, chunksize=...)` for N distinct daily_loop calls
(the example state, one date per call, the approval given, so every call
completes all 4 steps), from the first submit to the last result rebuilt and
checked in this process (`stepfold.transfer.unpack`), and the CPU this
process spent meanwhile, per result. Pools and the cluster
are started and warmed up before timing (their start-up is reported
apart). Each figure is the median of the repetitions, as calls per second.
Every executor's `to_dict()` documents are checked equal to the in-process
ones, outside the timed region.

The Dask rows need `pip install 'stepfold[dask]'`; without it they say so.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import datetime
import importlib
import json
import os
import pickle
import platform
import statistics
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Final

import attrs

if __package__ in (None, ""):  # run as a script: make the `bench` package importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.measure import load_average, package_versions  # noqa: E402
from stepfold import OrchestrationResult  # noqa: E402
from stepfold.batch import run_many  # noqa: E402
from stepfold.mission_call import MissionCall  # noqa: E402
from stepfold.policy import TIER2_POLICY  # noqa: E402
from stepfold.transfer import loads  # noqa: E402
from stepfold.worker import read_outcome, task_of, work  # noqa: E402

ROOT: Final = Path(__file__).resolve().parent.parent
DAILY_STATE: Final = json.loads((ROOT / "examples" / "daily_state.json").read_text(encoding="utf-8"))
APPROVE: Final = {"daily-confirm-priorities": {"approved": True}}


@attrs.frozen
class Config:
    """How many calls, how many timed repetitions, how many workers."""

    calls: int
    repetitions: int
    workers: int


FULL: Final = Config(calls=1000, repetitions=3, workers=2)
QUICK: Final = Config(calls=200, repetitions=1, workers=2)


@attrs.frozen
class Row:
    """One executor setting: its label, chunk size, start-up seconds and timed seconds per repetition."""

    label: str
    chunksize: int
    startup_s: float
    seconds: tuple[float, ...]
    calls: int
    note: str = ""
    caller_cpu_s: tuple[float, ...] = ()
    """CPU seconds this process (the caller) spent per repetition, all its threads."""

    @property
    def caller_us_per_result(self) -> float:
        """The caller's CPU per result, in microseconds, at the median repetition."""
        return statistics.median(self.caller_cpu_s) / self.calls * 1e6 if self.caller_cpu_s else 0.0

    @property
    def calls_per_second(self) -> float:
        """Calls per second at the median repetition."""
        return self.calls / statistics.median(self.seconds) if self.seconds else 0.0

    def to_dict(self) -> dict[str, object]:
        """Plain JSON data."""
        return {
            "label": self.label,
            "chunksize": self.chunksize,
            "startup_s": round(self.startup_s, 4),
            "seconds": [round(s, 4) for s in self.seconds],
            "calls_per_second": round(self.calls_per_second, 1),
            "caller_cpu_s": [round(s, 4) for s in self.caller_cpu_s],
            "caller_us_per_result": round(self.caller_us_per_result, 1),
            "note": self.note,
        }


def make_calls(count: int) -> list[MissionCall]:
    """`count` distinct daily_loop calls: one date each, the approval given."""
    start = datetime.date(2026, 1, 1)
    return [
        MissionCall("daily_loop", {"date": (start + datetime.timedelta(days=i)).isoformat()}, DAILY_STATE, APPROVE)
        for i in range(count)
    ]


def documents(results: Sequence[OrchestrationResult]) -> list[dict[str, object]]:
    return [result.to_dict() for result in results]


def measure(
    label: str,
    executor: concurrent.futures.Executor | None,
    calls: Sequence[MissionCall],
    chunksize: int,
    config: Config,
    startup_s: float,
    expected: list[dict[str, object]] | None,
) -> Row:
    """Warm up, then time `run_many` `config.repetitions` times; check the documents against `expected`."""
    run_many(
        calls[: max(chunksize, 2 * config.workers)], executor, chunksize=chunksize
    )  # warm-up: imports, connections
    seconds = []
    cpu = []
    results: list[OrchestrationResult] = []
    for _ in range(config.repetitions):
        began, used = time.perf_counter(), time.process_time()
        results = run_many(calls, executor, chunksize=chunksize)
        seconds.append(time.perf_counter() - began)
        cpu.append(time.process_time() - used)
    if expected is not None:
        assert documents(results) == expected, f"{label}: results differ from the in-process ones"
    return Row(label, chunksize, startup_s, tuple(seconds), len(calls), caller_cpu_s=tuple(cpu))


@contextmanager
def process_pool(workers: int) -> Iterator[tuple[concurrent.futures.Executor, float]]:
    began = time.perf_counter()
    with concurrent.futures.ProcessPoolExecutor(workers) as pool:
        list(pool.map(abs, range(workers * 2)))  # start every worker
        yield pool, time.perf_counter() - began


def import_distributed() -> ModuleType | None:
    """The `distributed` module, or None when Dask is not installed."""
    try:
        return importlib.import_module("distributed")
    except ImportError:
        return None


@contextmanager
def dask_cluster(distributed: ModuleType, workers: int) -> Iterator[tuple[concurrent.futures.Executor, float]]:
    began = time.perf_counter()
    cluster = distributed.LocalCluster(
        n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=40
    )
    client = distributed.Client(cluster)
    try:
        executor: concurrent.futures.Executor = client.get_executor(pure=False)
        yield executor, time.perf_counter() - began
    finally:
        client.close()
        cluster.close()


def parent_rebuild_rate(calls: Sequence[MissionCall]) -> float:
    """Results per second this process rebuilds and checks from workers' answers (unpickled, then unpacked).

    The ceiling of any out-of-process executor, whatever its size: every
    result crosses back packed and is rebuilt and checked by its head here.
    """
    sample = calls[:200]
    chains = [(call.state, (call,)) for call in sample]
    answer = pickle.dumps(work(task_of(chains, TIER2_POLICY)), protocol=pickle.HIGHEST_PROTOCOL)
    began = time.perf_counter()
    outcomes = loads(pickle.loads(answer))
    assert isinstance(outcomes, list)
    for outcome, chain in zip(outcomes, chains):
        read_outcome(outcome, chain, TIER2_POLICY)
    return len(sample) / (time.perf_counter() - began)


def environment() -> dict[str, object]:
    versions = package_versions(("stepfold", "dask", "distributed"))
    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "packages": versions,
        "load_average": load_average(),
    }


def render(rows: Sequence[Row], env: dict[str, object], config: Config, mode: str, rebuild: float) -> str:
    base = rows[0].calls_per_second
    lines = [
        "stepfold batch benchmark: run_many on daily_loop calls (4 steps, 1 human input given)",
        f"Python {env['python']} on {env['platform']} [{env['cpus']} CPUs]; {env['packages']}",
        f"mode: {mode}; {config.calls} calls, {config.workers} workers, median of {config.repetitions} repetition(s); "
        "start-up not timed",
        f"load average (1, 5, 15 min) at start {env['load_average']}, at end {load_average()} (other processes add noise)",
        "",
        f"{'executor':<34} {'chunk':>5} {'calls/s':>9} {'vs here':>8} {'median':>9} {'caller/res':>10} "
        f"{'start-up':>9}  note",
        "-" * 96,
    ]
    for row in rows:
        if not row.seconds:
            lines.append(f"{row.label:<34} {'-':>5} {'-':>9} {'-':>8} {'-':>9} {'-':>9}  {row.note}")
            continue
        lines.append(
            f"{row.label:<34} {row.chunksize:>5} {row.calls_per_second:>9,.0f} {row.calls_per_second / base:>7.2f}x "
            f"{statistics.median(row.seconds):>8.3f}s {row.caller_us_per_result:>8.0f}us "
            f"{row.startup_s:>8.2f}s  {row.note}".rstrip()
        )
    run_us = 1e6 / base
    lines += [
        "",
        f"a run in-process: {run_us:,.0f} us per call (caller/res is the caller's CPU per result, all its threads:",
        "for in-process rows that is the run itself)",
        f"ceiling for any out-of-process executor: this process rebuilds and checks {rebuild:,.0f} results/s "
        f"({1e6 / rebuild:,.0f} us each, {1e6 / rebuild / run_us:.0%} of a run)",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="a smoke run: fewer calls, one repetition")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the figures as JSON")
    args = parser.parse_args(argv)
    config = QUICK if args.quick else FULL
    log: Callable[[str], None] = lambda text: print(text, file=sys.stderr, flush=True)  # noqa: E731
    env = environment()
    calls = make_calls(config.calls)
    chunk = max(1, config.calls // (config.workers * 8))
    log("in-process ...")
    here = measure("in-process (executor=None)", None, calls, 1, config, 0.0, None)
    expected = documents(run_many(calls))
    rows = [here]
    with process_pool(config.workers) as (pool, startup):
        log("process pool ...")
        rows.append(measure(f"ProcessPoolExecutor({config.workers})", pool, calls, 1, config, startup, expected))
        rows.append(measure(f"ProcessPoolExecutor({config.workers})", pool, calls, chunk, config, startup, expected))
    distributed = import_distributed()
    if distributed is None:
        rows.append(Row("Dask LocalCluster", 0, 0.0, (), config.calls, "not installed: pip install 'stepfold[dask]'"))
    else:
        with dask_cluster(distributed, config.workers) as (dask, startup):
            log("dask cluster ...")
            label = f"Dask LocalCluster({config.workers} procs)"
            rows.append(measure(label, dask, calls, 1, config, startup, expected))
            rows.append(measure(label, dask, calls, chunk, config, startup, expected))
    rebuild = parent_rebuild_rate(calls)
    print(render(rows, env, config, "quick" if args.quick else "full", rebuild))
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        document = {
            "environment": env,
            "config": attrs.asdict(config),
            "rows": [row.to_dict() for row in rows],
            "parent_rebuild_per_second": round(rebuild, 1),
        }
        args.json.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
