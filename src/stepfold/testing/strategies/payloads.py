"""Strategies for what steps are given: `operation_payloads`, `effect_outcomes`, and the inputs of the built-in operations.

A built-in operation gets arguments it accepts (it may still fail cleanly on
some states, e.g. `copy` from an absent key); one that reads a person's input
(`HUMAN_OPERATIONS`) or an effect's value (`EFFECT_OPERATIONS`) gets one it
can read, under `"input"`, as the engine would give it.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Mapping, Sequence
from typing import Final

from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy
from pyrsistent import PMap, pmap

from stepfold.policy import RECORD
from stepfold.testing.strategies.values import UNICODE, bounded
from stepfold.testing.strategies.values import keys as _keys
from stepfold.testing.strategies.values import values as _values
from stepfold.values import Params, Value, freeze_map

__all__ = [
    "HUMAN_OPERATIONS",
    "EFFECT_OPERATIONS",
    "PayloadStrategies",
    "operation_payloads",
    "effect_outcomes",
    "effect_values",
    "confirmations",
    "with_operation",
]

HUMAN_OPERATIONS = frozenset({RECORD, "daily.confirm"})
"""Built-in operations that read a person's input (`payload["input"]`): generated only in human steps."""

EFFECT_OPERATIONS: Final[PMap[str, str]] = pmap({"tests.discovered": "tests.discover", "tests.ran": "tests.run"})
"""Built-in operations that read an effect's value, with the effect they read it from: generated only in effect steps."""

PayloadStrategies = Mapping[str, SearchStrategy[Mapping[str, object]]]
"""Payload strategies by operation name: the arguments a user's own operation takes."""

_TASK_IDS = tuple(f"t{index}" for index in range(8))
_ERROR_TYPES = ("TimeoutError", "ConnectionError", "OSError", "ValueError")
_WORDS = st.text(UNICODE, min_size=1, max_size=8)
_COUNT = st.one_of(st.none(), st.integers(0, 50))


def _dates() -> SearchStrategy[str]:
    return st.dates(datetime.date(2000, 1, 1), datetime.date(2099, 12, 31)).map(datetime.date.isoformat)


def _frozen(where: str) -> Callable[[Mapping[str, object]], Params]:
    def freeze(given: Mapping[str, object]) -> Params:
        return freeze_map(given, path=where)

    return freeze


def confirmations(task_ids: Sequence[str] = _TASK_IDS) -> SearchStrategy[Value]:
    """Inputs for `daily.confirm`: `{"approved": bool}` or `{"priorities": [ids from task_ids]}`.

    `daily.confirm` refuses (`InvalidInputError`) a priority that is not an
    open task of the state it runs on: give the ids of the open tasks that
    state will hold (the default: `t0` to `t7`, the ids `daily_states()`
    uses), or `()` for a step over a state nothing is known of, whose
    priorities are then always empty (accepted on any state).
    """
    chosen = st.lists(st.sampled_from(tuple(task_ids)), max_size=3, unique=True) if task_ids else st.just([])
    return st.one_of(
        st.fixed_dictionaries({"approved": st.booleans()}),
        st.fixed_dictionaries({"priorities": chosen}),
    ).map(_frozen("input"))


def _test_runs() -> SearchStrategy[Value]:
    """Values `tests.run` records: an exit code, counts (or nulls), a duration and an output tail; passing runs as often as not."""
    passing = {"exit_code": st.just(0), "failed": st.sampled_from([0, None]), "errors": st.sampled_from([0, None])}
    anything = {"exit_code": st.integers(0, 5), "failed": _COUNT, "errors": _COUNT}
    return st.one_of(
        *(
            st.fixed_dictionaries(
                {
                    "command": st.lists(_WORDS, min_size=1, max_size=4),
                    **outcome,
                    "passed": _COUNT,
                    "skipped": _COUNT,
                    "duration_s": st.floats(0, 100, allow_nan=False),
                    "output_tail": st.text(UNICODE, max_size=20),
                }
            )
            for outcome in (passing, anything)
        )
    ).map(_frozen("value"))


def effect_values(operation: str | None, values: SearchStrategy[Value] | None = None) -> SearchStrategy[Value]:
    """Values an effect step's operation can read: the built-in effect operations get theirs; others `values`."""
    if operation == "tests.discovered":
        return st.lists(_WORDS, max_size=4).map(lambda files: freeze_map({"v": files}, path="value")["v"])
    if operation == "tests.ran":
        return _test_runs()
    return _values() if values is None else values


def effect_outcomes(
    values: SearchStrategy[Value] | None = None,
    *,
    failures: bool = True,
    error_types: SearchStrategy[str] | None = None,
    max_attempts: int = 3,
) -> SearchStrategy[Params]:
    """Recorded effect outcomes: `{"ok": true, "value", "attempts"}` with values from `values` (default `values()`)
    and, when `failures`, `{"ok": false, "error": {"type", "message"}, "attempts"}`; shrinks towards a first-attempt success.
    """
    bounded("effect_outcomes(max_attempts)", max_attempts, 1)
    attempts = st.integers(1, max_attempts)
    successes = st.fixed_dictionaries(
        {"ok": st.just(True), "value": _values() if values is None else values, "attempts": attempts}
    )
    if not failures:
        return successes.map(_frozen("outcome"))
    errors = st.fixed_dictionaries(
        {
            "type": st.sampled_from(_ERROR_TYPES) if error_types is None else error_types,
            "message": st.text(UNICODE, max_size=20),
        }
    )
    failed = st.fixed_dictionaries({"ok": st.just(False), "error": errors, "attempts": attempts})
    return st.one_of(successes, failed).map(_frozen("outcome"))


def _builtin_arguments(
    operation: str, names: SearchStrategy[str], items: SearchStrategy[Value]
) -> SearchStrategy[dict[str, object]] | None:
    """The arguments each built-in operation reads, or None for an operation that is not built in."""
    numbers = st.one_of(st.integers(-10, 10), st.floats(-10, 10, allow_nan=False))
    paths = st.lists(_WORDS, min_size=1, max_size=3)
    table: dict[str, SearchStrategy[dict[str, object]]] = {
        "noop": st.fixed_dictionaries({}),
        "fail": st.fixed_dictionaries({}, optional={"reason": st.one_of(_WORDS, items)}),
        "set": st.fixed_dictionaries({"key": names, "value": items}),
        "delete": st.fixed_dictionaries({"key": names}),
        "merge": st.fixed_dictionaries({"values": st.dictionaries(names, items, max_size=3)}),
        "increment": st.fixed_dictionaries({"key": names}, optional={"by": numbers}),
        "append": st.fixed_dictionaries({"key": names, "value": items}),
        "copy": st.fixed_dictionaries({"source": names, "target": names}),
        RECORD: st.fixed_dictionaries({"input": items}, optional={"into": names}),
        "daily.summarise": st.fixed_dictionaries({}, optional={"date": _dates()}),
        "daily.prioritise": st.fixed_dictionaries({}, optional={"max_priorities": st.integers(0, 5)}),
        "daily.confirm": st.fixed_dictionaries({"input": confirmations()}),
        "daily.log": st.fixed_dictionaries({}, optional={"date": _dates()}),
        "tests.discovered": st.fixed_dictionaries(
            {"paths": paths, "pattern": _WORDS, "input": effect_values("tests.discovered")}
        ),
        "tests.ran": st.fixed_dictionaries(
            {"runner": paths, "input": effect_values("tests.ran")}, optional={"timeout_s": st.integers(1, 900)}
        ),
        "tests.verdict": st.fixed_dictionaries({}),
        "tests.discover": st.fixed_dictionaries({"paths": paths, "pattern": _WORDS}),
        "tests.execute": st.fixed_dictionaries({"runner": st.lists(_WORDS, min_size=1, max_size=4)}),
        "tests.report": st.fixed_dictionaries({}),
    }
    return table.get(operation)


def with_operation(operation: str) -> Callable[[Mapping[str, object]], Params]:
    """Freeze a payload's arguments and name the operation in it."""

    def payload(arguments: Mapping[str, object]) -> Params:
        return freeze_map(arguments, path=f"payload of {operation!r}").set("operation", operation)

    return payload


def operation_payloads(
    operation: str,
    *,
    keys: SearchStrategy[str] | None = None,
    values: SearchStrategy[Value] | None = None,
) -> SearchStrategy[Params]:
    """Payloads as the named operation receives them (`"operation"` included; `"input"` too for one that reads it).

    For a built-in operation, its arguments with values it accepts (it may
    still fail cleanly on some states, e.g. `copy` from an absent key); for
    any other name, just `{"operation": name}`.
    """
    arguments = _builtin_arguments(
        operation, _keys() if keys is None else keys, _values(max_depth=2, max_leaves=6) if values is None else values
    )
    if arguments is None:
        return st.just(pmap({"operation": operation}))
    return arguments.map(with_operation(operation))
