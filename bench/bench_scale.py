"""Scale benchmark (issue 13's goals): the collector on as users run it, off beside it, ratios side by side.

Run from the repository root (`make bench`)::

    .venv/bin/python bench/bench_scale.py            # full run, writes bench/results/scale.json
    .venv/bin/python bench/bench_scale.py --quick    # smoke run, writes bench/results/scale-quick.json

What it measures, each pair interleaved in one process so machine noise hits both sides alike:

1. collector: a 1,000-step run (`set` steps) over a 100k-entry state with the
   cyclic collector on (as users run) and off; and `run_many` keeping 10,000
   `echo` results over one shared 100k-entry State against the same over a
   10-entry State (per call, collector on).
2. small states: stepfold against Burr (the `bench` group, when installed)
   at 10 records, building each run inside the timing, history kept: the
   4-step workflow and `daily_loop` (the sides of `make bench-peers`).
3. big states: building a 100k-entry State against one
   `json.dumps(sort_keys=True)` of the same data; loading and resuming a
   stored run over a 100k-entry state against `json.loads` of its JSON;
   peak RSS of `stepfold run echo --state FILE --no-store` on a 50 MB state
   against `json.load` of the file (each in a fresh process).

Figures are medians of the repetitions (min and max beside them in the JSON).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Final

import attrs

if __package__ in (None, ""):  # run as a script: make the `bench` package importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.measure import Goal, load_average, package_versions  # noqa: E402
from stepfold import (  # noqa: E402
    ExecutionContext,
    Policy,
    SQLiteStore,
    State,
    StepSpec,
    WorkflowDefinition,
    resume,
    run_many,
    run_workflow,
)
from stepfold.mission_call import MissionCall  # noqa: E402

ROOT: Final = Path(__file__).resolve().parent.parent
BIN: Final = Path(sys.executable).parent


@attrs.frozen
class Config:
    """How big and how many: the full run and a smoke run."""

    entries: int
    long_steps: int
    kept_results: int
    kept_daily: int
    reps: int
    small_runs: int
    big_state_mb: int


FULL: Final = Config(
    entries=100_000, long_steps=1_000, kept_results=10_000, kept_daily=2_000, reps=5, small_runs=300, big_state_mb=50
)
QUICK: Final = Config(
    entries=10_000, long_steps=200, kept_results=1_000, kept_daily=200, reps=2, small_runs=50, big_state_mb=5
)


@attrs.frozen
class Pair:
    """Two sides measured interleaved: their seconds per repetition, and the figure's unit."""

    name: str
    left: str
    right: str
    left_s: tuple[float, ...]
    right_s: tuple[float, ...]
    unit: str = "s"

    @property
    def ratio(self) -> float:
        """Median of the left side over median of the right side."""
        return statistics.median(self.left_s) / statistics.median(self.right_s)

    def to_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "left": self.left,
            "right": self.right,
            "unit": self.unit,
            "left_median": statistics.median(self.left_s),
            "right_median": statistics.median(self.right_s),
            "left_runs": [round(x, 6) for x in self.left_s],
            "right_runs": [round(x, 6) for x in self.right_s],
            "ratio": round(self.ratio, 3),
        }


@contextmanager
def collector(on: bool) -> Iterator[None]:
    """The cyclic garbage collector on or off inside the block, as it was after it."""
    was = gc.isenabled()
    (gc.enable if on else gc.disable)()
    try:
        yield
    finally:
        (gc.enable if was else gc.disable)()


def seconds(fn: Callable[[], object], *, gc_on: bool = True) -> float:
    """Wall seconds of one call, the collector as asked (on, unless said otherwise)."""
    gc.collect()
    with collector(gc_on):
        began = time.perf_counter()
        fn()
        return time.perf_counter() - began


def interleaved(
    name: str, left: tuple[str, Callable[[], object], bool], right: tuple[str, Callable[[], object], bool], reps: int
) -> Pair:
    """Each side `reps` times, alternating which goes first; `(label, call, collector on)` per side."""
    left_s: list[float] = []
    right_s: list[float] = []
    for rep in range(reps):
        order = [(left, left_s), (right, right_s)]
        for (_, call, gc_on), out in order if rep % 2 == 0 else reversed(order):
            out.append(seconds(call, gc_on=gc_on))
    return Pair(name, left[0], right[0], tuple(left_s), tuple(right_s))


def records(count: int) -> dict[str, object]:
    """`count` records shaped like a user's: an id, a name, tags, a score, a flag."""
    return {
        f"record-{i:06d}": {"id": i, "name": f"name {i}", "tags": ["a", "b"], "score": i + 0.5, "done": i % 2 == 0}
        for i in range(count)
    }


# 1. The collector --------------------------------------------------------------------------------------------


def long_run(config: Config, log: Callable[[str], None]) -> Pair:
    state = State(records(config.entries))
    steps = [
        StepSpec(f"s{i}", "runtime", {"operation": "set", "key": f"record-{i % config.entries:06d}", "value": i})
        for i in range(config.long_steps)
    ]
    workflow = WorkflowDefinition(id="long", steps=steps)
    policy = Policy(max_steps=config.long_steps)
    context = ExecutionContext(initial_state=state)
    log(f"  {config.long_steps:,} set steps over {config.entries:,} entries")

    def call() -> object:
        return run_workflow(workflow, context, policy=policy)

    call()
    return interleaved(
        f"{config.long_steps:,}-step run over {config.entries:,} entries",
        ("collector on", call, True),
        ("collector off", call, False),
        config.reps,
    )


def kept_results(config: Config, log: Callable[[str], None]) -> Pair:
    big, small = State(records(config.entries)), State(records(10))
    log(f"  run_many keeping {config.kept_results:,} results over a shared {config.entries:,}-entry state")

    def over(state: State) -> Callable[[], object]:
        calls = [MissionCall("echo", {"n": i}, state) for i in range(config.kept_results)]
        return lambda: run_many(calls)

    return interleaved(
        f"run_many keeping {config.kept_results:,} results, per call",
        (f"shared {config.entries:,}-entry State", over(big), True),
        ("10-entry State", over(small), True),
        max(2, config.reps // 2),
    )


def kept_daily(config: Config, log: Callable[[str], None]) -> Pair:
    """What the collector costs a program that keeps many small results: `run_many` of distinct daily_loop calls
    over one shared State (the example's), every result kept, the collector on and off."""
    state = State(json.loads((ROOT / "examples" / "daily_state.json").read_text(encoding="utf-8")))
    approve = {"daily-confirm-priorities": {"approved": True}}
    calls = [
        MissionCall("daily_loop", {"date": f"2026-{1 + i // 28 % 12:02d}-{1 + i % 28:02d}"}, state, approve)
        for i in range(config.kept_daily)
    ]
    log(f"  run_many keeping {config.kept_daily:,} daily_loop results, collector on and off")
    return interleaved(
        f"run_many keeping {config.kept_daily:,} daily_loop results",
        ("collector on", lambda: run_many(calls), True),
        ("collector off", lambda: run_many(calls), False),
        max(2, config.reps // 2),
    )


# 2. Small states against Burr ------------------------------------------------------------------------------


def small_states(config: Config, log: Callable[[str], None]) -> list[Pair]:
    try:
        from bench.peers.burr_side import BurrSide, available
        from bench.peers.common import load_daily_state, make_records, plan_for
        from bench.peers.stepfold_side import StepfoldSide
    except ImportError:
        return []
    if not available():
        log("  Burr is not installed (make bench-peers installs it): small-state rows skipped")
        return []
    sides: dict[str, StepfoldSide | BurrSide] = {"stepfold": StepfoldSide(), "burr": BurrSide()}
    table = make_records(10)
    for side in sides.values():
        side.setup(10, table)
    daily = load_daily_state()
    counter = iter(range(10**9))
    log(f"  stepfold and Burr at 10 records, {config.small_runs} runs per repetition")

    def four(side_name: str) -> Callable[[], object]:
        side = sides[side_name]

        def block() -> None:
            runs = [side.prepare(plan_for(next(counter), 10)) for _ in range(config.small_runs)]
            for run in runs:
                run()

        return block

    def day(side_name: str) -> Callable[[], object]:
        side = sides[side_name]

        def block() -> None:
            runs = [side.prepare_daily(daily) for _ in range(config.small_runs)]
            for run in runs:
                run()

        return block

    for name in sides:
        four(name)()
        day(name)()
    reps = max(3, config.reps)
    return [
        interleaved(
            "4-step workflow at 10 records", ("Burr", four("burr"), True), ("stepfold", four("stepfold"), True), reps
        ),
        interleaved("daily_loop", ("Burr", day("burr"), True), ("stepfold", day("stepfold"), True), reps),
    ]


# 3. Big states -------------------------------------------------------------------------------------------


def build(config: Config, log: Callable[[str], None]) -> list[Pair]:
    data = records(config.entries)
    log(f"  building a {config.entries:,}-entry State")
    on = interleaved(
        f"State of {config.entries:,} entries",
        ("State(data)", lambda: State(data), True),
        ("json.dumps(sort_keys=True)", lambda: json.dumps(data, sort_keys=True), True),
        config.reps,
    )
    off = interleaved(
        f"State of {config.entries:,} entries, collector off",
        ("State(data)", lambda: State(data), False),
        ("json.dumps(sort_keys=True)", lambda: json.dumps(data, sort_keys=True), False),
        max(2, config.reps // 2),
    )
    return [on, off]


def stored_resume(config: Config, log: Callable[[str], None]) -> Pair:
    data = records(config.entries)
    text = json.dumps(data)
    workflow = WorkflowDefinition(
        id="big",
        steps=[
            StepSpec("touch", "runtime", {"operation": "set", "key": "seen", "value": True}),
            StepSpec("ask", "human", {"operation": "record", "into": "answer"}),
            StepSpec("after", "runtime", {"operation": "increment", "key": "count"}),
        ],
    )
    folder = Path(tempfile.mkdtemp(prefix="stepfold-bench-"))
    path = folder / "runs.db"
    with SQLiteStore(path) as store:
        run_id = store.save(run_workflow(workflow, ExecutionContext(initial_state=data)))
    log(f"  resuming a stored run over {config.entries:,} entries")

    def load_and_resume() -> object:
        with SQLiteStore(path, create=False) as store:
            return resume(store.load(run_id), {"ask": "yes"}).run_id

    try:
        return interleaved(
            f"resume a stored run over {config.entries:,} entries",
            ("load + resume", load_and_resume, True),
            ("json.loads of its state", lambda: json.loads(text), True),
            config.reps,
        )
    finally:
        for leftover in folder.iterdir():
            leftover.unlink()
        folder.rmdir()


def peak_rss_kib(argv: Sequence[str], cwd: Path) -> int:
    """The peak resident set (KiB) of a fresh process running `argv` (its exit code must be 0)."""
    proc = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"{argv[:3]} exited {proc.returncode}")
    return int(usage.ru_maxrss)


def big_state_rss(config: Config, log: Callable[[str], None]) -> Pair:
    folder = Path(tempfile.mkdtemp(prefix="stepfold-bench-"))
    path = folder / "state.json"
    per_record = len(json.dumps(records(1)))
    count = config.big_state_mb * 1_000_000 // per_record
    path.write_text(json.dumps(records(count)), encoding="utf-8")
    size_mb = path.stat().st_size / 1e6
    log(f"  peak RSS on a {size_mb:.0f} MB state ({count:,} records), each in a fresh process")
    run = [str(BIN / "stepfold"), "run", "echo", "--state", str(path), "--no-store"]
    load = [sys.executable, "-c", f"import json; json.load(open({str(path)!r}))"]
    stepfold_kib: list[float] = []
    json_kib: list[float] = []
    try:
        for rep in range(max(2, config.reps // 2)):
            pairs = [(run, stepfold_kib), (load, json_kib)]
            for argv, out in pairs if rep % 2 == 0 else reversed(pairs):
                out.append(float(peak_rss_kib(argv, folder)))
    finally:
        path.unlink()
        folder.rmdir()
    return Pair(
        f"peak RSS on a {size_mb:.0f} MB state",
        "stepfold run --no-store",
        "json.load",
        tuple(stepfold_kib),
        tuple(json_kib),
        unit="KiB",
    )


# Report -------------------------------------------------------------------------------------------------


def goals(pairs: dict[str, Pair | None], config: Config) -> list[Goal]:
    size, kept = f"{config.entries // 1000}k", f"{config.kept_results // 1000}k"
    checks: list[Goal] = []

    def check(key: str, name: str, bound: float, *, at_least: bool = False) -> None:
        pair = pairs.get(key)
        if pair is None:
            return
        ratio = round(pair.ratio, 3)
        met = ratio >= bound if at_least else ratio <= bound
        checks.append(Goal(name, ratio, f"{'>=' if at_least else '<='} {bound}x", met))

    check("long", f"{config.long_steps:,}-step run over {size}: collector on / off", 2.0)
    check("kept", f"run_many {kept} results: shared {size} State / 10-entry State, per call", 2.0)
    check("four", "4-step at 10 records: Burr / stepfold", 1.5, at_least=True)
    check("daily", "daily_loop: Burr / stepfold", 1.5, at_least=True)
    check("build", f"State of {size} / json.dumps(sort_keys=True)", 5.0)
    check("resume", f"resume a stored {size} run / json.loads", 2.0)
    check("rss", f"peak RSS stepfold run on {config.big_state_mb} MB / json.load", 1.5)
    return checks


def render(pairs: dict[str, Pair | None], checks: Sequence[Goal], env: dict[str, object], mode: str) -> str:
    lines = [
        "stepfold scale benchmark (issue 13): collector on as users run it unless a row says off",
        f"Python {env['python']} on {env['platform']} [{env['cpus']} CPUs]; {env['packages']}",
        f"mode: {mode}; load average at start {env['load_average']}, at end {load_average()}",
        "",
        f"{'measure':<58} {'left':>12} {'right':>12} {'ratio':>8}",
        "-" * 94,
    ]
    for pair in pairs.values():
        if pair is None:
            continue
        scale, unit = (1.0, " KiB") if pair.unit == "KiB" else (1e3, " ms")
        left, right = statistics.median(pair.left_s) * scale, statistics.median(pair.right_s) * scale
        lines.append(f"{pair.name:<58} {left:>10,.1f}{unit[:3]} {right:>10,.1f}{unit[:3]} {pair.ratio:>7.2f}x")
        lines.append(f"    left: {pair.left}; right: {pair.right}")
    lines += ["", "goals:"]
    lines += [
        f"  {'MET   ' if goal.met else 'MISSED'} {goal.name}: {goal.ratio:.2f}x ({goal.bound})" for goal in checks
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run: small sizes, few repetitions")
    parser.add_argument("--json", type=Path, help="where to write the figures (default bench/results/scale*.json)")
    args = parser.parse_args(argv)
    config, mode = (QUICK, "quick") if args.quick else (FULL, "full")

    def log(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    env: dict[str, object] = {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "packages": package_versions(("stepfold", "pyrsistent", "attrs", "apache-burr")),
        "load_average": load_average(),
    }
    pairs: dict[str, Pair | None] = {}
    log("1. the collector")
    pairs["long"] = long_run(config, log)
    pairs["kept"] = kept_results(config, log)
    pairs["kept-daily"] = kept_daily(config, log)
    log("2. small states")
    small = small_states(config, log)
    pairs["four"], pairs["daily"] = (small[0], small[1]) if small else (None, None)
    log("3. big states")
    pairs["build"], pairs["build-off"] = build(config, log)
    pairs["resume"] = stored_resume(config, log)
    pairs["rss"] = big_state_rss(config, log)
    checks = goals(pairs, config)
    print(render(pairs, checks, env, mode))
    target = args.json or ROOT / "bench" / "results" / ("scale-quick.json" if args.quick else "scale.json")
    target.write_text(
        json.dumps(
            {
                "environment": env,
                "mode": mode,
                "config": attrs.asdict(config),
                "pairs": {key: pair.to_dict() for key, pair in pairs.items() if pair is not None},
                "goals": [goal.to_dict() for goal in checks],
            },
            indent=2,
        )
        + "\n",
        encoding="utf-8",
    )
    print(f"\nwrote {target.relative_to(ROOT) if target.is_relative_to(ROOT) else target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
