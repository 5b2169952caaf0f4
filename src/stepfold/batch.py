"""Batch runs: `run_many` and `run_as_completed`, independent mission calls over any `concurrent.futures.Executor`.

Where the calls run is the caller's choice, and nothing else changes with it:

- `executor=None`: here, one after another;
- a `ThreadPoolExecutor` (results are not encoded at all) or a
  `ProcessPoolExecutor`;
- a Dask cluster, through `distributed.Client(...).get_executor()`.

Whatever the executor, the results' `to_dict()` documents are identical, and
`run_many` returns them in call order. What crosses to a worker, and how,
is `stepfold.worker`'s one protocol. Calls may be any iterable, consumed
as they are submitted: at most `window` tasks are in flight at once, so a
million calls from a generator cost memory for a window's worth, not a
million (`run_as_completed` holds nothing else; `run_many` holds its results).

A call whose mission runs and fails returns its failed result, like any
other. A call that cannot run at all (unknown mission, params its builder
refuses, inputs for steps the workflow lacks, a worker that died) is a
`CallError`; with `errors="raise"` (the default) `run_many` raises the first
one in call order as a `BatchError` and cancels the calls not yet started;
with `errors="return"` the `CallError` takes that call's slot and every other
call completes.
"""

from __future__ import annotations

import concurrent.futures
import itertools
from collections import deque
from collections.abc import Iterable, Iterator
from typing import Any, Literal, TypeAlias, overload

import attrs

from stepfold.errors import InvalidValueError, StepfoldError
from stepfold.messages import brief_repr
from stepfold.mission_call import MissionCall
from stepfold.plugins import discover_missions
from stepfold.policy import TIER2_POLICY, Policy
from stepfold.registry import run_mission
from stepfold.result import OrchestrationResult
from stepfold.worker import ChainError, Submitted, check_arguments, in_memory, submit_chains
from stepfold.workflow import ExecutionContext

__all__ = [
    "MissionCall",
    "CallError",
    "BatchError",
    "Outcome",
    "ERRORS",
    "DEFAULT_WINDOW",
    "run_call",
    "run_many",
    "run_as_completed",
    "run_in_order",
]

ERRORS = ("raise", "return")
"""What `run_many` does with a call that cannot run: raise a `BatchError`, or return a `CallError` in its slot."""

DEFAULT_WINDOW = 64
"""How many tasks (of `chunksize` calls) `run_many` and `run_as_completed` keep in flight on an executor."""


@attrs.frozen
class CallError:
    """A call that could not run: its index in the batch, its mission, and the error's type name and message."""

    index: int
    mission: str
    error_type: str
    message: str

    def __str__(self) -> str:
        return f"call {self.index} (mission {self.mission!r}): {self.error_type}: {self.message}"

    def to_dict(self) -> dict[str, object]:
        """Plain JSON data with sorted keys."""
        return {"error_type": self.error_type, "index": self.index, "message": self.message, "mission": self.mission}


class BatchError(StepfoldError):
    """A call in a batch could not run (`errors="raise"`); `.error` is its `CallError`."""

    def __init__(self, error: CallError) -> None:
        super().__init__(error)
        self.error = error

    def __str__(self) -> str:
        return str(self.error)


Outcome: TypeAlias = OrchestrationResult | CallError
"""One call's slot: its result (completed, failed or suspended), or why it could not run."""


def run_call(call: MissionCall, *, policy: Policy = TIER2_POLICY) -> OrchestrationResult:
    """Run one call here: `run_mission(call.mission, ExecutionContext(call.state, call.inputs), call.params)`.

    Raises what `run_mission` raises for a call that cannot run (e.g. `UnknownMissionError`).
    """
    if not isinstance(call, MissionCall):
        raise InvalidValueError(f"call: expected a MissionCall, got {type(call).__name__}")
    return run_mission(call.mission, ExecutionContext(call.state, call.inputs), call.params, policy=policy)


def _checked(calls: object) -> Iterator[MissionCall]:
    if isinstance(calls, (str, bytes)) or not isinstance(calls, Iterable):
        raise InvalidValueError(f"calls: expected an iterable of MissionCall, got {type(calls).__name__}")
    for index, call in enumerate(calls):
        if not isinstance(call, MissionCall):
            raise InvalidValueError(f"calls[{index}]: expected a MissionCall, got {type(call).__name__}")
        yield call


def _positive(name: str, value: object) -> int:
    if type(value) is not int or value < 1:
        raise InvalidValueError(f"{name}: expected an int >= 1, got {brief_repr(value)}")
    return value


def _call_error(index: int, call: MissionCall, error: ChainError) -> CallError:
    return CallError(index, call.mission, error.error_type, error.message)


def _run_here(index: int, call: MissionCall, policy: Policy) -> tuple[Outcome, BaseException | None]:
    try:
        return run_call(call, policy=policy), None
    except Exception as exc:  # a call that cannot run is data for the batch, never the end of it
        return _call_error(index, call, ChainError.of(exc)), exc


@attrs.frozen
class _Task:
    """Consecutive calls sent to the executor as one task: `start` is the index of the first."""

    start: int
    calls: tuple[MissionCall, ...]
    submitted: Submitted

    @property
    def future(self) -> concurrent.futures.Future[Any]:
        return self.submitted.future

    def outcomes(self) -> list[tuple[int, Outcome]]:
        read = self.submitted.outcomes()
        slots: list[tuple[int, Outcome]] = []
        for offset, (call, outcome) in enumerate(zip(self.calls, read)):
            index = self.start + offset
            slots.append((index, _call_error(index, call, outcome) if isinstance(outcome, ChainError) else outcome[0]))
        return slots


def _tasks(
    calls: Iterator[MissionCall], executor: concurrent.futures.Executor, chunksize: int, policy: Policy
) -> Iterator[_Task]:
    start = 0
    while True:
        group = tuple(itertools.islice(calls, chunksize))
        if not group:
            return
        chains = [(call.state, [call]) for call in group]
        yield _Task(start, group, submit_chains(executor, chains, policy))
        start += len(group)


def _pipeline(
    calls: Iterable[MissionCall],
    executor: concurrent.futures.Executor,
    chunksize: int,
    policy: Policy,
    window: int,
    *,
    ordered: bool,
) -> Iterator[tuple[int, Outcome]]:
    """Outcomes of every call, with at most `window` tasks in flight: in call order, or as they complete."""
    tasks = _tasks(_checked(calls), executor, chunksize, policy)
    pending: deque[_Task] = deque()
    try:
        pending.extend(itertools.islice(tasks, window))
        while pending:
            if ordered:
                done = pending.popleft()
            else:
                finished, _ = concurrent.futures.wait([task.future for task in pending], return_when="FIRST_COMPLETED")
                done = next(task for task in pending if task.future in finished)
                pending.remove(done)
            yield from done.outcomes()
            pending.extend(itertools.islice(tasks, 1))
    finally:
        for task in pending:
            task.future.cancel()


def run_as_completed(
    calls: Iterable[MissionCall],
    executor: concurrent.futures.Executor | None = None,
    *,
    chunksize: int = 1,
    policy: Policy = TIER2_POLICY,
    window: int = DEFAULT_WINDOW,
) -> Iterator[tuple[int, Outcome]]:
    """Yield `(index, result or CallError)` for every call as it completes (in call order when `executor` is None).

    Each index comes exactly once; nothing raises for a call that cannot
    run. Closing the iterator early cancels the calls not yet started.
    `chunksize` calls go to a worker as one task (fewer round trips); at
    most `window` tasks are in flight.
    """
    return _outcomes(calls, executor, chunksize, policy, window, ordered=False)


def run_in_order(
    calls: Iterable[MissionCall],
    executor: concurrent.futures.Executor | None = None,
    *,
    chunksize: int = 1,
    policy: Policy = TIER2_POLICY,
    window: int = DEFAULT_WINDOW,
) -> Iterator[tuple[int, Outcome]]:
    """Yield `(index, result or CallError)` for every call in call order, each as soon as it and those before it are done.

    What `run_many` returns, streamed: memory for a window of calls (at most
    `window` tasks of `chunksize` calls in flight), however many calls the
    iterable yields. Nothing raises for a call that cannot run; closing the
    iterator early cancels the calls not yet started.
    """
    return _outcomes(calls, executor, chunksize, policy, window, ordered=True)


def _outcomes(
    calls: Iterable[MissionCall],
    executor: concurrent.futures.Executor | None,
    chunksize: int,
    policy: Policy,
    window: int,
    *,
    ordered: bool,
) -> Iterator[tuple[int, Outcome]]:
    check_arguments(executor, policy)
    size, ahead = _positive("chunksize", chunksize), _positive("window", window)
    if in_memory(executor):  # missions are looked up here; a worker process discovers its own
        discover_missions()
    if executor is None:
        return ((index, _run_here(index, call, policy)[0]) for index, call in enumerate(_checked(calls)))
    return _pipeline(calls, executor, size, policy, ahead, ordered=ordered)


@overload
def run_many(
    calls: Iterable[MissionCall],
    executor: concurrent.futures.Executor | None = None,
    *,
    errors: Literal["raise"] = "raise",
    chunksize: int = 1,
    policy: Policy = TIER2_POLICY,
    window: int = DEFAULT_WINDOW,
) -> list[OrchestrationResult]: ...


@overload
def run_many(
    calls: Iterable[MissionCall],
    executor: concurrent.futures.Executor | None = None,
    *,
    errors: Literal["return"],
    chunksize: int = 1,
    policy: Policy = TIER2_POLICY,
    window: int = DEFAULT_WINDOW,
) -> list[Outcome]: ...


def run_many(
    calls: Iterable[MissionCall],
    executor: concurrent.futures.Executor | None = None,
    *,
    errors: Literal["raise", "return"] = "raise",
    chunksize: int = 1,
    policy: Policy = TIER2_POLICY,
    window: int = DEFAULT_WINDOW,
) -> list[OrchestrationResult] | list[Outcome]:
    """Run independent mission calls, in-process or over `executor`; one result per call, in call order.

    `to_dict()` of every result is the same whatever the executor. A call
    that cannot run raises `BatchError` (`errors="raise"`, the first in call
    order; calls not yet started are cancelled) or takes its slot as a
    `CallError` (`errors="return"`). A mission that fails is a failed result,
    never an error. `chunksize` calls go to a worker as one task; at most
    `window` tasks are in flight.
    """
    if errors not in ERRORS:
        raise InvalidValueError(f"errors: expected one of {list(ERRORS)}, got {brief_repr(errors)}")
    check_arguments(executor, policy)
    size, ahead = _positive("chunksize", chunksize), _positive("window", window)
    listed = list(_checked(calls)) if isinstance(calls, (list, tuple)) else calls  # checked before anything runs
    if in_memory(executor):  # missions are looked up here; a worker process discovers its own
        discover_missions()
    results: list[Outcome] = []
    if executor is None:
        for index, call in enumerate(_checked(listed)):
            outcome, cause = _run_here(index, call, policy)
            if isinstance(outcome, CallError) and errors == "raise":
                raise BatchError(outcome) from cause
            results.append(outcome)
        return results
    for _, outcome in _pipeline(listed, executor, size, policy, ahead, ordered=True):
        if isinstance(outcome, CallError) and errors == "raise":
            raise BatchError(outcome)
        results.append(outcome)
    return results
