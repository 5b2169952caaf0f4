"""The one worker protocol of `run_many` and `run_suite`: chains of mission calls, run where an executor puts them.

A *chain* is an initial state and mission calls run in order, each from the
final state of the one before, stopping at the first that does not
complete (a `run_many` call is a chain of one; a scenario is a chain).

- In this process (`executor=None`) or on a thread pool, a chain runs as
  `run_chain` and its results are returned as they are: nothing is encoded.
- On any other executor (a process pool, Dask) the chains go to the
  module-level `work` as they are (the executor pickles the frozen values),
  and each result comes back packed (`stepfold.transfer.pack`): what the
  run made, not what the caller already holds, as the bytes
  `transfer.dumps` writes (its frozen values unpickle untracked). The caller rebuilds it from
  its own initial state, inputs and policy and checks it by its head
  (`stepfold.transfer.unpack`); a result that does not check is that
  chain's error. This is the one place that decides how results cross a
  process boundary.

Missions are looked up by name where the chain runs: a worker calls
`discover_missions()` once per process, so missions from installed packages
(entry points) are found by every executor; a mission registered at run time
exists only in the process that registered it (and processes forked from it).
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Sequence
from typing import Any

import attrs

from stepfold.errors import InvalidValueError, StepfoldError
from stepfold.lineage import COMPLETED
from stepfold.mission_call import MissionCall
from stepfold.plugins import discover_missions
from stepfold.policy import Policy
from stepfold.registry import run_mission
from stepfold.result import OrchestrationResult
from stepfold.state import State
from stepfold.transfer import TRANSFER_FORMAT, TransferError, dumps, loads, pack, unpack
from stepfold.values import Params
from stepfold.workflow import ExecutionContext

__all__ = [
    "check_arguments",
    "Chain",
    "ChainError",
    "run_chain",
    "run_here",
    "Task",
    "task_of",
    "work",
    "read_outcome",
    "in_memory",
    "Submitted",
    "submit_chains",
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


def run_chain(state: State, calls: Sequence[MissionCall], policy: Policy) -> list[OrchestrationResult]:
    """Run the calls in order from `state`, each from the previous one's final state, until one does not complete.

    Raises what `run_mission` raises for a call that cannot run.
    """
    results: list[OrchestrationResult] = []
    current = state
    for call in calls:
        result = run_mission(call.mission, ExecutionContext(current, call.inputs), call.params, policy=policy)
        results.append(result)
        if result.status != COMPLETED:
            break
        current = result.final_state
    return results


_discovered = False

Chain = tuple[State, Sequence[MissionCall]]
"""A chain: its initial state and the calls to run in order from it."""


Task = tuple[str, tuple[State, ...], tuple[tuple[int, tuple[tuple[str, Params, Params], ...]], ...], Policy]
"""What one task sends to a worker: `(transfer format, states, chains, policy)`; a chain is `(index of its state, calls)`
and a call `(mission, params, inputs)`. Each distinct state (by digest) is sent once per task, however many calls share it."""


def task_of(chains: Sequence[Chain], policy: Policy) -> Task:
    """The task that runs `chains` under `policy` in a worker."""
    states: list[State] = []
    slots: dict[str, int] = {}
    wire: list[tuple[int, tuple[tuple[str, Params, Params], ...]]] = []
    for state, calls in chains:
        slot = slots.setdefault(state.digest, len(states))
        if slot == len(states):
            states.append(state)
        wire.append((slot, tuple((call.mission, call.params, call.inputs) for call in calls)))
    return (TRANSFER_FORMAT, tuple(states), tuple(wire), policy)


def work(task: Task) -> bytes:
    """Worker entry point: run each chain of the task; one outcome per chain, its results packed, as the bytes
    `transfer.dumps` writes of the list (`transfer.loads` reads it back).

    An outcome is `("results", packed, ...)` or `("error", error_type, message)`.
    """
    return dumps(_outcomes(task))


def _outcomes(task: Task) -> list[tuple[object, ...]]:
    global _discovered
    transfer_format, states, chains, policy = task
    try:
        if transfer_format != TRANSFER_FORMAT:
            raise StepfoldError(
                f"this worker speaks {TRANSFER_FORMAT!r}, its caller {transfer_format!r}: "
                "install the same stepfold version on both sides"
            )
        if not _discovered:
            discover_missions()
            _discovered = True
    except Exception as exc:  # a broken plugin fails every chain of this task, by name
        failed = ChainError.of(exc)
        return [("error", failed.error_type, failed.message) for _ in chains]
    outcomes: list[tuple[object, ...]] = []
    for slot, calls in chains:
        try:
            chain = [MissionCall(mission, params, None, inputs) for mission, params, inputs in calls]
            outcomes.append(("results", *(pack(result) for result in run_chain(states[slot], chain, policy))))
        except Exception as exc:  # reported in the chain's slot
            failed = ChainError.of(exc)
            outcomes.append(("error", failed.error_type, failed.message))
    return outcomes


def read_outcome(outcome: object, chain: Chain, policy: Policy) -> list[OrchestrationResult] | ChainError:
    """A worker's outcome for one chain, rebuilt here from the chain's own state and calls, and checked by its heads."""
    if isinstance(outcome, tuple) and outcome[:1] == ("error",) and len(outcome) == 3:
        return ChainError(str(outcome[1]), str(outcome[2]))
    if not isinstance(outcome, tuple) or outcome[:1] != ("results",) or len(outcome) - 1 > len(chain[1]):
        return ChainError("TransferError", f"the worker returned {type(outcome).__name__}, not a chain's outcome")
    results: list[OrchestrationResult] = []
    state = chain[0]
    try:
        for packed, call in zip(outcome[1:], chain[1]):
            result = unpack(packed, ExecutionContext(state, call.inputs), policy)
            results.append(result)
            state = result.final_state
    except TransferError as exc:
        return ChainError.of(exc)
    return results


def in_memory(executor: concurrent.futures.Executor | None) -> bool:
    """True when results need not cross a process boundary: no executor, or a thread pool."""
    return executor is None or isinstance(executor, concurrent.futures.ThreadPoolExecutor)


def run_here(chains: Sequence[Chain], policy: Policy) -> list[list[OrchestrationResult] | ChainError]:
    """Run chains in this process (what `executor=None` and thread pools do): results as objects, errors in their slots."""
    outcomes: list[list[OrchestrationResult] | ChainError] = []
    for state, calls in chains:
        try:
            outcomes.append(run_chain(state, calls, policy))
        except Exception as exc:  # reported in the chain's slot
            outcomes.append(ChainError.of(exc))
    return outcomes


@attrs.frozen
class Submitted:
    """Chains submitted as one task: `outcomes()` waits for it and gives one outcome per chain, in order."""

    chains: tuple[Chain, ...]
    policy: Policy
    future: concurrent.futures.Future[Any]
    packed: bool
    """True when the results come back packed (another process); False when they are the objects themselves."""

    def outcomes(self) -> list[list[OrchestrationResult] | ChainError]:
        """One outcome per chain; a task that failed (a dead worker) is each chain's error."""
        try:
            returned = self.future.result()
            if self.packed:
                returned = loads(returned)
            if not isinstance(returned, list) or len(returned) != len(self.chains):
                raise StepfoldError(f"the worker returned {type(returned).__name__}, not one outcome per chain")
        except Exception as exc:  # e.g. BrokenProcessPool, a Dask KilledWorker: the chains' slots say so
            return [ChainError.of(exc) for _ in self.chains]
        if not self.packed:
            return returned
        return [read_outcome(outcome, chain, self.policy) for outcome, chain in zip(returned, self.chains)]

    def cancel(self) -> None:
        """Cancel the task if it has not started."""
        self.future.cancel()


def check_arguments(executor: object, policy: object) -> None:
    """Refuse, before any call runs, an executor that cannot take tasks and a policy that is not one."""
    if executor is not None and not callable(getattr(executor, "submit", None)):
        raise InvalidValueError(
            f"executor: expected None or an executor with submit (a concurrent.futures.Executor, a Dask client's "
            f"get_executor()), got {type(executor).__name__}"
        )
    if not isinstance(policy, Policy):
        raise InvalidValueError(f"policy: expected a Policy, got {type(policy).__name__}")


def submit_chains(executor: concurrent.futures.Executor, chains: Sequence[Chain], policy: Policy) -> Submitted:
    """Submit chains as one task: run as objects on a thread pool, packed anywhere else."""
    frozen = tuple((state, tuple(calls)) for state, calls in chains)
    if in_memory(executor):
        return Submitted(frozen, policy, executor.submit(run_here, frozen, policy), packed=False)
    return Submitted(frozen, policy, executor.submit(work, task_of(frozen, policy)), packed=True)
