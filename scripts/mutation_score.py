"""Run mutmut over the core and print the mutation score (`make mutation`).

Usage (from the project root, with mutmut installed in the running interpreter's venv):

    python scripts/mutation_score.py                     # mutmut run, then the score
    python scripts/mutation_score.py --max-children 2    # fewer workers (default: 2)
    python scripts/mutation_score.py 'stepfold.state.*'  # only these mutants (mutmut's globs)
    python scripts/mutation_score.py --report            # no run: score of the last run

What is mutated and which tests run is configured in `[tool.mutmut]` in
pyproject.toml; docs/mutation.md explains the choices and lists the survivors
judged equivalent. The score counts a mutant as killed when a test failed or
timed out on it (mutmut's own definition); survivors, "no tests" and anything
else mutmut reports (suspicious, segfault, interrupted) count against it;
mutants not yet checked are reported and left out of the denominator, so a
partial run says so instead of claiming a number.

Every run starts from an empty `mutants/`: mutmut keeps earlier verdicts and
its map of which tests cover which function, and it does not notice edited
tests, so a reused directory would report the score of the old tests.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

KILLED = {1, 3}  # a test failed (3: pytest internal error, mutmut counts it as a kill)
TIMEOUT = {36, 24, -24, 152, 255}
SURVIVED = {0}
NO_TESTS = {5, 33}
SKIPPED = {34}
NOT_CHECKED = {None}


def _mutmut() -> str:
    candidate = Path(sys.executable).parent / "mutmut"
    return str(candidate) if candidate.exists() else "mutmut"


def _module_of(meta: Path, root: Path) -> str:
    relative = meta.relative_to(root).as_posix().removesuffix(".meta")
    return relative.removeprefix("src/")


def _status(code: int | None) -> str:
    if code in KILLED or code in TIMEOUT:
        return "killed"
    if code in SURVIVED:
        return "survived"
    if code in NO_TESTS:
        return "no tests"
    if code in SKIPPED:
        return "skipped"
    if code in NOT_CHECKED:
        return "not checked"
    return "suspicious"


def score(root: Path = Path("mutants")) -> int:
    """Print the per-module and total score; return 0 when every counted mutant was checked."""
    metas = sorted(root.rglob("*.py.meta"))
    if not metas:
        print("no mutmut results under mutants/: run `make mutation` first")
        return 1
    totals: Counter[str] = Counter()
    rows: list[tuple[str, Counter[str]]] = []
    for meta in metas:
        data = json.loads(meta.read_text("utf-8"))
        counts = Counter(_status(code) for code in data["exit_code_by_key"].values())
        if not counts:
            continue
        rows.append((_module_of(meta, root), counts))
        totals.update(counts)
    width = max(len(name) for name, _ in rows)
    print(f"{'module':<{width}}  killed/total  score   survived  no-tests  other  not-checked")
    for name, counts in rows + [("TOTAL", totals)]:
        measured = sum(counts.values()) - counts["not checked"] - counts["skipped"]
        other = measured - counts["killed"] - counts["survived"] - counts["no tests"]
        percent = f"{100 * counts['killed'] / measured:5.1f}%" if measured else "   n/a"
        print(
            f"{name:<{width}}  {counts['killed']:>6}/{measured:<5}  {percent}  "
            f"{counts['survived']:>8}  {counts['no tests']:>8}  {other:>5}  {counts['not checked']:>11}"
        )
    measured = sum(totals.values()) - totals["not checked"] - totals["skipped"]
    if measured:
        print(f"killed/total = {totals['killed']}/{measured} = {100 * totals['killed'] / measured:.1f}%")
    if totals["not checked"]:
        print(f"incomplete: {totals['not checked']} mutants not checked (not counted above)")
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mutants", nargs="*", help="mutant name globs, e.g. 'stepfold.state.*'")
    parser.add_argument("--max-children", type=int, default=2)
    parser.add_argument("--report", action="store_true", help="print the score of the last run only")
    args = parser.parse_args(argv)
    if not args.report:
        shutil.rmtree("mutants", ignore_errors=True)
        env = dict(os.environ, HYPOTHESIS_PROFILE="mutation")
        command = [_mutmut(), "run", "--max-children", str(args.max_children), *args.mutants]
        print("$", " ".join(command), flush=True)
        started = time.monotonic()
        code = subprocess.call(command, env=env)
        print(f"\nwall time of the run: {(time.monotonic() - started) / 60:.1f} min")
        if code != 0:
            print(f"mutmut run exited with {code}")
            return code
    return score()


if __name__ == "__main__":
    sys.exit(main())
