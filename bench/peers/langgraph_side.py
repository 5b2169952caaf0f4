"""LangGraph's side of the peer benchmark.

Used the way LangGraph's documentation shows it:

- a `StateGraph` over a `TypedDict` state whose collection fields have
  reducers (`Annotated[dict, merge_records]` for the S records,
  `Annotated[list, operator.add]` for the log), four nodes returning partial
  updates, compiled once with `checkpointer=InMemorySaver()`;
- every run is `graph.invoke(input, {"configurable": {"thread_id": ...}})` on
  its own thread, with the default durability (`"async"`: a checkpoint after
  every superstep, written in the background); the thread's checkpoints are
  the history (`graph.get_state_history`);
- the run's values travel in the input state (`plan`), so they are
  checkpointed with the run, as stepfold's lineage records its steps;
- the long run loops in one invocation (`append` -> `set_record` until the
  plan is done) with `recursion_limit` raised to cover its supersteps.

`InMemorySaver` serialises each changed channel with its serde
(msgpack) into a blob per channel version; a channel that did not change
in a superstep is not written again. The records channel changes once per
cycle (the `set` step), so each cycle stores one full copy of the S
records, plus the input's copy when a thread starts. LangGraph documents
`InMemorySaver` for debugging and testing; its production savers
(PostgreSQL, SQLite) write the same serialised blobs and add I/O.

The peer packages are imported through `importlib` so that this module
type-checks the same whether or not they are installed.
"""

from __future__ import annotations

import importlib
import operator
from collections.abc import Callable, Mapping, Sequence
from typing import Annotated, Any, TypedDict

from bench.peers.common import (
    DAILY_DATE,
    DAILY_INPUT,
    Capability,
    DailyOutcome,
    Plan,
    RunSummary,
    daily_confirm,
    daily_log_entry,
    daily_priorities,
    daily_summary,
    initial_extras,
)

__all__ = ["PACKAGES", "LangGraphSide", "available"]

PACKAGES = ("langgraph", "langgraph-checkpoint", "langchain-core", "ormsgpack")
"""The distributions whose versions the report prints (LangGraph and what its checkpoints go through)."""


def available() -> bool:
    """True when `langgraph` can be imported."""
    try:
        importlib.import_module("langgraph.graph")
        importlib.import_module("langgraph.checkpoint.memory")
    except ImportError:
        return False
    return True


def merge_records(current: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    """The records channel's reducer: a new dict with the update's records written over the current ones."""
    return {**current, **update}


class BenchState(TypedDict, total=False):
    """The benchmark's state: S records in one reducer channel, plus the bookkeeping keys and the run's plan."""

    records: Annotated[dict[str, Any], merge_records]
    counter: int
    log: Annotated[list[Any], operator.add]
    last_run: int
    last_label: str
    flags: dict[str, Any]
    plan: list[dict[str, Any]]


class DailyState(TypedDict, total=False):
    """The daily loop's state."""

    tasks: list[dict[str, Any]]
    journal: list[dict[str, Any]]
    date: str
    decision: dict[str, Any]
    summary: dict[str, Any]
    priorities: list[Any]
    confirmed_priorities: list[Any]
    log: Annotated[list[Any], operator.add]


def _params(state: BenchState) -> dict[str, Any]:
    # The cycle number is the number of log entries appended so far (the log starts with one).
    return state["plan"][len(state["log"]) - 1]


def _set_record(state: BenchState) -> dict[str, Any]:
    params = _params(state)
    return {"records": {params["key"]: params["value"]}}


def _increment(state: BenchState) -> dict[str, Any]:
    return {"counter": state["counter"] + _params(state)["by"]}


def _merge(state: BenchState) -> dict[str, Any]:
    return dict(_params(state)["values"])


def _append(state: BenchState) -> dict[str, Any]:
    return {"log": [_params(state)["entry"]]}


def _summarise(state: DailyState) -> dict[str, Any]:
    return {"summary": daily_summary(state, state["date"])}


def _prioritise(state: DailyState) -> dict[str, Any]:
    return {"priorities": daily_priorities(state)}


def _confirm(state: DailyState) -> dict[str, Any]:
    return {"confirmed_priorities": daily_confirm(state["priorities"], state["decision"])}


def _log_day(state: DailyState) -> dict[str, Any]:
    return {"log": [daily_log_entry(state["date"], state["summary"], state["confirmed_priorities"])]}


def _plan_dict(plan: Plan) -> dict[str, Any]:
    return {
        "key": plan.key,
        "value": dict(plan.value),
        "by": plan.by,
        "values": dict(plan.values),
        "entry": dict(plan.entry),
    }


class LangGraphSide:
    """LangGraph: one thread per run on a compiled StateGraph; InMemorySaver keeps a checkpoint per superstep."""

    name = "langgraph"
    label = "LangGraph (InMemorySaver)"

    def __init__(self) -> None:
        graph_module: Any = importlib.import_module("langgraph.graph")
        memory: Any = importlib.import_module("langgraph.checkpoint.memory")
        self._graph_module = graph_module
        self._saver_type: Any = memory.InMemorySaver
        self._graph: Any = self._compile(loop=False)
        self._daily: Any = self._compile_daily()
        self._records: Mapping[str, object] = {}
        self._daily_runs = 0

    def _builder(self) -> Any:
        g = self._graph_module
        builder = g.StateGraph(BenchState)
        builder.add_node("set_record", _set_record)
        builder.add_node("increment", _increment)
        builder.add_node("merge", _merge)
        builder.add_node("append", _append)
        builder.add_edge(g.START, "set_record")
        builder.add_edge("set_record", "increment")
        builder.add_edge("increment", "merge")
        builder.add_edge("merge", "append")
        return builder

    def _compile(self, *, loop: bool) -> Any:
        g = self._graph_module
        builder = self._builder()
        if loop:

            def more(state: BenchState) -> str:
                return "set_record" if len(state["log"]) - 1 < len(state["plan"]) else str(g.END)

            builder.add_conditional_edges("append", more, ["set_record", g.END])
        else:
            builder.add_edge("append", g.END)
        return builder.compile(checkpointer=self._saver_type())

    def _compile_daily(self) -> Any:
        g = self._graph_module
        builder = g.StateGraph(DailyState)
        builder.add_node("summarise", _summarise)
        builder.add_node("prioritise", _prioritise)
        builder.add_node("confirm", _confirm)
        builder.add_node("log_day", _log_day)
        builder.add_edge(g.START, "summarise")
        builder.add_edge("summarise", "prioritise")
        builder.add_edge("prioritise", "confirm")
        builder.add_edge("confirm", "log_day")
        builder.add_edge("log_day", g.END)
        return builder.compile(checkpointer=self._saver_type())

    @staticmethod
    def _config(thread_id: str, **extra: object) -> dict[str, Any]:
        return {"configurable": {"thread_id": thread_id}, **extra}

    def setup(self, size: int, records: Mapping[str, object]) -> None:
        """Keep the records; the graph is compiled once."""
        self._records = records

    def prepare(self, plan: Plan) -> Callable[[], object]:
        """The timed call invokes the graph on a new thread with the initial state and the run's plan."""
        graph, records = self._graph, self._records
        thread_id = f"run-{plan.run}"
        config = self._config(thread_id)
        params = _plan_dict(plan)

        def run() -> object:
            graph.invoke({"records": records, **initial_extras(), "plan": [params]}, config)
            return (graph, thread_id)

        return run

    @staticmethod
    def _handle(handle: object) -> tuple[Any, str]:
        assert isinstance(handle, tuple) and len(handle) == 2
        graph: Any = handle[0]
        thread_id = handle[1]
        assert isinstance(thread_id, str)
        return graph, thread_id

    def release(self, handle: object) -> None:
        """Delete the run's thread from the checkpointer (untimed), so runs do not pile up in memory."""
        graph, thread_id = self._handle(handle)
        graph.checkpointer.delete_thread(thread_id)

    def _history(self, graph: Any, thread_id: str) -> list[Any]:
        return list(reversed(list(graph.get_state_history(self._config(thread_id)))))

    def summarise(self, handle: object, plan: Plan) -> RunSummary:
        """Read the thread's checkpoints back with `get_state_history`."""
        graph, thread_id = self._handle(handle)
        history = self._history(graph, thread_id)
        final = graph.get_state(self._config(thread_id)).values
        return RunSummary(
            record=final["records"][plan.key],
            counter=final["counter"],
            log=final["log"],
            last_run=final["last_run"],
            last_label=final["last_label"],
            flags=final["flags"],
            states_kept=len(history),
            counters_in_history=tuple(snapshot.values.get("counter") for snapshot in history),
        )

    def prepare_long(self, size: int, plans: Sequence[Plan]) -> Callable[[], object]:
        """A graph that loops over the plan, on a fresh checkpointer; one invoke runs 4 * len(plans) nodes."""
        graph = self._compile(loop=True)
        state = {"records": self._records, **initial_extras(), "plan": [_plan_dict(plan) for plan in plans]}
        config = self._config("long-run", recursion_limit=4 * len(plans) + 10)

        def run() -> object:
            graph.invoke(state, config)
            return (graph, "long-run")

        return run

    def long_steps(self, handle: object) -> int:
        """The last checkpoint's step number (one node per superstep, the first superstep is step 0).

        Read from the checkpoints' metadata only: `get_state_history` would
        deserialise every checkpoint's full channel values (a copy of the
        100k records each), which the check does not need.
        """
        graph, thread_id = self._handle(handle)
        saver = graph.checkpointer
        steps = [
            saver.serde.loads_typed(metadata)["step"]
            for _checkpoint, metadata, _parent in saver.storage[thread_id][""].values()
        ]
        return max(int(step) for step in steps)

    def _snapshot_at(self, graph: Any, thread_id: str, step: int) -> Any:
        for snapshot in graph.get_state_history(self._config(thread_id)):
            if snapshot.metadata.get("step") == step:
                return snapshot
        raise LookupError(f"no checkpoint at step {step} in thread {thread_id!r}")

    def tamper(self, handle: object, plan: Plan) -> Capability:
        """Overwrite the stored counter blob of the checkpoint after step 2, then read that checkpoint back."""
        graph, thread_id = self._handle(handle)
        saver = graph.checkpointer
        snapshot = self._snapshot_at(graph, thread_id, 2)
        checkpoint = saver.get_tuple(snapshot.config).checkpoint
        version = checkpoint["channel_versions"]["counter"]
        namespace = snapshot.config["configurable"].get("checkpoint_ns", "")
        saver.blobs[(thread_id, namespace, "counter", version)] = saver.serde.dumps_typed(999_999)
        read_back = graph.get_state(snapshot.config).values["counter"]
        detected = read_back != 999_999
        return Capability(
            detected,
            f"overwrote the stored 'counter' blob of the step-2 checkpoint, then get_state(that checkpoint): "
            f"counter={read_back}, no error; checkpoints are keyed by ids and channel versions, "
            "not content hashes (no native tamper evidence)",
        )

    def replay(self, handle: object, plan: Plan) -> Capability:
        """Time travel: `invoke(None, config_of_the_checkpoint_before_step_1)` re-executes the four nodes."""
        graph, thread_id = self._handle(handle)
        recorded = graph.get_state(self._config(thread_id)).values
        start = self._snapshot_at(graph, thread_id, 0)
        before = len(self._history(graph, thread_id))
        again = graph.invoke(None, start.config)
        added = len(self._history(graph, thread_id)) - before
        keys = ("records", "counter", "log", "last_run", "last_label", "flags")
        same = all(again[key] == recorded[key] for key in keys)
        return Capability(
            False,
            "replay is native (time travel: invoke(None, config of the checkpoint before step 1) re-ran the nodes "
            f"as a fork of the thread, adding {added} checkpoints); comparing the replay with the record is left "
            f"to the caller: the benchmark compared the final values itself -> equal={same}",
        )

    def prepare_daily(self, state: Mapping[str, object]) -> Callable[[], object]:
        """The timed call invokes the daily graph on a new thread (decision given up front, as for the others)."""
        self._daily_runs += 1
        thread_id = f"daily-{self._daily_runs}"
        graph = self._daily
        payload = {**state, "date": DAILY_DATE, "decision": dict(DAILY_INPUT), "log": []}

        def run() -> object:
            graph.invoke(payload, self._config(thread_id))
            return (graph, thread_id)

        return run

    def daily_outcome(self, handle: object) -> DailyOutcome:
        """The daily loop's outputs from the thread's latest checkpoint."""
        graph, thread_id = self._handle(handle)
        final = graph.get_state(self._config(thread_id)).values
        return DailyOutcome(final["summary"], final["priorities"], final["confirmed_priorities"], final["log"])
