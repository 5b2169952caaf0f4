"""Core benchmark: stepfold's per-run cost against a naive copy-and-rehash baseline.

Run from the repository root (`make bench`)::

    .venv/bin/python bench/bench_core.py            # full run, writes bench/results/core.json
    .venv/bin/python bench/bench_core.py --quick    # smoke run, writes bench/results/core-quick.json

What it measures, in one process, interleaved so machine noise hits both sides alike:

1. Per run: `run_workflow(workflow, ctx).receipt.head` for a 4-step workflow
   (`set`, `increment`, `merge`, `append`) with the default policy and
   operations, at state sizes 10, 1,000 and 100,000 records. The context is
   built once per size, outside the timed region; every timed run has its
   own workflow (run number in every payload), all built before timing.
2. The same runs in the naive baseline (`bench/baseline.py`): deepcopy the
   state, then SHA-256 of the canonical JSON of the whole state after every
   step, chained into a head.
3. Building `ExecutionContext(initial_state=data)` at 100,000 records
   (freeze + initial LtHash digest) against one `json.dumps(data, sort_keys=True)`.

Timings use `time.perf_counter_ns` with the garbage collector on, as users
run (`bench/bench_scale.py` measures it off beside), collected between
rounds; warm-up runs are excluded. Figures are medians with min and max.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Final

import attrs

if __package__ in (None, ""):  # run as a script: make the `bench` package importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.baseline import NaiveStep, PlainState, naive_run  # noqa: E402
from bench.measure import Goal, load_average, package_versions  # noqa: E402
from stepfold import ExecutionContext, StepSpec, WorkflowDefinition, freeze, run_workflow  # noqa: E402
from stepfold.canonical import canonical_json  # noqa: E402
from stepfold.frozen import thaw  # noqa: E402

SIZES: Final = (10, 1_000, 100_000)
"""State sizes, in records (the workflow's own keys come on top)."""

BIG: Final = 100_000
SMALL: Final = 10

GOAL_FLAT: Final = 1.5
"""stepfold per run at 100k within this factor of per run at 10."""
GOAL_SPEEDUP: Final = 10_000.0
"""stepfold at least this many times faster than the baseline at 100k."""
GOAL_SMALL: Final = 1.0
"""stepfold no slower than the baseline at 10 (ratio stepfold / baseline at most this)."""
GOAL_BUILD: Final = 1.5
"""Context build at 100k within this factor of one json.dumps(sort_keys=True)."""

BLOCK: Final = 10
"""Runs per side in one interleaving round at the small sizes."""

RESULTS_DIR: Final = Path(__file__).resolve().parent / "results"


@attrs.frozen
class Config:
    """Repetition counts; `--quick` shrinks them."""

    stepfold_runs: int
    baseline_runs_small: int
    baseline_runs_big: int
    build_reps: int
    warmup_runs: int
    warmup_big: int
    output: Path


FULL: Final = Config(
    stepfold_runs=300,
    baseline_runs_small=300,
    baseline_runs_big=5,
    build_reps=5,
    warmup_runs=20,
    warmup_big=1,
    output=RESULTS_DIR / "core.json",
)
QUICK: Final = Config(
    stepfold_runs=20,
    baseline_runs_small=20,
    baseline_runs_big=1,
    build_reps=1,
    warmup_runs=3,
    warmup_big=0,
    output=RESULTS_DIR / "core-quick.json",
)


@attrs.frozen
class Stats:
    """Summary of timing samples, in nanoseconds."""

    median: float
    min: int
    max: int
    n: int

    @classmethod
    def of(cls, samples: Sequence[int]) -> Stats:
        """Median, min and max of the samples."""
        return cls(statistics.median(samples), min(samples), max(samples), len(samples))

    def to_dict(self) -> dict[str, float | int]:
        """Plain JSON data, nanoseconds."""
        return {"median_ns": self.median, "min_ns": self.min, "max_ns": self.max, "n": self.n}


@attrs.frozen
class SizeResult:
    """Per-run timings at one state size."""

    size: int
    entries: int
    stepfold: Stats
    baseline: Stats


@attrs.frozen
class BuildResult:
    """Context build at 100k against its references."""

    size: int
    context: Stats
    dumps: Stats
    freeze: Stats
    canonical: Stats


# Data -----------------------------------------------------------------------


def make_state(size: int) -> PlainState:
    """`size` small records plus the keys the workflow touches (a counter, a list, a last-run marker)."""
    state: PlainState = {f"k{i:06d}": {"id": i, "name": f"item {i}", "tags": ["a", "b"]} for i in range(size)}
    state["counter"] = 0
    state["log"] = [{"run": -1}]
    state["last_run"] = -1
    return state


def make_steps(run: int, size: int) -> list[NaiveStep]:
    """The 4 steps of run number `run`: every payload carries the run number, so no two runs write the same."""
    target = (run * 7919) % size  # overwrite an existing record, a different one each run
    return [
        (
            "set",
            {
                "key": f"k{target:06d}",
                "value": {"id": target, "name": f"item {target} run {run}", "tags": ["a", "b", f"r{run}"]},
            },
        ),
        ("increment", {"key": "counter", "by": run + 1}),
        ("merge", {"values": {"last_run": run, "last_label": f"run {run}", "flags": {"even": run % 2 == 0}}}),
        ("append", {"key": "log", "value": {"run": run}}),
    ]


def to_workflow(run: int, steps: Sequence[NaiveStep]) -> WorkflowDefinition:
    """The stepfold workflow for the same steps."""
    return WorkflowDefinition(
        id=f"bench-run-{run}",
        steps=[
            StepSpec(f"s{index}-{name}", "runtime", {"operation": name, **args})
            for index, (name, args) in enumerate(steps, start=1)
        ],
    )


# Timing ---------------------------------------------------------------------


def split(runs: range, parts: int) -> list[range]:
    """`runs` cut into `parts` consecutive, nearly equal ranges."""
    bounds = [runs.start + (len(runs) * i) // parts for i in range(parts + 1)]
    return [range(bounds[i], bounds[i + 1]) for i in range(parts)]


def timed(fn: Callable[[], object]) -> int:
    """Nanoseconds one call of `fn` takes, with the collector on, as users run (bench_scale.py sets it off beside)."""
    start = time.perf_counter_ns()
    fn()
    return time.perf_counter_ns() - start


def check_same(ctx: ExecutionContext, steps: Sequence[NaiveStep], run: int, data: PlainState) -> None:
    """Both implementations compute the same final state (outside any timed region)."""
    result = run_workflow(to_workflow(run, steps), ctx)
    assert result.status == "completed", result.error_message
    _, naive_final = naive_run(data, steps)
    final = result.final_state
    assert len(final) == len(naive_final), (len(final), len(naive_final))
    keys = (
        list(naive_final)
        if len(naive_final) <= 2_000
        else ["counter", "log", "last_run", "last_label", "flags", str(steps[0][1]["key"])]
    )
    for key in keys:
        assert thaw(final[key]) == naive_final[key], key


def measure_size(size: int, config: Config, log: Callable[[str], None]) -> SizeResult:
    """Interleaved per-run timings of stepfold and the baseline at one size."""
    data = make_state(size)
    ctx = ExecutionContext(initial_state=data)  # built once, untimed
    initial_digest = ctx.initial_state.digest
    big = size >= BIG
    baseline_runs = config.baseline_runs_big if big else config.baseline_runs_small
    warm_stepfold = config.warmup_runs
    warm_baseline = config.warmup_big if big else config.warmup_runs
    total = warm_stepfold + config.stepfold_runs
    plans = [make_steps(run, size) for run in range(total)]
    workflows = [to_workflow(run, steps) for run, steps in enumerate(plans)]
    check_same(ctx, plans[0], 0, data)

    def stepfold_call(workflow: WorkflowDefinition) -> Callable[[], object]:
        return lambda: run_workflow(workflow, ctx).receipt.head

    def baseline_call(steps: Sequence[NaiveStep]) -> Callable[[], object]:
        return lambda: naive_run(data, steps, initial_digest=initial_digest)[0]

    log(f"  size {size:>7,}: warm-up")
    for run in range(warm_stepfold):
        timed(stepfold_call(workflows[run]))
    for run in range(warm_baseline):
        timed(baseline_call(plans[run]))

    # Interleave in blocks: each round times a block of baseline runs and a block of stepfold runs,
    # alternating which block goes first, so drift and background load hit both sides alike. Blocks
    # rather than single alternations: a 10 ms baseline run evicts the caches, and strict one-by-one
    # alternation would charge that eviction to every stepfold run that follows it.
    rounds = baseline_runs if big else max(1, baseline_runs // BLOCK)
    stepfold_ns: list[int] = []
    baseline_ns: list[int] = []
    stepfold_blocks = split(range(warm_stepfold, total), rounds)
    baseline_blocks = split(range(warm_stepfold, warm_stepfold + baseline_runs), rounds)
    gc.collect()
    for round_index in range(rounds):
        if big:
            log(f"  size {size:>7,}: round {round_index + 1}/{rounds}")

        def stepfold_block() -> None:
            for run in stepfold_blocks[round_index]:
                stepfold_ns.append(timed(stepfold_call(workflows[run])))

        def baseline_block() -> None:
            for run in baseline_blocks[round_index]:
                baseline_ns.append(timed(baseline_call(plans[run])))

        first, second = (baseline_block, stepfold_block) if round_index % 2 else (stepfold_block, baseline_block)
        first()
        second()
        if big or round_index % 5 == 4:
            gc.collect()
    return SizeResult(size, len(data), Stats.of(stepfold_ns), Stats.of(baseline_ns))


def measure_build(size: int, config: Config, log: Callable[[str], None]) -> BuildResult:
    """`ExecutionContext(initial_state=data)` against one `json.dumps(data, sort_keys=True)`, interleaved."""
    data = make_state(size)
    context_ns: list[int] = []
    dumps_ns: list[int] = []
    freeze_ns: list[int] = []
    canonical_ns: list[int] = []
    log(f"  context build at {size:,}: warm-up")
    timed(lambda: json.dumps(data, sort_keys=True))
    if config.warmup_big:
        timed(lambda: ExecutionContext(initial_state=data))
    for rep in range(config.build_reps):
        log(f"  context build at {size:,}: repetition {rep + 1}/{config.build_reps}")
        gc.collect()
        context_ns.append(timed(lambda: ExecutionContext(initial_state=data)))
        gc.collect()
        dumps_ns.append(timed(lambda: json.dumps(data, sort_keys=True)))
        freeze_ns.append(timed(lambda: freeze(data)))
        canonical_ns.append(timed(lambda: canonical_json(data)))
    return BuildResult(size, Stats.of(context_ns), Stats.of(dumps_ns), Stats.of(freeze_ns), Stats.of(canonical_ns))


# Report ---------------------------------------------------------------------


def fmt_ns(ns: float) -> str:
    """A duration with a readable unit."""
    if ns >= 1e9:
        return f"{ns / 1e9:.2f} s"
    if ns >= 1e6:
        return f"{ns / 1e6:.2f} ms"
    if ns >= 1e3:
        return f"{ns / 1e3:.1f} µs"
    return f"{ns:.0f} ns"


def fmt_stats(stats: Stats) -> str:
    """`median [min – max] (n)`."""
    return f"{fmt_ns(stats.median):>9} [{fmt_ns(stats.min):>9} – {fmt_ns(stats.max):>9}] n={stats.n}"


def fmt_ratio(ratio: float) -> str:
    """A ratio with sensible precision."""
    return f"{ratio:,.0f}x" if ratio >= 100 else f"{ratio:.2f}x"


def goals(sizes: Mapping[int, SizeResult], build: BuildResult) -> list[Goal]:
    """The four goal checks from the medians."""
    small, big = sizes[SMALL], sizes[BIG]
    flat = big.stepfold.median / small.stepfold.median
    speedup = big.baseline.median / big.stepfold.median
    small_ratio = small.stepfold.median / small.baseline.median
    build_ratio = build.context.median / build.dumps.median
    return [
        Goal(f"stepfold per run at {BIG:,} / at {SMALL}", flat, f"<= {GOAL_FLAT}x", flat <= GOAL_FLAT),
        Goal(f"baseline / stepfold per run at {BIG:,}", speedup, f">= {GOAL_SPEEDUP:,.0f}x", speedup >= GOAL_SPEEDUP),
        Goal(f"stepfold / baseline per run at {SMALL}", small_ratio, f"<= {GOAL_SMALL}x", small_ratio <= GOAL_SMALL),
        Goal(
            f"context build / json.dumps(sort_keys=True) at {BIG:,}",
            build_ratio,
            f"<= {GOAL_BUILD}x",
            build_ratio <= GOAL_BUILD,
        ),
    ]


def environment() -> dict[str, object]:
    """Python, machine and package versions."""
    versions = package_versions(("stepfold", "attrs", "pyrsistent", "rfc8785"))
    return {
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "packages": versions,
        "load_average_at_start": load_average(),
    }


def render(
    env: Mapping[str, object],
    config: Config,
    sizes: Mapping[int, SizeResult],
    build: BuildResult,
    checks: Sequence[Goal],
) -> str:
    """The human-readable report."""
    packages = env["packages"]
    assert isinstance(packages, Mapping)
    lines = [
        "stepfold core benchmark",
        f"Python {env['python']} ({env['implementation']}) on {env['platform']} [{env['machine']}, {env['cpus']} CPUs]",
        "packages: " + ", ".join(f"{name} {version}" for name, version in packages.items()),
        f"mode: {'quick' if config is QUICK else 'full'}; medians [min – max], collector on as users run it",
        f"load average (1, 5, 15 min) at start {env['load_average_at_start']}, at end {env['load_average_at_end']}"
        f" on {env['cpus']} CPUs (other processes add noise)",
        "",
        "Per run of the 4-step workflow (set, increment, merge, append) incl. receipt.head",
        "(entries = records + counter, log, last_run; a run writes 6 entries, 4 of them replacing a value)",
        f"{'records':>8} {'entries':>8} | {'stepfold':<40} | {'naive deepcopy + rehash':<40} | {'baseline/stepfold':>17}",
        "-" * 124,
    ]
    for size in SIZES:
        r = sizes[size]
        ratio = r.baseline.median / r.stepfold.median
        lines.append(
            f"{size:>8,} {r.entries:>8,} | {fmt_stats(r.stepfold):<40} | {fmt_stats(r.baseline):<40} | {fmt_ratio(ratio):>17}"
        )
    lines += [
        "",
        f"Context build at {build.size:,} records",
        f"  ExecutionContext(initial_state=data)  {fmt_stats(build.context)}",
        f"  json.dumps(data, sort_keys=True)      {fmt_stats(build.dumps)}",
        f"  (for reference) freeze(data)          {fmt_stats(build.freeze)}",
        f"  (for reference) canonical_json(data)  {fmt_stats(build.canonical)}",
        "",
        "Goals",
    ]
    for goal in checks:
        verdict = "MET" if goal.met else "MISSED"
        lines.append(f"  {verdict:<6}  {goal.name:<52} {fmt_ratio(goal.ratio):>10}  (goal {goal.bound})")
    return "\n".join(lines)


def write_json(
    path: Path,
    env: Mapping[str, object],
    config: Config,
    sizes: Mapping[int, SizeResult],
    build: BuildResult,
    checks: Sequence[Goal],
) -> None:
    """Write the figures atomically (through a `.tmp` file)."""
    document = {
        "benchmark": "stepfold core",
        "mode": "quick" if config is QUICK else "full",
        "environment": env,
        "config": {
            "stepfold_runs": config.stepfold_runs,
            "baseline_runs_small": config.baseline_runs_small,
            "baseline_runs_big": config.baseline_runs_big,
            "build_reps": config.build_reps,
            "warmup_runs": config.warmup_runs,
        },
        "per_run": [
            {
                "records": r.size,
                "entries": r.entries,
                "stepfold": r.stepfold.to_dict(),
                "baseline": r.baseline.to_dict(),
                "baseline_over_stepfold": r.baseline.median / r.stepfold.median,
            }
            for r in (sizes[size] for size in SIZES)
        ],
        "context_build": {
            "records": build.size,
            "execution_context": build.context.to_dict(),
            "json_dumps_sort_keys": build.dumps.to_dict(),
            "freeze": build.freeze.to_dict(),
            "canonical_json": build.canonical.to_dict(),
        },
        "goals": [goal.to_dict() for goal in checks],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark, print the table and write the JSON figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="few repetitions: a smoke run")
    parser.add_argument("--output", type=Path, default=None, help="where to write the JSON figures")
    args = parser.parse_args(argv)
    config = QUICK if args.quick else FULL
    output: Path = args.output if args.output is not None else config.output

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    started = time.perf_counter()
    env = environment()
    sizes: dict[int, SizeResult] = {}
    for size in SIZES:
        sizes[size] = measure_size(size, config, log)
    build = measure_build(BIG, config, log)
    checks = goals(sizes, build)
    env["load_average_at_end"] = load_average()
    print(render(env, config, sizes, build, checks))
    write_json(output, env, config, sizes, build, checks)
    print(f"\nfigures written to {output}; took {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
