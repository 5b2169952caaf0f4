"""Batch benchmark: peak memory of `stepfold batch` against the number of lines (it streams: it should not grow).

Run from the repository root (`make bench`)::

    .venv/bin/python bench/bench_batch.py            # 2,000 against 20,000 lines, writes bench/results/batch.json
    .venv/bin/python bench/bench_batch.py --quick    # 200 against 2,000 lines, writes bench/results/batch-quick.json

Each line is a daily_loop call on the example state (one date per line, the
approval given). Each batch runs in a fresh process, in-process and with
`--workers 2`, into a fresh store; the figure is the peak resident set of
the batch process (its workers apart), from `wait4`, and the wall time.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Final

if __package__ in (None, ""):  # run as a script: make the `bench` package importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.measure import Goal, load_average, package_versions  # noqa: E402

ROOT: Final = Path(__file__).resolve().parent.parent
STEPFOLD: Final = Path(sys.executable).parent / "stepfold"
DAILY_STATE: Final = json.loads((ROOT / "examples" / "daily_state.json").read_text(encoding="utf-8"))


def write_calls(path: Path, count: int) -> None:
    start = datetime.date(2026, 1, 1)
    with path.open("w", encoding="utf-8") as out:
        for day in range(count):
            date = (start + datetime.timedelta(days=day % 3650)).isoformat()
            call = {
                "mission": "daily_loop",
                "params": {"date": date},
                "state": DAILY_STATE,
                "inputs": {"daily-confirm-priorities": {"approved": True}},
            }
            out.write(json.dumps(call) + "\n")


def batch(folder: Path, lines: Path, workers: int) -> tuple[int, float]:
    """Peak RSS (KiB) and wall seconds of one `stepfold batch` into a fresh store."""
    store = folder / f"runs-{lines.stem}-{workers}.db"
    began = time.perf_counter()
    argv = [str(STEPFOLD), "--store", str(store), "batch", str(lines), "--workers", str(workers)]
    proc = subprocess.Popen(argv, cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - began
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"stepfold batch {lines.name} --workers {workers} failed")
    for leftover in folder.glob(f"{store.name}*"):
        leftover.unlink()
    return int(usage.ru_maxrss), wall


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="200 against 2,000 lines")
    args = parser.parse_args(argv)
    small, big = (200, 2_000) if args.quick else (2_000, 20_000)
    rows: list[dict[str, object]] = []
    checks: list[Goal] = []
    with tempfile.TemporaryDirectory(prefix="stepfold-bench-") as scratch:
        folder = Path(scratch)
        files = {count: folder / f"calls-{count}.jsonl" for count in (small, big)}
        for count, path in files.items():
            write_calls(path, count)
        for workers in (1, 2):
            measured: dict[int, list[tuple[int, float]]] = {small: [], big: []}
            for rep in range(2):
                for count in (small, big) if rep == 0 else (big, small):
                    print(f"  {count:,} lines, --workers {workers}", file=sys.stderr, flush=True)
                    measured[count].append(batch(folder, files[count], workers))
            rss = {count: statistics.median(r for r, _ in runs) for count, runs in measured.items()}
            wall = {count: statistics.median(w for _, w in runs) for count, runs in measured.items()}
            ratio = rss[big] / rss[small]
            rows.append(
                {
                    "workers": workers,
                    "lines": [small, big],
                    "peak_rss_kib": [rss[small], rss[big]],
                    "seconds": [round(wall[small], 2), round(wall[big], 2)],
                    "calls_per_second": [round(small / wall[small], 1), round(big / wall[big], 1)],
                    "rss_ratio": round(ratio, 3),
                }
            )
            checks.append(
                Goal(
                    f"peak RSS {big:,} / {small:,} lines, --workers {workers}", round(ratio, 3), "<= 1.2x", ratio <= 1.2
                )
            )
    print(f"stepfold batch benchmark: peak RSS by number of lines; load average {load_average()}")
    print(f"{'workers':>7} {'lines':>14} {'peak RSS (MiB)':>20} {'seconds':>14} {'ratio':>7}")
    for row in rows:
        print(
            f"{row['workers']:>7} {small:>6,} {big:>7,} "
            + " ".join(f"{float(kib) / 1024:>9.1f}" for kib in row["peak_rss_kib"])  # type: ignore[attr-defined]
            + " "
            + " ".join(f"{float(sec):>6.1f}" for sec in row["seconds"])  # type: ignore[attr-defined]
            + f" {row['rss_ratio']:>6.2f}x"
        )
    for goal in checks:
        print(f"  {'MET   ' if goal.met else 'MISSED'} {goal.name}: {goal.ratio:.2f}x ({goal.bound})")
    target = ROOT / "bench" / "results" / ("batch-quick.json" if args.quick else "batch.json")
    document = {
        "packages": package_versions(("stepfold",)),
        "rows": rows,
        "goals": [goal.to_dict() for goal in checks],
    }
    target.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {target.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
