"""The one worker protocol of `run_many` and `run_suite`: chains of mission calls, run where an executor puts them.

A *chain* is an initial state and mission calls run in order, each from the
final state of the one before, stopping at the first that does not
complete (a `run_many` call is a chain of one; a scenario is a chain).

- In this process (`executor=None`) or on a thread pool, a chain runs as
  `run_chain` and its results are returned as they are: nothing is encoded.
- On any other executor (a process pool, Dask) only plain data crosses: the
  chain as `chain_document(...)` goes to the module-level `work`, which
  returns one plain outcome per chain; the caller reads it back with
  `read_outcome`. This is the one place that decides how results cross a
  process boundary.

Missions are looked up by name where the chain runs: a worker calls
`discover_missions()` once per process, so missions from installed packages
(entry points) are found by every executor; a mission registered at run time
exists only in the process that registered it (and processes forked from it).
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Mapping, Sequence

import attrs

from stepfold.errors import StepfoldError
from stepfold.lineage import COMPLETED
from stepfold.mission_call import MissionCall
from stepfold.plugins import discover_missions
from stepfold.policy import Policy
from stepfold.registry import run_mission
from stepfold.result import OrchestrationResult
from stepfold.values import thaw
from stepfold.workflow import ExecutionContext

__all__ = [
    "ChainError",
    "run_chain",
    "run_here",
    "chain_document",
    "work",
    "read_outcome",
    "in_memory",
    "submit_chain",
    "chain_results",
]


@attrs.frozen
class ChainError:
    """Why a chain could not run: the error's type name and its one-line message (the results before it are dropped)."""

    error_type: str
    message: str

    @classmethod
    def of(cls, exc: BaseException) -> ChainError:
        """The error `exc` is, as one line."""
        return cls(type(exc).__name__, " ".join(str(exc).split()) or "(no message)")


def run_chain(state: Mapping[str, object], calls: Sequence[MissionCall], policy: Policy) -> list[OrchestrationResult]:
    """Run the calls in order from `state`, each from the previous one's final state, until one does not complete.

    Raises what `run_mission` raises for a call that cannot run.
    """
    results: list[OrchestrationResult] = []
    current: Mapping[str, object] = state
    for call in calls:
        result = run_mission(call.mission, ExecutionContext(current, call.inputs), call.params, policy=policy)
        results.append(result)
        if result.status != COMPLETED:
            break
        current = result.final_state
    return results


def chain_document(state: Mapping[str, object], calls: Sequence[MissionCall]) -> dict[str, object]:
    """A chain as plain data, for a worker in another process: `{"state", "calls": [MissionCall.to_dict(), ...]}`."""
    return {"calls": [call.to_dict() for call in calls], "state": thaw(state) if state else {}}


_discovered = False


def work(chains: Sequence[Mapping[str, object]], policy: Mapping[str, object]) -> list[dict[str, object]]:
    """Worker entry point: run each chain document under the policy document; one plain outcome per chain.

    An outcome is `{"results": [to_dict(), ...]}` or `{"error_type", "message"}`.
    Nothing but plain data goes in or out.
    """
    global _discovered
    try:
        if not _discovered:
            discover_missions()
            _discovered = True
        limits = Policy.from_dict(policy)
    except Exception as exc:  # a broken plugin fails every chain of this task, by name
        return [_error_document(ChainError.of(exc)) for _ in chains]
    outcomes: list[dict[str, object]] = []
    for chain in chains:
        try:
            calls = [MissionCall.from_dict(call) for call in chain["calls"]]  # type: ignore[attr-defined]
            state = chain["state"]
            assert isinstance(state, Mapping)
            outcomes.append({"results": [result.to_dict() for result in run_chain(state, calls, limits)]})
        except Exception as exc:  # reported in the chain's slot
            outcomes.append(_error_document(ChainError.of(exc)))
    return outcomes


def _error_document(error: ChainError) -> dict[str, object]:
    return {"error_type": error.error_type, "message": error.message}


def read_outcome(document: object) -> list[OrchestrationResult] | ChainError:
    """A worker's outcome for one chain, read back: its results (each checked by `from_dict`), or why it could not run."""
    if isinstance(document, Mapping) and isinstance(document.get("results"), list):
        try:
            return [OrchestrationResult.from_dict(result) for result in document["results"]]
        except Exception as exc:  # a document that does not read back is that chain's error
            return ChainError.of(exc)
    if isinstance(document, Mapping) and isinstance(document.get("error_type"), str):
        return ChainError(str(document["error_type"]), str(document.get("message")))
    return ChainError("StepfoldError", f"the worker returned {type(document).__name__}, not an outcome")


def in_memory(executor: concurrent.futures.Executor | None) -> bool:
    """True when results need not cross a process boundary: no executor, or a thread pool."""
    return executor is None or isinstance(executor, concurrent.futures.ThreadPoolExecutor)


def run_here(
    chains: Sequence[tuple[Mapping[str, object], Sequence[MissionCall]]], policy: Policy
) -> list[list[OrchestrationResult] | ChainError]:
    """Run chains in this process (what `executor=None` and thread pools do): results as objects, errors in their slots."""
    outcomes: list[list[OrchestrationResult] | ChainError] = []
    for state, calls in chains:
        try:
            outcomes.append(run_chain(state, calls, policy))
        except Exception as exc:  # reported in the chain's slot
            outcomes.append(ChainError.of(exc))
    return outcomes


def submit_chain(
    executor: concurrent.futures.Executor,
    chains: Sequence[tuple[Mapping[str, object], Sequence[MissionCall]]],
    policy: Policy,
) -> (
    concurrent.futures.Future[list[dict[str, object]]]
    | concurrent.futures.Future[list[list[OrchestrationResult] | ChainError]]
):
    """Submit chains as one task: as objects on a thread pool, as plain documents anywhere else."""
    if in_memory(executor):
        return executor.submit(run_here, chains, policy)
    documents = [chain_document(state, calls) for state, calls in chains]
    return executor.submit(work, documents, policy.to_dict())


def chain_results(
    future: concurrent.futures.Future[list[dict[str, object]]]
    | concurrent.futures.Future[list[list[OrchestrationResult] | ChainError]],
    count: int,
) -> list[list[OrchestrationResult] | ChainError]:
    """The outcomes of a submitted task, one per chain; a task that failed (a dead worker) is each chain's error."""
    try:
        returned = future.result()
        if not isinstance(returned, list) or len(returned) != count:
            raise StepfoldError(f"the worker returned {type(returned).__name__}, not one outcome per chain")
    except Exception as exc:  # e.g. BrokenProcessPool, a Dask KilledWorker: the chains' slots say so
        return [ChainError.of(exc) for _ in range(count)]
    return [item if isinstance(item, (list, ChainError)) else read_outcome(item) for item in returned]
