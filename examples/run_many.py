"""Many mission calls at once, here and over a process pool: the same results, in call order.

Run it: `.venv/bin/python examples/run_many.py` (README.md shows what it prints).
`make test` type-checks this file under `mypy --strict`.
"""

from __future__ import annotations

import concurrent.futures
import json
from pathlib import Path

from stepfold import CallError, MissionCall, run_many

STATE = json.loads((Path(__file__).parent / "daily_state.json").read_text(encoding="utf-8"))
APPROVE = {"daily-confirm-priorities": {"approved": True}}
CALLS = [
    MissionCall("daily_loop", {"date": "2026-11-24"}, STATE, APPROVE),
    MissionCall("daily_loop", {"date": "2026-11-25"}, STATE),  # no approval: suspends
    MissionCall("echo", {"hello": "world"}),
    MissionCall("dialy_loop"),  # a typo: cannot run
]


def main() -> None:
    """Run the calls here and in a pool of 2 processes; print the pool's outcomes and whether both agree."""
    here = run_many(CALLS, errors="return")
    with concurrent.futures.ProcessPoolExecutor(2) as pool:
        pooled = run_many(CALLS, pool, errors="return")
    for outcome in pooled:
        if isinstance(outcome, CallError):
            print("error    ", outcome)
        else:
            print(f"{outcome.status:<9}", outcome.id, outcome.receipt.head[:12])
    print("same documents here and in the pool:", [o.to_dict() for o in here] == [o.to_dict() for o in pooled])


if __name__ == "__main__":
    main()
