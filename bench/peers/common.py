"""What every side of the peer benchmark shares: the work (records, per-run plans) and the side interface.

The work is the same for every system: a state of S records plus three
bookkeeping keys (`counter`, `log`, `last_run`), and a 4-step run (`set` one
record, `increment` the counter, `merge` three keys, `append` to the log)
whose values differ from run to run (the run number is in every one of them).
Each side keeps every intermediate state the way its system keeps history.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Final, Protocol

import attrs

__all__ = [
    "DAILY_DATE",
    "DAILY_INPUT",
    "DAILY_STATE_PATH",
    "Capability",
    "DailyOutcome",
    "Plan",
    "RunSummary",
    "Side",
    "daily_confirm",
    "daily_expected",
    "daily_log_entry",
    "daily_priorities",
    "daily_summary",
    "initial_extras",
    "load_daily_state",
    "make_records",
    "plan_for",
    "plans_for",
]

DAILY_STATE_PATH: Final = Path(__file__).resolve().parents[2] / "examples" / "daily_state.json"
DAILY_DATE: Final = "2026-11-24"
DAILY_INPUT: Final[Mapping[str, object]] = {"approved": True}


def make_records(size: int) -> dict[str, object]:
    """`size` small records `{"id", "name", "tags"}` under keys `k000000`, `k000001`, ..."""
    return {f"k{i:06d}": {"id": i, "name": f"item {i}", "tags": ["a", "b"]} for i in range(size)}


def initial_extras() -> dict[str, object]:
    """The bookkeeping keys every run starts from (fresh objects on every call)."""
    return {"counter": 0, "log": [{"run": -1}], "last_run": -1}


@attrs.frozen
class Plan:
    """The values of one 4-step run; `run` is in every one of them, so no two runs write the same."""

    run: int
    key: str
    value: Mapping[str, object]
    by: int
    values: Mapping[str, object]
    entry: Mapping[str, object]

    def step_args(self) -> list[tuple[str, dict[str, object]]]:
        """The four steps as (operation, arguments) in stepfold's built-in vocabulary."""
        return [
            ("set", {"key": self.key, "value": dict(self.value)}),
            ("increment", {"key": "counter", "by": self.by}),
            ("merge", {"values": dict(self.values)}),
            ("append", {"key": "log", "value": dict(self.entry)}),
        ]


def plan_for(run: int, size: int) -> Plan:
    """Run number `run` over `size` records: overwrite a different record each run, and so on."""
    target = (run * 7919) % size
    return Plan(
        run=run,
        key=f"k{target:06d}",
        value={"id": target, "name": f"item {target} run {run}", "tags": ["a", "b", f"r{run}"]},
        by=run + 1,
        values={"last_run": run, "last_label": f"run {run}", "flags": {"even": run % 2 == 0}},
        entry={"run": run},
    )


def plans_for(cycles: int, size: int) -> list[Plan]:
    """The plans of a long run: `cycles` consecutive 4-step cycles (4 * cycles steps)."""
    return [plan_for(cycle, size) for cycle in range(cycles)]


@attrs.frozen
class RunSummary:
    """What a side reports about one finished run, in plain data, for the cross-check."""

    record: object
    counter: object
    log: object
    last_run: object
    last_label: object
    flags: object
    states_kept: int
    """How many states the system's own history API gives back for this run."""
    counters_in_history: tuple[object, ...]
    """`counter` in each kept state, oldest first (shows the intermediate states really are distinct)."""


@attrs.frozen
class Capability:
    """One capability check a side ran: what it did and what came out."""

    supported: bool
    detail: str


@attrs.frozen
class DailyOutcome:
    """The daily loop's outputs, in plain data, for the cross-check."""

    summary: object
    priorities: object
    confirmed: object
    log: object


class Side(Protocol):
    """One system under test. Everything but the callables `prepare_*` return is untimed."""

    name: str
    label: str

    def setup(self, size: int, records: Mapping[str, object]) -> None:
        """Build what is built once per state size (graphs, contexts), outside any timing."""

    def prepare(self, plan: Plan) -> Callable[[], object]:
        """Untimed preparation of one run; the returned callable is the timed run, returning its history."""

    def release(self, handle: object) -> None:
        """Drop one run's history (untimed)."""

    def summarise(self, handle: object, plan: Plan) -> RunSummary:
        """The finished run's values and kept history, read through the system's own API."""

    def prepare_long(self, size: int, plans: Sequence[Plan]) -> Callable[[], object]:
        """Untimed preparation of one long run over `size` records; the callable runs every plan in one history."""

    def long_steps(self, handle: object) -> int:
        """How many steps the long run's history records (to check it ran them all)."""

    def tamper(self, handle: object, plan: Plan) -> Capability:
        """Rewrite one kept intermediate state through the system's store, read it back, report whether anything noticed."""

    def replay(self, handle: object, plan: Plan) -> Capability:
        """Re-run the recorded run with the system's own replay/fork mechanism and compare with the record."""

    def prepare_daily(self, state: Mapping[str, object]) -> Callable[[], object]:
        """Untimed preparation of the daily loop; the callable runs it once with history kept."""

    def daily_outcome(self, handle: object) -> DailyOutcome:
        """The daily loop's outputs."""


def load_daily_state() -> dict[str, object]:
    """`examples/daily_state.json` as plain data."""
    data = json.loads(DAILY_STATE_PATH.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


# The daily loop in plain Python, for the peers (same rules as stepfold's built-in operations) --------------


def _tasks(state: Mapping[str, object]) -> list[Mapping[str, object]]:
    tasks = state.get("tasks", [])
    assert isinstance(tasks, list)
    return tasks


def daily_summary(state: Mapping[str, object], date: str) -> dict[str, object]:
    """`{"done", "open", "journal_entries"}`: task counts and the journal entries of the day before `date`."""
    yesterday = (datetime.date.fromisoformat(date) - datetime.timedelta(days=1)).isoformat()
    tasks = _tasks(state)
    journal = state.get("journal", [])
    assert isinstance(journal, list)
    done = sum(1 for task in tasks if task.get("done", False))
    entries = sum(1 for entry in journal if entry.get("date") == yesterday)
    return {"done": done, "open": len(tasks) - done, "journal_entries": entries}


def _rank(task: Mapping[str, object]) -> tuple[object, ...]:
    priority = task.get("priority", 0)
    assert isinstance(priority, (int, float))
    due = task.get("due")
    ident = task["id"]
    key = (0, ident, "") if isinstance(ident, int) else (1, 0, ident)
    return (-priority, due is None, due or "", key)


def daily_priorities(state: Mapping[str, object], limit: int = 3) -> list[object]:
    """Ids of the top `limit` open tasks by priority desc, due asc (null last), id asc."""
    open_tasks = sorted((task for task in _tasks(state) if not task.get("done", False)), key=_rank)
    return [task["id"] for task in open_tasks[:limit]]


def daily_confirm(priorities: Sequence[object], decision: Mapping[str, object]) -> list[object]:
    """`{"approved": true}` keeps the priorities, `{"approved": false}` confirms none, `{"priorities": [...]}` replaces them."""
    if "priorities" in decision:
        chosen = decision["priorities"]
        assert isinstance(chosen, list)
        return list(chosen)
    return list(priorities) if decision.get("approved") is True else []


def daily_log_entry(date: str, summary: object, confirmed: Sequence[object]) -> dict[str, object]:
    """The entry the last step appends to `log`."""
    return {"date": date, "summary": summary, "priorities": list(confirmed)}


def daily_expected(state: Mapping[str, object]) -> DailyOutcome:
    """The daily loop's outputs computed directly, for the cross-check."""
    summary = daily_summary(state, DAILY_DATE)
    priorities = daily_priorities(state)
    confirmed = daily_confirm(priorities, DAILY_INPUT)
    log = [daily_log_entry(DAILY_DATE, summary, confirmed)]
    return DailyOutcome(summary, priorities, confirmed, log)
