"""`run_many`: independent mission calls over any `concurrent.futures.Executor`, results in call order.

Where the calls run is the caller's choice, and nothing else changes with it:

- `executor=None`: here, one after another;
- a `ThreadPoolExecutor` or a `ProcessPoolExecutor`;
- a Dask cluster, through `distributed.Client(...).get_executor()`.

Whatever the executor, the results come back in call order and their
`to_dict()` documents are identical. Only plain data crosses to a worker:
each call as `MissionCall.to_dict()` (mission name, params, state, inputs as
plain JSON) goes to the module-level `_run_chunk`, which returns each result
as its `to_dict()` document; the caller rebuilds it with
`OrchestrationResult.from_dict` (which re-checks it), so a worker needs
nothing but stepfold and the missions' packages installed.

Missions are looked up by name where the call runs: `discover_missions()`
is called there first, so missions from installed packages (the
`stepfold.missions` entry points) are found by every executor. A mission
registered at run time with `register_mission` exists only in the process
that registered it (and in processes forked from it): a worker started
afresh (Dask, or a pool with the `spawn` or `forkserver` start method) does
not see it. Register such missions through an entry point, or at import of a
module the workers import (e.g. a `ProcessPoolExecutor(initializer=...)`).

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
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Literal, TypeAlias, overload

import attrs

from stepfold.errors import InvalidValueError, StepfoldError
from stepfold.messages import brief_repr
from stepfold.plugins import discover_missions
from stepfold.policy import TIER2_POLICY, Policy
from stepfold.registry import run_mission
from stepfold.result import OrchestrationResult
from stepfold.values import Params, freeze_map, freeze_params, thaw
from stepfold.workflow import ExecutionContext

__all__ = [
    "MissionCall",
    "CallError",
    "BatchError",
    "Outcome",
    "ERRORS",
    "run_call",
    "run_many",
    "run_as_completed",
]

ERRORS = ("raise", "return")
"""What `run_many` does with a call that cannot run: raise a `BatchError`, or return a `CallError` in its slot."""

_CALL_KEYS = ("mission", "params", "state", "inputs")


def _mission_name(value: object) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidValueError(f"mission: expected a non-empty mission name, got {brief_repr(value)}")
    return value


def _freeze_state(value: object) -> Params:
    return freeze_map({} if value is None else value, path="state")


def _freeze_inputs(value: object) -> Params:
    return freeze_map({} if value is None else value, path="inputs")


@attrs.frozen
class MissionCall:
    """One mission to run: its registered name, params, initial state and human inputs (all frozen on construction).

    Values outside the I-JSON domain raise `InvalidValueError` naming the
    path (`state.tasks[3].due: nan is not allowed`); whether the mission
    exists, and accepts these params and inputs, is decided when it runs.
    """

    mission: str = attrs.field(converter=_mission_name)
    params: Params = attrs.field(factory=dict, converter=freeze_params)
    state: Params = attrs.field(factory=dict, converter=_freeze_state)
    inputs: Params = attrs.field(factory=dict, converter=_freeze_inputs)

    def to_dict(self) -> dict[str, object]:
        """Plain JSON data: `{"inputs", "mission", "params", "state"}`, keys sorted at every level."""
        return {
            "inputs": thaw(self.inputs),
            "mission": self.mission,
            "params": thaw(self.params),
            "state": thaw(self.state),
        }

    @classmethod
    def from_dict(cls, document: object) -> MissionCall:
        """The call a `{"mission", "params"?, "state"?, "inputs"?}` object describes; other keys are refused."""
        if not isinstance(document, Mapping):
            raise InvalidValueError(f"call: expected an object, got {type(document).__name__}")
        extra = sorted(str(key) for key in document if key not in _CALL_KEYS)
        if extra:
            raise InvalidValueError(f"call: unexpected keys {extra}; a call has only {list(_CALL_KEYS)}")
        if "mission" not in document:
            raise InvalidValueError('call: "mission" is missing (the name of a registered mission)')
        return cls(document["mission"], document.get("params"), document.get("state"), document.get("inputs"))


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
    return run_mission(call.mission, ExecutionContext(call.state, call.inputs), call.params, policy=policy)


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or "(no message)"


def _call_error(index: int, call: MissionCall, exc: BaseException) -> CallError:
    return CallError(index, call.mission, type(exc).__name__, _one_line(exc))


def _run_here(index: int, call: MissionCall, policy: Policy) -> tuple[Outcome, BaseException | None]:
    try:
        return run_call(call, policy=policy), None
    except Exception as exc:  # a call that cannot run is data for the batch, never the end of it
        return _call_error(index, call, exc), exc


# Worker side -----------------------------------------------------------------

_discovered = False


def _policy_document(policy: Policy) -> dict[str, object]:
    return {
        "allowed_kinds": sorted(policy.allowed_kinds),
        "max_human_steps": policy.max_human_steps,
        "max_steps": policy.max_steps,
    }


def _run_chunk(calls: Sequence[Mapping[str, object]], policy: Mapping[str, object]) -> list[dict[str, object]]:
    """Worker entry point: run each call document (`MissionCall.to_dict()`) and return one plain outcome per call.

    An outcome is `{"result": to_dict()}` or `{"error_type": ..., "message": ...}`;
    nothing but plain data goes in or out.
    """
    global _discovered
    try:
        if not _discovered:
            discover_missions()
            _discovered = True
        limits = Policy(**policy)  # type: ignore[arg-type]
    except Exception as exc:  # a broken plugin fails every call of this chunk, by name
        return [_error_document(exc) for _ in calls]
    outcomes: list[dict[str, object]] = []
    for document in calls:
        try:
            outcomes.append({"result": run_call(MissionCall.from_dict(document), policy=limits).to_dict()})
        except Exception as exc:  # reported in the call's slot
            outcomes.append(_error_document(exc))
    return outcomes


def _error_document(exc: BaseException) -> dict[str, object]:
    return {"error_type": type(exc).__name__, "message": _one_line(exc)}


# Caller side -----------------------------------------------------------------


@attrs.frozen
class _Chunk:
    """Consecutive calls sent to one worker task: `start` is the index of the first."""

    start: int
    calls: tuple[MissionCall, ...]
    future: concurrent.futures.Future[list[dict[str, object]]]


def _check_calls(calls: Iterable[MissionCall]) -> tuple[MissionCall, ...]:
    listed = tuple(calls)
    for index, call in enumerate(listed):
        if not isinstance(call, MissionCall):
            raise InvalidValueError(f"calls[{index}]: expected a MissionCall, got {type(call).__name__}")
    return listed


def _check_chunksize(chunksize: object) -> int:
    if type(chunksize) is not int or chunksize < 1:
        raise InvalidValueError(f"chunksize: expected an int >= 1, got {brief_repr(chunksize)}")
    return chunksize


def _submit(
    executor: concurrent.futures.Executor, calls: Sequence[MissionCall], chunksize: int, policy: Policy
) -> list[_Chunk]:
    chunks = []
    policy_document = _policy_document(policy)
    try:
        for start in range(0, len(calls), chunksize):
            group = tuple(calls[start : start + chunksize])
            documents = [call.to_dict() for call in group]
            chunks.append(_Chunk(start, group, executor.submit(_run_chunk, documents, policy_document)))
    except BaseException:
        _cancel(chunks)
        raise
    return chunks


def _cancel(chunks: Iterable[_Chunk]) -> None:
    for chunk in chunks:
        chunk.future.cancel()


def _outcomes(chunk: _Chunk) -> list[Outcome]:
    """The chunk's outcomes, rebuilt from plain data; a worker that failed gives a `CallError` per call."""
    try:
        documents = chunk.future.result()
        if not isinstance(documents, list) or len(documents) != len(chunk.calls):
            raise StepfoldError(f"the worker returned {type(documents).__name__}, not one outcome per call")
    except Exception as exc:  # e.g. BrokenProcessPool, a Dask KilledWorker: the calls' slots say so
        return [_call_error(chunk.start + offset, call, exc) for offset, call in enumerate(chunk.calls)]
    outcomes: list[Outcome] = []
    for offset, (call, document) in enumerate(zip(chunk.calls, documents)):
        index = chunk.start + offset
        try:
            if "result" in document:
                outcomes.append(OrchestrationResult.from_dict(document["result"]))  # type: ignore[arg-type]
            else:
                outcomes.append(CallError(index, call.mission, str(document["error_type"]), str(document["message"])))
        except Exception as exc:  # a document that does not read back is that call's error
            outcomes.append(_call_error(index, call, exc))
    return outcomes


def run_as_completed(
    calls: Iterable[MissionCall],
    executor: concurrent.futures.Executor | None = None,
    *,
    chunksize: int = 1,
    policy: Policy = TIER2_POLICY,
) -> Iterator[tuple[int, Outcome]]:
    """Yield `(index, result or CallError)` for every call as it completes (in call order when `executor` is None).

    Each index comes exactly once; nothing raises for a call that cannot
    run. Closing the iterator early cancels the calls not yet started.
    `chunksize` calls go to a worker as one task (fewer round trips).
    """
    listed = _check_calls(calls)
    size = _check_chunksize(chunksize)
    if executor is None:
        discover_missions()
        for index, call in enumerate(listed):
            yield index, _run_here(index, call, policy)[0]
        return
    chunks = _submit(executor, listed, size, policy)
    by_future = {chunk.future: chunk for chunk in chunks}
    try:
        for future in concurrent.futures.as_completed(by_future):
            chunk = by_future[future]
            yield from enumerate(_outcomes(chunk), chunk.start)
    finally:
        _cancel(chunks)


@overload
def run_many(
    calls: Iterable[MissionCall],
    executor: concurrent.futures.Executor | None = None,
    *,
    errors: Literal["raise"] = "raise",
    chunksize: int = 1,
    policy: Policy = TIER2_POLICY,
) -> list[OrchestrationResult]: ...


@overload
def run_many(
    calls: Iterable[MissionCall],
    executor: concurrent.futures.Executor | None = None,
    *,
    errors: Literal["return"],
    chunksize: int = 1,
    policy: Policy = TIER2_POLICY,
) -> list[Outcome]: ...


def run_many(
    calls: Iterable[MissionCall],
    executor: concurrent.futures.Executor | None = None,
    *,
    errors: Literal["raise", "return"] = "raise",
    chunksize: int = 1,
    policy: Policy = TIER2_POLICY,
) -> list[OrchestrationResult] | list[Outcome]:
    """Run independent mission calls, in-process or over `executor`; one result per call, in call order.

    `to_dict()` of every result is the same whatever the executor. A call
    that cannot run raises `BatchError` (`errors="raise"`, the first in call
    order; calls not yet started are cancelled) or takes its slot as a
    `CallError` (`errors="return"`). A mission that fails is a failed result,
    never an error. `chunksize` calls go to a worker as one task.
    """
    if errors not in ERRORS:
        raise InvalidValueError(f"errors: expected one of {list(ERRORS)}, got {brief_repr(errors)}")
    listed = _check_calls(calls)
    size = _check_chunksize(chunksize)
    results: list[Outcome] = []
    if executor is None:
        discover_missions()
        for index, call in enumerate(listed):
            outcome, cause = _run_here(index, call, policy)
            if isinstance(outcome, CallError) and errors == "raise":
                raise BatchError(outcome) from cause
            results.append(outcome)
        return results
    chunks = _submit(executor, listed, size, policy)
    try:
        for chunk in chunks:
            for outcome in _outcomes(chunk):
                if isinstance(outcome, CallError) and errors == "raise":
                    raise BatchError(outcome)
                results.append(outcome)
    finally:
        _cancel(chunks)
    return results
