"""Peer benchmark: stepfold against Apache Burr and LangGraph, side by side in one run, with plots.

Run from the repository root (`make bench-peers` installs the `[bench]` extra first)::

    .venv/bin/python -m bench.peers            # full run (~10-12 min on 2 cores, most of it Burr's long run)
    .venv/bin/python -m bench.peers --quick    # smoke run (~1.5 min), writes peers-quick* files (not committed)

The same work for every system (`bench/peers/common.py`): a 4-step run
(`set` one record, `increment` a counter, `merge` three keys, `append` to a
log) over a state of S records, S in {10, 1k, 10k, 100k}, each run writing
different values, every intermediate state kept the way the system keeps
history (stepfold: the lineage; Burr: a state persister; LangGraph: its
checkpointer). How each system is used, and why, is in its module's
docstring (`bench/peers/stepfold_side.py`, `bench/peers/burr_side.py`,
`bench/peers/langgraph_side.py`).

Measured, in this order:

1. Capabilities, each backed by what this run did: history read back through
   each system's API, a tamper test against each system's store, and each
   system's replay mechanism.
2. Per-run time at each S: runs interleaved round-robin across the systems
   (the order rotates every round), warm-up runs excluded, median, min and
   max; once with the garbage collector off inside each timed call (as
   `timeit` does) and once with it on. Every system's result is
   cross-checked against stepfold's (same final values, history kept)
   before anything is timed.
3. Peak memory of one run at each S, in a separate pass under `tracemalloc`
   (never timed): peak traced bytes above the baseline during the run, and
   the bytes still held afterwards (the run's history) after `gc.collect()`;
   and the starting state's own memory (stepfold's `State`, the plain dicts).
4. stepfold's one-time "ingest" at each S: its `State` built from the plain
   records (freeze + digest). The timed runs start from a `State` already
   held, as a program that keeps its state between runs does; the peers take
   the plain dict by reference, so they have no such cost to report.
5. A long run over 100k records: 1,000 steps (250 cycles of the 4 steps) in
   one history for every system, retained bytes after `gc.collect()`.
6. Small-state throughput: the daily loop (`run_mission("daily_loop", ...)`
   against an equivalent 4-step app/graph for each peer), runs per second,
   collector on.
7. Where the time goes at 10k records: cProfile over all threads.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import threading
import time
import tracemalloc
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Final

import attrs

if __package__ in (None, ""):  # run as a script: make the `bench` package importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.measure import Goal, package_versions  # noqa: E402
from bench.peers import burr_side as peers_burr  # noqa: E402
from bench.peers import langgraph_side as peers_langgraph  # noqa: E402
from bench.peers import plot as peers_plot  # noqa: E402
from bench.peers.common import (  # noqa: E402
    Capability,
    RunSummary,
    Side,
    daily_expected,
    initial_extras,
    load_daily_state,
    make_records,
    plan_for,
    plans_for,
)
from bench.peers.stepfold_side import StepfoldSide, initial_state  # noqa: E402

RESULTS_DIR: Final = Path(__file__).resolve().parents[1] / "results"
SIZES: Final = (10, 1_000, 10_000, 100_000)
GOAL_SIZE: Final = 10_000
GOAL_SPEEDUP: Final = 10.0
"""stepfold per run at least this many times faster than each peer at GOAL_SIZE records."""
LONG_SIZE: Final = 100_000
LONG_STEPS: Final = 1_000
GOAL_LONG_RATIO: Final = 2.0
"""A 1,000-step lineage over LONG_SIZE records retains less than this many times the state itself."""
STEPS_PER_CYCLE: Final = 4
CAPABILITY_SIZE: Final = 1_000


@attrs.frozen
class Config:
    """Repetition counts and the long run's length; `--quick` shrinks them."""

    mode: str
    runs: Mapping[int, int]
    """Timed runs per system at each size."""
    warmup: Mapping[int, int]
    memory_runs: int
    ingest_runs: Mapping[int, int]
    """Timed constructions of stepfold's State from the plain records at each size."""
    long_cycles: int
    """Cycles (of 4 steps) in the long run, the same for every system (250 = LONG_STEPS)."""
    daily_runs: int
    daily_warmup: int
    profile_runs: int
    output: Path
    plot_prefix: str


FULL: Final = Config(
    mode="full",
    runs={10: 300, 1_000: 200, 10_000: 60, 100_000: 12},
    warmup={10: 20, 1_000: 10, 10_000: 5, 100_000: 2},
    memory_runs=3,
    ingest_runs={10: 50, 1_000: 20, 10_000: 5, 100_000: 3},
    long_cycles=LONG_STEPS // STEPS_PER_CYCLE,
    daily_runs=500,
    daily_warmup=30,
    profile_runs=20,
    output=RESULTS_DIR / "peers.json",
    plot_prefix="peers",
)
QUICK: Final = Config(
    mode="quick",
    runs={10: 20, 1_000: 15, 10_000: 6, 100_000: 2},
    warmup={10: 3, 1_000: 2, 10_000: 1, 100_000: 1},
    memory_runs=1,
    ingest_runs={10: 5, 1_000: 3, 10_000: 2, 100_000: 1},
    long_cycles=10,
    daily_runs=40,
    daily_warmup=5,
    profile_runs=1,
    output=RESULTS_DIR / "peers-quick.json",
    plot_prefix="peers-quick",
)

SETTINGS: Final[Mapping[str, str]] = {
    "stepfold": (
        "run_workflow(workflow, ctx) with the default policy and operations; the ExecutionContext (freeze + "
        "initial digest of the records) is built once per size and shared by all runs, as a run that starts "
        "from a State the program already holds (e.g. the last run's final_state); building that State from "
        "the plain records is timed separately ('ingest'). The run's workflow is built inside the timed call; "
        "the long run uses Policy(max_steps=1000). History = result.lineage."
    ),
    "burr": (
        "Function actions (action(reads=..., writes=...)) returning State.update/increment/append; graph built "
        "once with GraphBuilder; one Application per run (ApplicationBuilder().with_graph(...).with_state(...)"
        ".with_entrypoint(...).with_state_persister(InMemoryPersister()).with_identifiers(app_id=...)), "
        "app.run(halt_after=['append'], inputs=...). History = the state persister (the docs' way to write "
        "state after each action), in memory. Records in one state field (dict)."
    ),
    "langgraph": (
        "StateGraph(TypedDict) with reducers (Annotated[dict, merge] for the records, Annotated[list, "
        "operator.add] for the log), 4 nodes, compiled once with checkpointer=InMemorySaver(); "
        "graph.invoke(input, {'configurable': {'thread_id': ...}}) on a new thread per run, default "
        "durability ('async'); thread deleted after each timed run (untimed). Long run: one looping "
        "invocation with recursion_limit raised to 4 * cycles + 10."
    ),
}

Log = Callable[[str], None]


# Measurement ------------------------------------------------------------------------------------------------


@attrs.frozen
class Stats:
    """Summary of samples (nanoseconds or bytes)."""

    median: float
    min: float
    max: float
    n: int

    @classmethod
    def of(cls, samples: Sequence[float]) -> Stats:
        """Median, min and max of the samples."""
        return cls(float(statistics.median(samples)), float(min(samples)), float(max(samples)), len(samples))

    def to_dict(self, unit: str) -> dict[str, float | int]:
        """Plain JSON data with the unit in the key names."""
        return {f"median_{unit}": self.median, f"min_{unit}": self.min, f"max_{unit}": self.max, "n": self.n}


def timed(fn: Callable[[], object], *, collector: bool = False) -> tuple[int, object]:
    """Nanoseconds one call of `fn` takes, and what it returned; the collector is off unless `collector`."""
    enabled = gc.isenabled()
    if not collector:
        gc.disable()
    try:
        start = time.perf_counter_ns()
        handle = fn()
        elapsed = time.perf_counter_ns() - start
    finally:
        if enabled:
            gc.enable()
    return elapsed, handle


class GCTimer:
    """Total seconds spent in garbage collections while it is installed (a `gc.callbacks` hook)."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._start = 0.0

    def __call__(self, phase: str, info: Mapping[str, int]) -> None:
        if phase == "start":
            self._start = time.perf_counter()
        else:
            self.seconds += time.perf_counter() - self._start

    def __enter__(self) -> GCTimer:
        gc.callbacks.append(self)
        return self

    def __exit__(self, *exc: object) -> None:
        gc.callbacks.remove(self)


def traced(fn: Callable[[], object]) -> tuple[int, int, object]:
    """Peak bytes above the baseline during one call, bytes still held after `gc.collect()`, and its result.

    `tracemalloc` must be tracing.
    """
    gc.collect()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    handle = fn()
    peak = tracemalloc.get_traced_memory()[1]
    gc.collect()
    held = tracemalloc.get_traced_memory()[0]
    return peak - base, held - base, handle


@attrs.frozen
class SizeResult:
    """Everything measured at one state size."""

    size: int
    time: Mapping[str, Stats]
    time_gc: Mapping[str, Stats]
    """Per-run time with the garbage collector on (long-lived inputs frozen with `gc.freeze`)."""
    peak: Mapping[str, Stats]
    retained: Mapping[str, Stats]
    ingest: Stats
    """stepfold only: its State from the plain records (freeze + digest), paid once per new state, not per run."""
    state_bytes: Mapping[str, int]
    """The starting state itself, which the per-run memory leaves out: see `state_sizes`."""

    def ratio(self, measure: str, peer: str) -> float:
        """Peer's median over stepfold's for `measure` ("time", "time_gc", "peak" or "retained")."""
        values: Mapping[str, Stats] = getattr(self, measure)
        return values[peer].median / max(values["stepfold"].median, 1.0)

    def break_even_runs(self, peer: str) -> int | None:
        """Runs from one ingested State after which stepfold, ingest included, has been faster than `peer` (None: never)."""
        saved = self.time[peer].median - self.time["stepfold"].median
        return math.ceil(self.ingest.median / saved) if saved > 0 else None


@attrs.frozen
class LongResult:
    """The long run of one system: bytes its history retains after `steps` steps."""

    steps: int
    retained: int
    wall_s: float
    """Wall time of the run under tracemalloc, collector on (informational)."""
    gc_s: float
    """Of which in garbage collections."""

    @property
    def per_step(self) -> float:
        """Retained bytes per step."""
        return self.retained / self.steps

    @property
    def extrapolated(self) -> bool:
        """True when the run had fewer than LONG_STEPS steps (`--quick`)."""
        return self.steps != LONG_STEPS

    @property
    def at_long_steps(self) -> float:
        """Retained bytes for LONG_STEPS steps: measured, or (quick runs) per step times LONG_STEPS."""
        return float(self.retained) if not self.extrapolated else self.per_step * LONG_STEPS


@attrs.frozen
class Capabilities:
    """What one system showed, in this run, that it can do with its history."""

    states_kept: int
    counters_in_history: tuple[object, ...]
    tamper: Capability
    replay: Capability

    def to_dict(self) -> dict[str, object]:
        """Plain JSON data."""
        return {
            "history": {"states_kept": self.states_kept, "counters_in_history": list(self.counters_in_history)},
            "tamper_evident": attrs.asdict(self.tamper),
            "replay_check": attrs.asdict(self.replay),
        }


def check_same(summaries: Mapping[str, RunSummary]) -> None:
    """Every system computed the same final values, and kept at least the state after each step."""
    reference = summaries["stepfold"]
    for name, summary in summaries.items():
        for field in ("record", "counter", "log", "last_run", "last_label", "flags"):
            mine, theirs = getattr(summary, field), getattr(reference, field)
            assert mine == theirs, f"{name}: {field} = {mine!r}, stepfold has {theirs!r}"
        assert summary.states_kept >= STEPS_PER_CYCLE, f"{name} kept {summary.states_kept} states"
        assert len(set(map(repr, summary.counters_in_history))) >= 2, f"{name}: history shows no change"


_RECORDS: dict[int, dict[str, object]] = {}


def records_for(size: int) -> dict[str, object]:
    """The records of one size, built once and shared by every system (none of them mutates its input)."""
    if size not in _RECORDS:
        _RECORDS.clear()
        _RECORDS[size] = make_records(size)
    return _RECORDS[size]


def interleaved(
    sides: Sequence[Side],
    prepare: Callable[[Side, int], Callable[[], object]],
    *,
    warmup: int,
    runs: int,
    collector: bool,
    first_run: int,
) -> dict[str, Stats]:
    """Warm every side up, then time `runs` rounds, one run per side per round, rotating the order each round.

    `prepare(side, run_number)` is untimed and returns the timed call; each
    run's history is released (untimed) before the next run. With the
    collector off, it is run between rounds (untimed) to reclaim cycles;
    with it on, it runs when it would, and its cost lands in the timed run
    that triggers it, as it would in a program.
    """
    run_number = first_run
    for side in sides:
        for _ in range(warmup):
            _, handle = timed(prepare(side, run_number), collector=collector)
            side.release(handle)
            run_number += 1
    samples: dict[str, list[int]] = {side.name: [] for side in sides}
    gc.collect()
    for round_index in range(runs):
        shift = round_index % len(sides)
        for side in [*sides[shift:], *sides[:shift]]:
            elapsed, handle = timed(prepare(side, run_number), collector=collector)
            run_number += 1
            samples[side.name].append(elapsed)
            side.release(handle)
            del handle
        if not collector:
            gc.collect()
    return {name: Stats.of(values) for name, values in samples.items()}


def measure_size(size: int, sides: Sequence[Side], config: Config, log: Log) -> SizeResult:
    """Cross-check, then interleaved timings, then (separately) peak and retained memory, at one size."""
    records = records_for(size)
    for side in sides:
        side.setup(size, records)
    check_plan = plan_for(0, size)
    summaries: dict[str, RunSummary] = {}
    for side in sides:
        handle = side.prepare(check_plan)()
        summaries[side.name] = side.summarise(handle, check_plan)
        side.release(handle)
    check_same(summaries)

    def prepare(side: Side, run_number: int) -> Callable[[], object]:
        return side.prepare(plan_for(run_number, size))

    warmup, runs = config.warmup[size], config.runs[size]
    gc.collect()
    gc.freeze()  # the records and contexts are long-lived: keep later collections from rescanning them
    try:
        log(
            f"  {size:>7,} records: warm-up ({warmup} runs each), then {runs} interleaved rounds, collector off, then on"
        )
        times = interleaved(sides, prepare, warmup=warmup, runs=runs, collector=False, first_run=1)
        times_gc = interleaved(sides, prepare, warmup=warmup, runs=runs, collector=True, first_run=50_001)
        peak, retained = _memory_runs(size, sides, config, log)
    finally:
        gc.unfreeze()
    ingest = _time_ingest(size, records, config, log)
    log(f"  {size:>7,} records: the starting state's own memory")
    return SizeResult(size, times, times_gc, peak, retained, ingest, state_sizes(size))


def _memory_runs(
    size: int, sides: Sequence[Side], config: Config, log: Log
) -> tuple[dict[str, Stats], dict[str, Stats]]:
    log(f"  {size:>7,} records: memory under tracemalloc ({config.memory_runs} runs each after one warm-up)")
    peaks: dict[str, Stats] = {}
    helds: dict[str, Stats] = {}
    run_number = 100_000
    tracemalloc.start()
    try:
        for side in sides:
            side_peaks: list[int] = []
            side_helds: list[int] = []
            for attempt in range(1 + config.memory_runs):
                peak, held, handle = traced(side.prepare(plan_for(run_number, size)))
                run_number += 1
                side.release(handle)
                del handle
                if attempt:  # the first is the warm-up
                    side_peaks.append(peak)
                    side_helds.append(held)
            peaks[side.name] = Stats.of(side_peaks)
            helds[side.name] = Stats.of(side_helds)
    finally:
        tracemalloc.stop()
    return peaks, helds


def _time_ingest(size: int, records: Mapping[str, object], config: Config, log: Log) -> Stats:
    """stepfold's one-time cost of a new state: `State` from the plain records (freeze + LtHash digest).

    The peers take the plain dict by reference at the start of every run, so
    their share of this work is already inside their per-run time.
    """
    runs = config.ingest_runs[size]
    log(f"  {size:>7,} records: stepfold State from the plain records ({runs} runs after one warm-up)")
    initial_state(records)
    samples = []
    for _ in range(runs):
        gc.collect()
        elapsed, _state = timed(lambda: initial_state(records))
        samples.append(elapsed)
    return Stats.of(samples)


def state_sizes(size: int) -> dict[str, int]:
    """Bytes held by the state itself: stepfold's `State` and the plain dicts the peers hold (all objects counted)."""
    out: dict[str, int] = {}
    tracemalloc.start()
    try:
        for name, build in (
            ("stepfold_state", lambda: initial_state(make_records(size))),
            ("plain_dict_state", lambda: {"records": make_records(size), **initial_extras()}),
        ):
            gc.collect()
            base = tracemalloc.get_traced_memory()[0]
            state = build()
            gc.collect()
            out[name] = tracemalloc.get_traced_memory()[0] - base
            del state
    finally:
        tracemalloc.stop()
    return out


def measure_long(sides: Sequence[Side], config: Config, log: Log) -> dict[str, LongResult]:
    """Retained bytes of a long history over LONG_SIZE records, per system.

    The baseline is taken before the run is prepared, so what the run is
    given (stepfold's 1,000-step workflow, the peers' inputs and Burr's
    Application, LangGraph's graph) counts as retained along with the history.
    """
    records = records_for(LONG_SIZE)
    for side in sides:
        side.setup(LONG_SIZE, records)
    plans = plans_for(config.long_cycles, LONG_SIZE)
    results: dict[str, LongResult] = {}
    gc.collect()
    gc.freeze()
    tracemalloc.start()
    try:
        for side in sides:
            log(f"  long run: {side.name}, {len(plans) * STEPS_PER_CYCLE:,} steps over {LONG_SIZE:,} records")
            gc.collect()
            base = tracemalloc.get_traced_memory()[0]
            call = side.prepare_long(LONG_SIZE, plans)
            with GCTimer() as collections:
                start = time.perf_counter()
                handle = call()
                wall = time.perf_counter() - start
            del call
            gc.collect()
            held = tracemalloc.get_traced_memory()[0] - base
            steps = side.long_steps(handle)
            assert steps == len(plans) * STEPS_PER_CYCLE, f"{side.name} recorded {steps} steps"
            results[side.name] = LongResult(steps, held, wall, collections.seconds)
            del handle
            gc.collect()
    finally:
        tracemalloc.stop()
        gc.unfreeze()
    return results


def measure_daily(sides: Sequence[Side], config: Config, log: Log) -> dict[str, Stats]:
    """Per-run time of the daily loop on examples/daily_state.json, interleaved, history kept, collector on."""
    state = load_daily_state()
    expected = daily_expected(state)
    for side in sides:
        handle = side.prepare_daily(state)()
        outcome = side.daily_outcome(handle)
        assert outcome == expected, f"{side.name}: daily loop gave {outcome!r}, expected {expected!r}"
        side.release(handle)
    log(f"  daily loop: warm-up ({config.daily_warmup} runs each), then {config.daily_runs} interleaved rounds")
    return interleaved(
        sides,
        lambda side, _run: side.prepare_daily(state),
        warmup=config.daily_warmup,
        runs=config.daily_runs,
        collector=True,
        first_run=0,
    )


def check_capabilities(sides: Sequence[Side]) -> dict[str, Capabilities]:
    """History, tamper test and replay for each system, on runs over CAPABILITY_SIZE records."""
    records = records_for(CAPABILITY_SIZE)
    out: dict[str, Capabilities] = {}
    for side in sides:
        side.setup(CAPABILITY_SIZE, records)
        plan = plan_for(7, CAPABILITY_SIZE)
        handle = side.prepare(plan)()
        summary = side.summarise(handle, plan)
        tamper = side.tamper(handle, plan)
        side.release(handle)
        plan = plan_for(8, CAPABILITY_SIZE)
        handle = side.prepare(plan)()
        replay = side.replay(handle, plan)
        side.release(handle)
        out[side.name] = Capabilities(summary.states_kept, summary.counters_in_history, tamper, replay)
    return out


WAITS: Final = frozenset(
    {"<method 'acquire' of '_thread.lock' objects>", "<method 'get' of '_queue.SimpleQueue' objects>"}
)
"""Blocking waits: a thread idling on a lock or a queue is not work, so profiles leave them out of the total."""


def profile_at(size: int, sides: Sequence[Side], runs: int) -> dict[str, list[dict[str, object]]]:
    """The top functions by own time over `runs` runs of each system, as shares of the busy time of all threads.

    LangGraph writes checkpoints on worker threads by default, so every
    thread started during the runs gets its own profiler (`threading.setprofile`)
    and the profiles are merged; time blocked in `WAITS` is left out. The
    collector is off while profiling: a collection's time would be charged to
    whichever function happened to allocate, and the timings already show it.
    """
    records = records_for(size)
    out: dict[str, list[dict[str, object]]] = {}
    for side in sides:
        side.setup(size, records)
        out[side.name] = _profile_side(side, size, runs)
    return out


def _profile_side(side: Side, size: int, runs: int) -> list[dict[str, object]]:
    calls = [side.prepare(plan_for(200_000 + i, size)) for i in range(runs)]
    profilers = [cProfile.Profile()]

    def profile_new_thread(*_: object) -> None:
        sys.setprofile(None)  # this hook only starts the thread's own profiler
        profiler = cProfile.Profile()
        profilers.append(profiler)
        profiler.enable()

    handles = []
    gc.collect()
    gc.disable()
    threading.setprofile(profile_new_thread)
    profilers[0].enable()
    try:
        for call in calls:
            handles.append(call())
    finally:
        profilers[0].disable()
        threading.setprofile(None)
        gc.enable()
    for handle in handles:
        side.release(handle)
    own: dict[str, tuple[float, int]] = {}
    for profiler in profilers:
        for entry in profiler.getstats():
            code = entry.code
            where = (
                code
                if isinstance(code, str)
                else f"{Path(code.co_filename).name}:{code.co_firstlineno}({code.co_name})"
            )
            seconds, ncalls = own.get(where, (0.0, 0))
            own[where] = (seconds + entry.inlinetime, ncalls + entry.callcount)
    busy = {where: value for where, value in own.items() if where not in WAITS}
    total = sum(seconds for seconds, _ in busy.values()) or 1.0
    top = sorted(busy.items(), key=lambda item: item[1][0], reverse=True)[:6]
    return [{"function": where, "tottime_share": seconds / total, "ncalls": ncalls} for where, (seconds, ncalls) in top]


def goals(sizes: Mapping[int, SizeResult], long: Mapping[str, LongResult], peers: Sequence[str]) -> list[Goal]:
    """The goal checks, from the medians and the long run."""
    out = []
    at = sizes[GOAL_SIZE]
    for peer in peers:
        for measure, mode in (("time", "collector off"), ("time_gc", "collector on")):
            ratio = at.ratio(measure, peer)
            out.append(
                Goal(
                    f"{peer} / stepfold per run at {GOAL_SIZE:,} records ({mode})",
                    ratio,
                    f">= {GOAL_SPEEDUP:.0f}x",
                    ratio >= GOAL_SPEEDUP,
                )
            )
    lineage = long["stepfold"]
    ratio = lineage.at_long_steps / sizes[LONG_SIZE].state_bytes["stepfold_state"]
    scaled = " (scaled from the measured steps)" if lineage.extrapolated else ""
    out.append(
        Goal(
            f"{LONG_STEPS:,}-step lineage retained / State itself at {LONG_SIZE:,} records{scaled}",
            ratio,
            f"< {GOAL_LONG_RATIO:.0f}x",
            ratio < GOAL_LONG_RATIO,
        )
    )
    return out


def environment() -> dict[str, object]:
    """Python, machine and load average now."""
    cpu = platform.processor() or platform.machine()
    memory = ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            cpu = next((line.split(":", 1)[1].strip() for line in handle if line.startswith("model name")), cpu)
        with open("/proc/meminfo", encoding="utf-8") as handle:
            memory = next((line.split(":", 1)[1].strip() for line in handle if line.startswith("MemTotal")), "")
    except OSError:
        pass
    return {
        "stepfold_source": _source_revision(),
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "memory": memory,
        "load_average_at_start": list(os.getloadavg()),
    }


def _source_revision() -> str:
    """The commit measured, and whether src/ had uncommitted changes (the benchmark measures the working tree)."""
    root = RESULTS_DIR.parent.parent
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "src"], cwd=root, capture_output=True, text=True, check=True
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return commit + (" with uncommitted changes in src/" if dirty.strip() else "")


# Report -----------------------------------------------------------------------------------------------------


@attrs.frozen
class Report:
    """Everything one benchmark run measured."""

    config: Config
    env: Mapping[str, object]
    versions: Mapping[str, str]
    labels: Mapping[str, str]
    """System name -> label, in the order the systems are reported (stepfold first)."""
    capabilities: Mapping[str, Capabilities]
    sizes: Mapping[int, SizeResult]
    long: Mapping[str, LongResult]
    daily: Mapping[str, Stats]
    profiles: Mapping[str, Sequence[Mapping[str, object]]]
    goals: Sequence[Goal]

    @property
    def names(self) -> list[str]:
        """The systems, stepfold first."""
        return list(self.labels)

    @property
    def peers(self) -> list[str]:
        """The systems other than stepfold."""
        return [name for name in self.labels if name != "stepfold"]

    @property
    def state_bytes(self) -> Mapping[str, int]:
        """The starting state's own memory at LONG_SIZE records."""
        return self.sizes[LONG_SIZE].state_bytes

    def own_state_bytes(self, name: str) -> int:
        """The state a system holds at LONG_SIZE records: stepfold's State, or the peers' plain dicts."""
        return self.state_bytes["stepfold_state" if name == "stepfold" else "plain_dict_state"]


def fmt_ns(ns: float) -> str:
    """A duration with a readable unit."""
    if ns >= 1e9:
        return f"{ns / 1e9:.2f} s"
    if ns >= 1e6:
        return f"{ns / 1e6:.2f} ms"
    if ns >= 1e3:
        return f"{ns / 1e3:.0f} µs"
    return f"{ns:.0f} ns"


def fmt_bytes(n: float) -> str:
    """A byte count with a readable unit (powers of 1024)."""
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if abs(n) >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n:.0f} B"


def fmt_ratio(ratio: float) -> str:
    """A ratio with sensible precision."""
    if ratio >= 100:
        return f"{ratio:,.0f}x"
    if ratio >= 10:
        return f"{ratio:.1f}x"
    return f"{ratio:.2f}x"


def fmt_runs(runs: int | None) -> str:
    """A run count, or "never"."""
    return "never" if runs is None else f"{runs:,} run" + ("" if runs == 1 else "s")


def fmt_time(stats: Stats) -> str:
    """Median [min - max] of a time sample."""
    return f"{fmt_ns(stats.median)} [{fmt_ns(stats.min)} - {fmt_ns(stats.max)}]"


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """A Markdown table: the first column left-aligned, the others right-aligned; then a blank line."""
    return [
        "| " + " | ".join(header) + " |",
        "|---|" + "---:|" * (len(header) - 1),
        *("| " + " | ".join(row) + " |" for row in rows),
        "",
    ]


def render(report: Report) -> str:
    """The human-readable report (Markdown)."""
    env, labels, names, peers = report.env, report.labels, report.names, report.peers
    sizes = [report.sizes[size] for size in SIZES]
    lines = [
        "# stepfold vs Apache Burr vs LangGraph",
        "",
        f"Python {env['python']} ({env['implementation']}) on {env['platform']}; {env['cpu']}, {env['cpus']} CPUs, "
        f"{env['memory']}; load average {env['load_average_at_start']} at start, {env['load_average_at_end']} at end.",
        "Versions: "
        + ", ".join(f"{name} {version}" for name, version in report.versions.items())
        + f"; stepfold source: {env['stepfold_source']}.",
        f"Mode: {report.config.mode}; times are medians [min - max], warm-up excluded; memory is tracemalloc "
        "in a separate, untimed pass.",
        "",
        "## Per run: 4 steps (set, increment, merge, append), every intermediate state kept",
        "",
        "Collector off inside each timed call:",
        "",
        *table(
            ["records", *(labels[name] for name in names)],
            [[f"{r.size:,}", *(fmt_time(r.time[n]) for n in names)] for r in sizes],
        ),
        "Collector on, running when it would inside the timed calls (long-lived inputs frozen with gc.freeze):",
        "",
        *table(
            ["records", *(labels[name] for name in names)],
            [[f"{r.size:,}", *(fmt_time(r.time_gc[n]) for n in names)] for r in sizes],
        ),
        "Memory of one run: peak above the baseline during it / history still held after it; and the starting state "
        "itself, which both leave out (stepfold: its State; the peers: the plain dicts):",
        "",
        *table(
            ["records", *(labels[name] for name in names), "stepfold State", "plain dicts"],
            [
                [
                    f"{r.size:,}",
                    *(f"{fmt_bytes(r.peak[n].median)} / {fmt_bytes(r.retained[n].median)}" for n in names),
                    fmt_bytes(r.state_bytes["stepfold_state"]),
                    fmt_bytes(r.state_bytes["plain_dict_state"]),
                ]
                for r in sizes
            ],
        ),
        "Ratios, peer / stepfold (above 1: stepfold is faster or smaller):",
        "",
        *table(
            ["records", *(f"{p} {what}" for what in ("time", "time, GC on", "peak mem", "history mem") for p in peers)],
            [
                [
                    f"{r.size:,}",
                    *(
                        fmt_ratio(r.ratio(measure, p))
                        for measure in ("time", "time_gc", "peak", "retained")
                        for p in peers
                    ),
                ]
                for r in sizes
            ],
        ),
        "stepfold's one-time ingest (its State built from the plain records: freeze + digest), and how many runs "
        "it takes to pay for itself against each peer:",
        "",
        *table(
            ["records", "ingest", "first run incl. ingest", *(f"break-even vs {p}" for p in peers)],
            [
                [
                    f"{r.size:,}",
                    fmt_time(r.ingest),
                    fmt_ns(r.ingest.median + r.time["stepfold"].median),
                    *(fmt_runs(r.break_even_runs(p)) for p in peers),
                ]
                for r in sizes
            ],
        ),
        f"## Long run: {LONG_STEPS:,} steps over {LONG_SIZE:,} records, all history kept",
        "",
        f"State itself: stepfold State {fmt_bytes(report.state_bytes['stepfold_state'])}; the same records as plain "
        f"dicts (what Burr and LangGraph hold) {fmt_bytes(report.state_bytes['plain_dict_state'])}.",
        "",
    ]
    rows = []
    for name in names:
        result, own = report.long[name], report.own_state_bytes(name)
        total = result.at_long_steps
        rows.append(
            [
                labels[name],
                f"{result.steps:,}",
                fmt_bytes(total) + (" (scaled)" if result.extrapolated else ""),
                fmt_bytes(result.per_step),
                f"{result.per_step / own:.3%}",
                fmt_ratio(total / own),
                fmt_bytes(own + total),
                f"{result.wall_s:.1f} s",
                f"{result.gc_s:.1f} s",
            ]
        )
    lines += table(
        [
            "system",
            "steps run",
            f"history, {LONG_STEPS:,} steps",
            "per step",
            "per step / own state",
            "history / own state",
            "state + history",
            "wall (tracemalloc on)",
            "of which GC",
        ],
        rows,
    )
    stepfold_daily = report.daily["stepfold"].median
    lines += ["## Small state: daily_loop, history kept (collector on)", ""]
    lines += table(
        ["system", "per run", "runs/s", "time / stepfold"],
        [
            [
                labels[n],
                fmt_time(report.daily[n]),
                f"{1e9 / report.daily[n].median:,.0f}",
                fmt_ratio(report.daily[n].median / stepfold_daily),
            ]
            for n in names
        ],
    )
    lines += [f"## Capabilities (what this run did, at {CAPABILITY_SIZE:,} records)", ""]
    for name in names:
        caps = report.capabilities[name]
        lines.append(
            f"- {labels[name]}: history kept: {caps.states_kept} states read back, counter per state {list(caps.counters_in_history)}"
        )
        for title, cap in (("tamper-evident", caps.tamper), ("replay check", caps.replay)):
            lines.append(f"  - {title}: {'yes' if cap.supported else 'no'}: {cap.detail}")
    lines += ["", "## Goals", ""]
    for goal in report.goals:
        lines.append(f"- {'MET' if goal.met else 'MISSED'}: {goal.name}: {fmt_ratio(goal.ratio)} (goal {goal.bound})")
    lines += [
        "",
        f"## Where the time goes at {GOAL_SIZE:,} records (cProfile, all threads, share of busy own time)",
        "",
    ]
    for name, entries in report.profiles.items():
        top = ", ".join(f"{entry['function']} {entry['tottime_share']:.0%}" for entry in entries[:4])
        lines.append(f"- {labels[name]}: {top}")
    return "\n".join(lines)


def write_json(report: Report, plots: Sequence[str]) -> None:
    """Write every figure atomically (through a `.tmp` file)."""
    config = report.config
    document = {
        "benchmark": "stepfold vs Apache Burr vs LangGraph",
        "mode": config.mode,
        "command": "make bench-peers" if config.mode == "full" else ".venv/bin/python -m bench.peers --quick",
        "environment": {**report.env, "packages": dict(report.versions)},
        "settings": dict(SETTINGS),
        "config": {
            "sizes": list(SIZES),
            "runs": {str(k): v for k, v in config.runs.items()},
            "warmup": {str(k): v for k, v in config.warmup.items()},
            "memory_runs": config.memory_runs,
            "ingest_runs": {str(k): v for k, v in config.ingest_runs.items()},
            "long_steps": config.long_cycles * STEPS_PER_CYCLE,
            "daily_runs": config.daily_runs,
            "daily_warmup": config.daily_warmup,
            "timing": "time.perf_counter_ns, runs interleaved round-robin; GC disabled inside each timed call and run between rounds (time), or left on to run when it would (time_collector_on, daily_loop)",
            "memory": "tracemalloc, separate untimed pass; peak above baseline during one run, held = still allocated after gc.collect()",
        },
        "per_run": [
            {
                "records": r.size,
                "systems": {
                    name: {
                        "time": r.time[name].to_dict("ns"),
                        "time_collector_on": r.time_gc[name].to_dict("ns"),
                        "peak_memory": r.peak[name].to_dict("bytes"),
                        "history_memory": r.retained[name].to_dict("bytes"),
                    }
                    for name in report.names
                },
                "stepfold_ingest": r.ingest.to_dict("ns"),
                "starting_state_bytes": dict(r.state_bytes),
                "ratios_over_stepfold": {
                    peer: {
                        "time": r.ratio("time", peer),
                        "time_collector_on": r.ratio("time_gc", peer),
                        "peak_memory": r.ratio("peak", peer),
                        "history_memory": r.ratio("retained", peer),
                        "ingest_break_even_runs": r.break_even_runs(peer),
                    }
                    for peer in report.peers
                },
            }
            for r in (report.sizes[size] for size in SIZES)
        ],
        "long_run": {
            "records": LONG_SIZE,
            "steps": LONG_STEPS,
            "state_bytes": dict(report.state_bytes),
            "systems": {
                name: {
                    "steps_run": result.steps,
                    "retained_bytes": result.retained,
                    "retained_per_step_bytes": result.per_step,
                    "retained_at_1000_steps_bytes": result.at_long_steps,
                    "scaled_from_fewer_steps": result.extrapolated,
                    "over_own_state": result.at_long_steps / report.own_state_bytes(name),
                    "over_stepfold_state": result.at_long_steps / report.state_bytes["stepfold_state"],
                    "wall_s_under_tracemalloc": result.wall_s,
                    "of_which_gc_s": result.gc_s,
                }
                for name, result in report.long.items()
            },
        },
        "daily_loop": {
            name: {"time": stats.to_dict("ns"), "runs_per_second": 1e9 / stats.median}
            for name, stats in report.daily.items()
        },
        "capabilities": {name: caps.to_dict() for name, caps in report.capabilities.items()},
        "profile_at_10k_all_threads": dict(report.profiles),
        "goals": [goal.to_dict() for goal in report.goals],
        "plots": list(plots),
    }
    config.output.parent.mkdir(parents=True, exist_ok=True)
    tmp = config.output.with_name(config.output.name + ".tmp")
    tmp.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, config.output)


def load_sides() -> list[Side]:
    """stepfold plus both peers; a missing peer is an error naming the extra to install."""
    missing = [
        name for name, module in (("apache-burr", peers_burr), ("langgraph", peers_langgraph)) if not module.available()
    ]
    if missing:
        raise SystemExit(
            f"bench/peers needs {', '.join(missing)}: install the extra with "
            "`.venv/bin/pip install -e '.[bench]'` (or run `make bench-peers`)"
        )
    return [StepfoldSide(), peers_burr.BurrSide(), peers_langgraph.LangGraphSide()]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the peer benchmark; print the report; write the JSON and the plots."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="smoke run: few repetitions, short long run")
    parser.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    args = parser.parse_args(argv)
    config = QUICK if args.quick else FULL
    started = time.perf_counter()

    def log(message: str) -> None:
        print(f"[{time.perf_counter() - started:6.1f} s] {message}", file=sys.stderr, flush=True)

    sides = load_sides()
    versions = package_versions(
        ("stepfold", "attrs", "pyrsistent", "rfc8785", *peers_burr.PACKAGES, *peers_langgraph.PACKAGES, "matplotlib")
    )
    log("versions: " + ", ".join(f"{name} {version}" for name, version in versions.items()))
    env = environment()
    log(f"capabilities (history, tamper test, replay) at {CAPABILITY_SIZE:,} records")
    capabilities = check_capabilities(sides)
    log("per-run time and memory")
    sizes = {size: measure_size(size, sides, config, log) for size in SIZES}
    log("long run")
    long = measure_long(sides, config, log)
    log("daily loop")
    daily = measure_daily(sides, config, log)
    log(f"profiles at {GOAL_SIZE:,} records")
    profiles = profile_at(GOAL_SIZE, sides, config.profile_runs)
    env["load_average_at_end"] = list(os.getloadavg())
    report = Report(
        config=config,
        env=env,
        versions=versions,
        labels={side.name: side.label for side in sides},
        capabilities=capabilities,
        sizes=sizes,
        long=long,
        daily=daily,
        profiles=profiles,
        goals=goals(sizes, long, [side.name for side in sides if side.name != "stepfold"]),
    )
    plots = (
        []
        if args.no_plots
        else peers_plot.write_plots(
            report, RESULTS_DIR, config.plot_prefix, long_steps=LONG_STEPS, long_records=LONG_SIZE
        )
    )
    write_json(report, plots)
    print(render(report))
    print()
    print(
        f"Wrote {config.output.relative_to(RESULTS_DIR.parent.parent)}"
        + "".join(f", {plot}" for plot in plots)
        + f" in {time.perf_counter() - started:.0f} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
