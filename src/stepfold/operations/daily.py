"""The daily loop's operations: summarise yesterday, rank priorities, confirm them, log the day.

All pure: the date comes from the payload (the mission's `params["date"]`),
never from a clock. State read: `tasks` (list of `{"id", "title", "priority",
"due", "done"}`) and `journal` (list of `{"date", "text"}`); absent lists
count as empty, absent task fields default to priority 0, due null, done
false. A field of the wrong type fails the step, naming its path.
"""

from __future__ import annotations

import datetime
import re
from typing import NamedTuple

from pyrsistent import PMap, PVector, pvector

from stepfold.errors import InvalidInputError, OperationError
from stepfold.frozen import thaw
from stepfold.messages import brief_repr, format_path
from stepfold.operations.base import argument, describe
from stepfold.state import State
from stepfold.values import Value, entries
from stepfold.workflow import StepSpec

__all__ = [
    "summarise_yesterday",
    "generate_priorities",
    "confirm_priorities",
    "log_summary",
    "parse_date",
    "read_day",
    "DEFAULT_MAX_PRIORITIES",
]

DEFAULT_MAX_PRIORITIES = 3
"""How many priorities `daily.prioritise` keeps when the payload does not say."""

_DECISIONS = frozenset({"approved", "priorities"})
"""The keys of a `daily.confirm` decision: exactly one of them."""

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}\Z")


def read_day(value: object) -> datetime.date | None:
    """A "YYYY-MM-DD" string as the date it names, or None for anything else (the one reader of days)."""
    if isinstance(value, str) and _DATE.match(value):
        try:
            return datetime.date.fromisoformat(value)
        except ValueError:
            return None
    return None


def parse_date(value: object, where: str) -> datetime.date:
    """A "YYYY-MM-DD" string as a date; `OperationError` naming `where` otherwise."""
    day = read_day(value)
    if day is None:
        raise OperationError(f'{where}: expected a date "YYYY-MM-DD", got {describe(value)}')
    return day


class _Task(NamedTuple):
    id: str | int
    priority: int | float
    due: str | None
    done: bool


def _list_at(state: State, key: str) -> PVector[Value]:
    value = state.get(key, pvector())
    if not isinstance(value, PVector):
        raise OperationError(f"{format_path('state', [key])}: expected a list, got {describe(value)}")
    return value


def _task_problem(index: int, field: str, message: str) -> OperationError:
    return OperationError(f"{format_path('state', ['tasks', index, *([field] if field else [])])}: {message}")


def _tasks(state: State) -> list[_Task]:
    tasks = []
    seen: dict[object, int] = {}
    for index, raw in enumerate(_list_at(state, "tasks")):
        if not isinstance(raw, PMap):
            raise _task_problem(index, "", f"expected a task mapping, got {describe(raw)}")
        fields = dict(entries(raw))
        task_id = fields.get("id")
        if not isinstance(task_id, (str, int)) or isinstance(task_id, bool):
            raise _task_problem(index, "id", f"expected a string or int id, got {describe(task_id)}")
        if task_id in seen:
            raise _task_problem(index, "id", f"{task_id!r} is already the id of state.tasks[{seen[task_id]}]")
        seen[task_id] = index
        priority = fields.get("priority", 0)
        if not isinstance(priority, (int, float)) or isinstance(priority, bool):
            raise _task_problem(index, "priority", f"expected a number, got {describe(priority)}")
        due = fields.get("due")
        if due is not None and read_day(due) is None:
            raise _task_problem(index, "due", f'expected a date "YYYY-MM-DD", got {describe(due)}')
        done = fields.get("done", False)
        if not isinstance(done, bool):
            raise _task_problem(index, "done", f"expected true or false, got {describe(done)}")
        tasks.append(_Task(task_id, priority, due, done))  # type: ignore[arg-type]
    return tasks


def _optional_date(step: StepSpec) -> datetime.date | None:
    value = argument(step, "date", None)
    return None if value is None else parse_date(value, "payload 'date'")


def summarise_yesterday(state: State, step: StepSpec) -> State:
    """`summary = {"done", "open", "journal_entries"}`: task counts and journal entries of the day before `date`."""
    date = _optional_date(step)
    tasks = _tasks(state)
    yesterday: object = None  # no date: every entry counts
    if date == datetime.date.min:  # 0001-01-01 has no day before it: no entry can be dated then
        yesterday = object()
    elif date is not None:
        yesterday = (date - datetime.timedelta(days=1)).isoformat()
    entries = 0
    for index, entry in enumerate(_list_at(state, "journal")):
        where = format_path("state", ["journal", index])
        if not isinstance(entry, PMap):
            raise OperationError(f"{where}: expected a journal entry mapping, got {describe(entry)}")
        if yesterday is None or entry.get("date") == yesterday:
            entries += 1
    done = sum(1 for task in tasks if task.done)
    return state.set("summary", {"done": done, "open": len(tasks) - done, "journal_entries": entries})


def _rank(task: _Task) -> tuple[object, ...]:
    ident = (0, task.id, "") if isinstance(task.id, int) else (1, 0, task.id)
    return (-task.priority, task.due is None, task.due or "", ident)


def generate_priorities(state: State, step: StepSpec) -> State:
    """`priorities`: ids of the top `max_priorities` open tasks by priority desc, due asc (null last), id asc."""
    limit = argument(step, "max_priorities", DEFAULT_MAX_PRIORITIES)
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 0:
        raise OperationError(f"payload 'max_priorities' must be a non-negative int, got {describe(limit)}")
    open_tasks = sorted((task for task in _tasks(state) if not task.done), key=_rank)
    return state.set("priorities", [task.id for task in open_tasks[:limit]])


def confirm_priorities(state: State, step: StepSpec) -> State:
    """`confirmed_priorities` from the person's input.

    `{"approved": true}` keeps `priorities`; `{"priorities": [ids]}` replaces
    them (every id must be an open task, and appear once); `{"approved":
    false}` confirms none. Any other input (both keys, or a key besides the one)
    is refused with `InvalidInputError` naming what is wrong, so the run waits
    for a readable one.
    """
    decision = argument(step, "input")
    keys = set(decision) if isinstance(decision, PMap) else set()
    shape = '{"approved": true|false} or {"priorities": [task ids]}'
    if not isinstance(decision, PMap) or not keys & _DECISIONS:
        raise InvalidInputError(f"input must be {shape}, got {describe(decision)}")
    if keys >= _DECISIONS:
        raise InvalidInputError(f'input: give "approved" or "priorities", not both: input must be {shape}')
    if keys - _DECISIONS:
        raise InvalidInputError(
            f"input: unexpected keys {brief_repr(sorted(keys - _DECISIONS))}: input must be {shape}"
        )
    if "priorities" in decision:
        chosen = decision["priorities"]
        if not isinstance(chosen, PVector):
            raise InvalidInputError(f"input.priorities: expected a list of task ids, got {describe(chosen)}")
        open_ids = {task.id for task in _tasks(state) if not task.done}
        seen: set[object] = set()
        for index, task_id in enumerate(chosen):
            if isinstance(task_id, bool) or task_id not in open_ids:
                raise InvalidInputError(
                    f"input.priorities[{index}]: {brief_repr(thaw(task_id))} is not an open task; "
                    f"open tasks: {sorted(map(str, open_ids))}"
                )
            if task_id in seen:
                raise InvalidInputError(f"input.priorities[{index}]: {task_id!r} is listed twice")
            seen.add(task_id)
        return state.set("confirmed_priorities", chosen)
    approved = decision["approved"]
    if not isinstance(approved, bool):
        raise InvalidInputError(f"input.approved: expected true or false, got {describe(approved)}")
    return state.set("confirmed_priorities", _list_at(state, "priorities") if approved else pvector())


def log_summary(state: State, step: StepSpec) -> State:
    """Append `{"date", "summary", "priorities"}` (the confirmed ones) to `log`."""
    date = _optional_date(step)
    entry = {
        "date": None if date is None else date.isoformat(),
        "summary": state.get("summary"),
        "priorities": state.get("confirmed_priorities", pvector()),
    }
    return state.set("log", _list_at(state, "log").append(entry))  # type: ignore[arg-type]
