# mypy: disable-error-code="arg-type, dict-item, list-item"
# (every row passes a deliberately ill-typed argument, as an untyped caller would)
"""The catalogue of refused inputs behind docs/bad-inputs.md: each row is a real call and the tests that prove it.

`python -m tests.bad_input_catalogue` runs every row and rewrites the generated
tables in docs/bad-inputs.md with the exact error each one gives;
`tests/test_bad_inputs.py::test_catalogue` fails when a message drifts from
the document, so the document is always a copy of a real run.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import sqlite3
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import attrs

from stepfold import (
    DEFAULT_OPERATIONS,
    ExecutionContext,
    MissionSpec,
    OrchestrationResult,
    Policy,
    State,
    StateDelta,
    StepfoldError,
    StepSpec,
    Verification,
    WorkflowDefinition,
    build_workflow,
    freeze,
    resume,
    run_mission,
    run_workflow,
    verify,
)
from stepfold.canonical import canonical_json
from stepfold.cli import main
from stepfold.state import MAX_STATE_ENTRIES
from stepfold.store import SQLiteStore
from stepfold.values import MAX_DEPTH, MAX_STRING_LENGTH

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "bad-inputs.md"
BEGIN = "<!-- BEGIN GENERATED: python -m tests.bad_input_catalogue -->"
END = "<!-- END GENERATED -->"
DAILY_STATE = json.loads((ROOT / "examples" / "daily_state.json").read_text(encoding="utf-8"))
APPROVE = 'daily-confirm-priorities={"approved": true}'
CATALOGUE_TEST = "tests/test_bad_inputs.py::test_catalogue"


@attrs.frozen
class CliOutcome:
    """What `stepfold.cli.main` returned and printed."""

    code: int
    out: str
    err: str


@attrs.frozen
class Row:
    """One bad input: where it is given, what it is, the call that gives it, and the tests that prove the answer."""

    id: str
    section: str
    given: str
    call: Callable[[Path], object]
    proved_by: tuple[str, ...] = ()


def cli(*argv: str) -> CliOutcome:
    """Run the command line in-process (in the current folder)."""
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out, err)
    return CliOutcome(code, out.getvalue(), err.getvalue())


def nested_lists(levels: int, leaf: object = None) -> object:
    """`levels` lists, each holding the next; the innermost is empty, or holds `leaf`."""
    node: object = [] if leaf is None else [leaf]
    for _ in range(levels - 1):
        node = [node]
    return node


def _cycle() -> list[object]:
    loop: list[object] = [1]
    loop.append(loop)
    return loop


def _document() -> dict[str, object]:
    """A completed daily-loop run as a `to_dict()` document (through JSON)."""
    result = run_mission(
        "daily_loop",
        ExecutionContext(DAILY_STATE, {"daily-confirm-priorities": {"approved": True}}),
        {"date": "2026-11-24"},
    )
    document: dict[str, object] = json.loads(json.dumps(result.to_dict()))
    return document


def _edited(
    *path: str | int, value: object = None, drop: bool = False, cut: int | None = None
) -> Callable[[Path], object]:
    """`from_dict` of the daily document with one node dropped, replaced or cut short."""

    def call(_folder: Path) -> object:
        document = _document()
        parent: object = document
        for part in path[:-1]:
            parent = parent[part]  # type: ignore[index]
        if drop:
            del parent[path[-1]]  # type: ignore[attr-defined]
        elif cut is not None:
            parent[path[-1]] = parent[path[-1]][:cut]  # type: ignore[index]
        else:
            parent[path[-1]] = value  # type: ignore[index]
        return OrchestrationResult.from_dict(document)

    return call


def _verified(edit: Callable[[dict[str, object]], object]) -> Callable[[Path], object]:
    def call(_folder: Path) -> object:
        document = _document()
        edit(document)
        return verify(document)

    return call


def _seeded(folder: Path) -> tuple[str, str]:
    """A store `store.db` in `folder` with a suspended and a completed daily-loop run; their ids."""
    with SQLiteStore(folder / "store.db") as store:
        suspended = store.save(run_mission("daily_loop", ExecutionContext(DAILY_STATE), {"date": "2026-11-24"}))
        completed = store.save(resume(store.load(suspended), {"daily-confirm-priorities": {"approved": True}}))
    return suspended, completed


def _cli_in(*argv: str, seed: bool = False, files: Mapping[str, str | bytes] | None = None) -> Callable[[Path], object]:
    """The CLI run in `folder`, after seeding `store.db` (placeholders <suspended>, <completed>) and writing files."""

    def call(folder: Path) -> object:
        names = dict(zip(("<suspended>", "<completed>"), _seeded(folder))) if seed else {}
        for name, data in (files or {}).items():
            if isinstance(data, bytes):
                (folder / name).write_bytes(data)
            else:
                (folder / name).write_text(data, encoding="utf-8")
        args = []
        for arg in argv:
            for placeholder, run_id in names.items():
                arg = arg.replace(placeholder, run_id)
            args.append(arg)
        return cli(*args)

    return call


def _damaged_store(damage: Callable[[Path], None], *argv: str) -> Callable[[Path], object]:
    """The CLI on a seeded store after `damage`; `<suspended>` and `<completed>` in `argv` name its runs."""

    def call(folder: Path) -> object:
        names = dict(zip(("<suspended>", "<completed>"), _seeded(folder)))
        damage(folder / "store.db")
        return cli(*(names.get(arg, arg) for arg in argv), "--store", "store.db")

    return call


def _sql(statement: str, *parameters: object) -> Callable[[Path], None]:
    def damage(path: Path) -> None:
        connection = sqlite3.connect(path)
        connection.execute(statement, parameters)
        connection.commit()
        connection.close()

    return damage


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])


def _overwrite_pages(path: Path) -> None:
    connection = sqlite3.connect(path)
    page_size = int(connection.execute("PRAGMA page_size").fetchone()[0])
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()
    data = bytearray(path.read_bytes())
    data[page_size:] = b"\x5a" * (len(data) - page_size)
    path.write_bytes(bytes(data))


def _text_file(path: Path) -> None:
    path.write_text("these are my notes, not a database\n", encoding="utf-8")


def _foreign_sqlite(path: Path) -> None:
    path.unlink()
    connection = sqlite3.connect(path)
    connection.execute("CREATE TABLE notes (body TEXT)")
    connection.commit()
    connection.close()


def deep_json(levels: int) -> str:
    """JSON text of `levels` nested arrays."""
    return "[" * levels + "]" * levels


class LongMapping(Mapping[str, object]):
    """Claims `size` entries without holding them, so a refusal is shown at its real size; the bound must be
    checked before iterating."""

    def __init__(self, size: int) -> None:
        self._size = size

    def __getitem__(self, key: str) -> object:
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        raise AssertionError("the size bound must be checked before iterating")

    def __len__(self) -> int:
        return self._size


class LyingMapping(Mapping[str, object]):
    """Lists the key "a" but raises KeyError looking it up (a buggy user Mapping)."""

    def __getitem__(self, key: str) -> object:
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return iter(["a"])

    def __len__(self) -> int:
        return 1


_NOOP = {"operation": "noop"}
_BUG_HUGE = "tests/test_bad_inputs.py::test_messages_survive_huge_ints"
_BUG_DEEP = "tests/test_bad_inputs.py::test_messages_survive_deeply_nested_arguments"

ROWS: list[Row] = [
    # State values ---------------------------------------------------------------------------------
    Row(
        "state-nan",
        "State values",
        '`ExecutionContext(initial_state={"tasks": [{"due": nan}]})`',
        lambda _: ExecutionContext(initial_state={"tasks": [{"due": math.nan}]}),
        (
            "tests/test_workflow.py::test_execution_context_defaults_and_freezing",
            "tests/test_values.py::test_documented_error_message_for_nan",
        ),
    ),
    Row(
        "state-inf",
        "State values",
        '`State({"x": [0, -inf]})`',
        lambda _: State({"x": [0, -math.inf]}),
        ("tests/test_values.py::test_refusals_say_what_is_wrong",),
    ),
    Row(
        "state-big-int",
        "State values",
        '`State({"x": [2**53]})`',
        lambda _: State({"x": [2**53]}),
        (
            "tests/test_state.py::test_set_of_a_bad_value_names_the_key",
            "tests/test_values.py::test_integer_boundary_is_inclusive",
        ),
    ),
    Row(
        "state-huge-int",
        "State values",
        '`State({"x": 10**5000})`',
        lambda _: State({"x": 10**5000}),
        ("tests/test_limits.py::test_huge_ints_are_refused_by_size_not_digits",),
    ),
    Row(
        "state-lying-mapping",
        "State values",
        "`State(m)`, `m` a Mapping listing a key its lookup raises `KeyError` for",
        lambda _: State(LyingMapping()),
        ("tests/test_values.py::test_a_mapping_whose_lookup_contradicts_its_keys_is_refused_naming_where",),
    ),
    Row(
        "state-set",
        "State values",
        '`State().set("tags", {"a", "b"})`',
        lambda _: State().set("tags", {"a", "b"}),
        ("tests/test_state.py::test_set_of_a_bad_value_names_the_key",),
    ),
    Row(
        "state-bytes",
        "State values",
        '`State().update({"ok": 1, "key": b"bytes"})`',
        lambda _: State().update({"ok": 1, "key": b"bytes"}),
        ("tests/test_state.py::test_set_of_a_bad_value_names_the_key",),
    ),
    Row(
        "state-object",
        "State values",
        '`State({"when": datetime.date(2026, 1, 1)})`',
        lambda _: State({"when": __import__("datetime").date(2026, 1, 1)}),
        ("tests/test_values.py::test_refusals_say_what_is_wrong",),
    ),
    Row(
        "state-surrogate",
        "State values",
        '`State({"note": "ok\\udfffok"})`',
        lambda _: State({"note": "ok\udfffok"}),
        ("tests/test_values.py::test_freeze_refuses_everything_outside_the_domain",),
    ),
    Row(
        "state-int-key",
        "State values",
        '`State({1: "a"})`',
        lambda _: State({1: "a"}),
        ("tests/test_state.py::test_non_string_keys_are_refused",),
    ),
    Row(
        "state-nested-key",
        "State values",
        '`State({"outer": {(1, 2): 1}})`',
        lambda _: State({"outer": {(1, 2): 1}}),
        ("tests/test_values.py::test_non_string_keys_are_refused_naming_the_mapping",),
    ),
    Row(
        "state-surrogate-key",
        "State values",
        '`State().set("\\ud800", 1)`',
        lambda _: State().set("\ud800", 1),
        ("tests/test_state.py::test_non_string_keys_are_refused",),
    ),
    Row(
        "state-cycle",
        "State values",
        '`State({"loop": loop})` where `loop = [1]; loop.append(loop)`',
        lambda _: State({"loop": _cycle()}),
        ("tests/test_values.py::test_cycles_are_refused",),
    ),
    Row(
        "state-deep",
        "State values",
        '`State({"deep": <129 nested lists>})`',
        lambda _: State({"deep": nested_lists(129)}),
        (
            "tests/test_values.py::test_nesting_boundary_is_max_depth_containers",
            "tests/test_limits.py::test_the_deepest_value_works_everywhere",
        ),
    ),
    Row(
        "state-not-mapping",
        "State values",
        "`State(3)`",
        lambda _: State(3),
        ("tests/test_fuzz.py::test_fuzz_state_and_state_delta",),
    ),
    Row(
        "state-string",
        "State values",
        '`State("ab")`',
        lambda _: State("ab"),
        ("tests/test_fuzz.py::test_fuzz_state_and_state_delta",),
    ),
    Row(
        "state-not-pairs",
        "State values",
        '`State([("a",)])`',
        lambda _: State([("a",)]),
        ("tests/test_fuzz.py::test_fuzz_state_and_state_delta",),
    ),
    Row(
        "state-update-not-mapping",
        "State values",
        '`State().update([("a", 1)])`',
        lambda _: State().update([("a", 1)]),
        ("tests/test_fuzz.py::test_fuzz_state_and_state_delta",),
    ),
    Row(
        "delta-set",
        "State values",
        "`StateDelta(set=[1])`",
        lambda _: StateDelta([1]),
        ("tests/test_fuzz.py::test_fuzz_state_and_state_delta",),
    ),
    Row(
        "delta-removed-str",
        "State values",
        '`StateDelta(removed="key")`',
        lambda _: StateDelta({}, "key"),
        ("tests/test_fuzz.py::test_fuzz_state_and_state_delta",),
    ),
    Row(
        "delta-removed-int",
        "State values",
        '`StateDelta(removed=["a", 2])`',
        lambda _: StateDelta({}, ["a", 2]),
        ("tests/test_fuzz.py::test_fuzz_state_and_state_delta",),
    ),
    Row(
        "state-unhashable-pair",
        "State values",
        "`State([([1], 2)])`",
        lambda _: State([([1], 2)]),
        ("tests/test_bad_inputs.py::test_state_refuses_pairs_with_unhashable_keys",),
    ),
    Row(
        "state-remove-unhashable",
        "State values",
        '`State({"a": 1}).remove([])`',
        lambda _: State({"a": 1}).remove([]),
        ("tests/test_bad_inputs.py::test_state_remove_refuses_unhashable_keys",),
    ),
    Row("state-huge-int-key", "State values", "`State({10**5000: 1})`", lambda _: State({10**5000: 1}), (_BUG_HUGE,)),
    # Limits ---------------------------------------------------------------------------------------
    Row(
        "limit-string",
        "Limits",
        '`State({"blob": "x" * (MAX_STRING_LENGTH + 1)})`',
        lambda _: State({"blob": "x" * (MAX_STRING_LENGTH + 1)}),
        ("tests/test_limits.py::test_strings_longer_than_the_limit_are_refused",),
    ),
    Row(
        "limit-key",
        "Limits",
        '`State({"k" * (MAX_STRING_LENGTH + 1): 1})`',
        lambda _: State({"k" * (MAX_STRING_LENGTH + 1): 1}),
        ("tests/test_limits.py::test_strings_longer_than_the_limit_are_refused",),
    ),
    Row(
        "limit-entries",
        "Limits",
        "`State(m)` where `len(m)` is `MAX_STATE_ENTRIES + 1`",
        lambda _: State(LongMapping(MAX_STATE_ENTRIES + 1)),
        ("tests/test_limits.py::test_states_larger_than_the_limit_are_refused",),
    ),
    Row(
        "limit-depth",
        "Limits",
        "`freeze(<MAX_DEPTH + 1 nested lists>)`",
        lambda _: freeze(nested_lists(MAX_DEPTH + 1)),
        ("tests/test_values.py::test_nesting_boundary_is_max_depth_containers",),
    ),
    Row(
        "limit-depth-absurd",
        "Limits",
        "`freeze(<100,000 nested lists>)`",
        lambda _: freeze(nested_lists(100_000)),
        ("tests/test_values.py::test_absurd_nesting_is_refused_not_a_recursion_error",),
    ),
    Row(
        "limit-walk-depth",
        "Limits",
        "`canonical_json(<200 nested lists>)` (data that `freeze` never made)",
        lambda _: canonical_json(nested_lists(200)),
        ("tests/test_limits.py::test_walkers_refuse_data_deeper_than_freeze_makes",),
    ),
    # Payloads -------------------------------------------------------------------------------------
    Row(
        "payload-not-mapping",
        "Payloads",
        '`StepSpec("s", "runtime", [1])`',
        lambda _: StepSpec("s", "runtime", [1]),
        ("tests/test_fuzz.py::test_fuzz_step_spec",),
    ),
    Row(
        "payload-nan",
        "Payloads",
        '`StepSpec("s", "runtime", {"value": nan})`',
        lambda _: StepSpec("s", "runtime", {"value": math.nan}),
        ("tests/test_workflow.py::test_step_spec_refuses_bad_fields_naming_the_step",),
    ),
    Row(
        "payload-operation-int",
        "Payloads",
        '`StepSpec("s", "runtime", {"operation": 3})`',
        lambda _: StepSpec("s", "runtime", {"operation": 3}),
        ("tests/test_workflow.py::test_step_spec_refuses_bad_fields_naming_the_step",),
    ),
    Row(
        "payload-operation-null",
        "Payloads",
        '`StepSpec("s", "runtime", {"operation": None})`',
        lambda _: StepSpec("s", "runtime", {"operation": None}),
        ("tests/test_fuzz.py::test_fuzz_step_spec",),
    ),
    Row(
        "payload-key-int",
        "Payloads",
        '`StepSpec("s", "runtime", {"operation": "set", 1: 2})`',
        lambda _: StepSpec("s", "runtime", {"operation": "set", 1: 2}),
        ("tests/test_fuzz.py::test_fuzz_step_spec",),
    ),
    Row(
        "payload-missing-argument",
        "Payloads",
        '`{"operation": "set"}` (no `key`), run',
        lambda _: run_workflow(WorkflowDefinition(id="w", steps=[StepSpec("s", "runtime", {"operation": "set"})])),
        ("tests/test_operations.py::test_set_without_a_key_fails",),
    ),
    Row(
        "payload-wrong-type",
        "Payloads",
        '`{"operation": "increment", "key": "n", "by": "x"}`, run',
        lambda _: run_workflow(
            WorkflowDefinition(
                id="w", steps=[StepSpec("s", "runtime", {"operation": "increment", "key": "n", "by": "x"})]
            )
        ),
        (
            "tests/test_engine.py::test_failed_step_halts_the_run",
            "tests/test_operations.py::test_increment_by_a_non_number_fails",
        ),
    ),
    Row(
        "payload-overflow",
        "Payloads",
        '`{"operation": "increment", "key": "n", "by": 1}` on `{"n": 2**53 - 1}`, run',
        lambda _: run_workflow(
            WorkflowDefinition(id="w", steps=[StepSpec("s", "runtime", {"operation": "increment", "key": "n"})]),
            ExecutionContext({"n": 2**53 - 1}),
        ),
        ("tests/test_operations.py::test_increment_beyond_the_safe_integers_fails_cleanly",),
    ),
    Row(
        "payload-merge-list",
        "Payloads",
        '`{"operation": "merge", "values": [1]}`, run',
        lambda _: run_workflow(
            WorkflowDefinition(id="w", steps=[StepSpec("s", "runtime", {"operation": "merge", "values": [1]})])
        ),
        ("tests/test_operations.py::test_merge_of_a_non_mapping_fails",),
    ),
    Row(
        "payload-copy-absent",
        "Payloads",
        '`{"operation": "copy", "source": "nope", "target": "t"}`, run',
        lambda _: run_workflow(
            WorkflowDefinition(
                id="w", steps=[StepSpec("s", "runtime", {"operation": "copy", "source": "nope", "target": "t"})]
            )
        ),
        ("tests/test_operations.py::test_copy_from_an_absent_source_fails",),
    ),
    # Params ---------------------------------------------------------------------------------------
    Row(
        "params-not-mapping",
        "Params",
        '`MissionSpec("echo", [1])`',
        lambda _: MissionSpec("echo", [1]),
        ("tests/test_fuzz.py::test_fuzz_mission_spec_and_build_workflow",),
    ),
    Row(
        "params-set",
        "Params",
        '`MissionSpec("echo", {"bad": {1, 2}})`',
        lambda _: MissionSpec("echo", {"bad": {1, 2}}),
        ("tests/test_builder.py::test_mission_spec_refuses_params_outside_the_value_domain",),
    ),
    Row(
        "mission-empty",
        "Params",
        '`MissionSpec("")`',
        lambda _: MissionSpec(""),
        ("tests/test_fuzz.py::test_fuzz_mission_spec_and_build_workflow",),
    ),
    Row(
        "mission-unknown",
        "Params",
        '`build_workflow(MissionSpec("nope"))`',
        lambda _: build_workflow(MissionSpec("nope")),
        ("tests/test_builder.py::test_build_workflow_unknown_type_is_a_value_error_naming_the_known_types",),
    ),
    Row(
        "mission-unknown-run",
        "Params",
        '`run_mission("nope")`',
        lambda _: run_mission("nope"),
        ("tests/test_registry.py::test_run_mission_unknown_name_lists_the_available_names",),
    ),
    Row(
        "spec-not-spec",
        "Params",
        '`build_workflow({"type": "echo"})`',
        lambda _: build_workflow({"type": "echo"}),
        ("tests/test_fuzz.py::test_fuzz_mission_spec_and_build_workflow",),
    ),
    Row(
        "daily-date",
        "Params",
        '`daily_loop` with `{"date": "2026-02-30"}`',
        lambda _: build_workflow(MissionSpec("daily_loop", {"date": "2026-02-30"})),
        ("tests/test_daily_loop.py::test_daily_loop_bad_params_are_refused_before_running",),
    ),
    Row(
        "daily-max",
        "Params",
        '`daily_loop` with `{"max_priorities": true}`',
        lambda _: build_workflow(MissionSpec("daily_loop", {"max_priorities": True})),
        ("tests/test_daily_loop.py::test_daily_loop_bad_params_are_refused_before_running",),
    ),
    Row(
        "echo-key",
        "Params",
        '`echo` with `{"payload_key": 3}`',
        lambda _: build_workflow(MissionSpec("echo", {"payload_key": 3})),
        ("tests/test_fuzz.py::test_fuzz_mission_spec_and_build_workflow",),
    ),
    Row(
        "run-tests-paths",
        "Params",
        '`run_tests` with `{"paths": "tests"}`',
        lambda _: build_workflow(MissionSpec("run_tests", {"paths": "tests"})),
        ("tests/test_fuzz.py::test_fuzz_mission_spec_and_build_workflow",),
    ),
    Row(
        "run-tests-pattern",
        "Params",
        '`run_tests` with `{"pattern": 1}`',
        lambda _: build_workflow(MissionSpec("run_tests", {"pattern": 1})),
        ("tests/test_fuzz.py::test_fuzz_mission_spec_and_build_workflow",),
    ),
    Row(
        "params-too-deep",
        "Params",
        '`daily_loop` with `{"extra": <127 nested lists>}` (kept in `metadata.params`, two levels down)',
        lambda _: build_workflow(MissionSpec("daily_loop", {"extra": nested_lists(127)})),
        ("tests/test_limits.py::test_the_deepest_value_works_everywhere",),
    ),
    Row("mission-huge-int", "Params", "`MissionSpec(10**5000)`", lambda _: MissionSpec(10**5000), (_BUG_HUGE,)),
    # Human inputs ---------------------------------------------------------------------------------
    Row(
        "inputs-not-mapping",
        "Human inputs",
        '`ExecutionContext(inputs=["ask"])`',
        lambda _: ExecutionContext(inputs=["ask"]),
        ("tests/test_fuzz.py::test_fuzz_execution_context",),
    ),
    Row(
        "input-set",
        "Human inputs",
        '`ExecutionContext(inputs={"h": {1}})`',
        lambda _: ExecutionContext(inputs={"h": {1}}),
        ("tests/test_workflow.py::test_execution_context_defaults_and_freezing",),
    ),
    Row(
        "input-unknown-step",
        "Human inputs",
        'an input for `"aks"`, a step the workflow does not have',
        lambda _: run_workflow(
            WorkflowDefinition(id="w", steps=[StepSpec("ask", "human")]), ExecutionContext(inputs={"aks": True})
        ),
        ("tests/test_engine.py::test_unknown_input_step_is_refused_before_running",),
    ),
    Row(
        "input-runtime-step",
        "Human inputs",
        "an input for a runtime step",
        lambda _: run_workflow(
            WorkflowDefinition(id="w", steps=[StepSpec("s", "runtime", _NOOP)]), ExecutionContext(inputs={"s": 1})
        ),
        ("tests/test_engine.py::test_unknown_input_step_is_refused_before_running",),
    ),
    Row(
        "resume-contradicts",
        "Human inputs",
        "`resume` with an input that contradicts the recorded one",
        lambda _: resume(
            run_workflow(
                WorkflowDefinition(id="w", steps=[StepSpec("h1", "human"), StepSpec("h2", "human")]),
                ExecutionContext(inputs={"h1": 1}),
            ),
            {"h1": 2, "h2": 3},
        ),
        ("tests/test_engine.py::test_resume_refuses_to_change_a_recorded_input",),
    ),
    Row(
        "resume-completed",
        "Human inputs",
        "`resume` of a completed run",
        lambda _: resume(run_workflow(WorkflowDefinition(id="w", steps=[StepSpec("a", "runtime", _NOOP)])), {}),
        ("tests/test_engine.py::test_resume_refuses_a_run_that_is_not_suspended",),
    ),
    Row(
        "resume-not-result",
        "Human inputs",
        '`resume({"status": "suspended"}, {})`',
        lambda _: resume({"status": "suspended"}, {}),
        ("tests/test_bad_inputs.py::test_a_refused_resume_leaves_the_suspended_result_as_it_was",),
    ),
    Row(
        "resume-inputs-not-mapping",
        "Human inputs",
        '`resume(suspended, ["yes"])`',
        lambda _: resume(run_workflow(WorkflowDefinition(id="w", steps=[StepSpec("ask", "human")])), ["yes"]),
        ("tests/test_bad_inputs.py::test_a_refused_resume_leaves_the_suspended_result_as_it_was",),
    ),
    Row(
        "daily-confirm-malformed",
        "Human inputs",
        '`daily-confirm-priorities` given `"yes"`',
        lambda _: run_mission("daily_loop", ExecutionContext(DAILY_STATE, {"daily-confirm-priorities": "yes"})),
        ("tests/test_daily_loop.py::test_daily_confirm_refuses_a_malformed_decision",),
    ),
    Row(
        "daily-confirm-both",
        "Human inputs",
        '`daily-confirm-priorities` given `{"approved": false, "priorities": ["t1"]}`',
        lambda _: run_mission(
            "daily_loop",
            ExecutionContext(DAILY_STATE, {"daily-confirm-priorities": {"approved": False, "priorities": ["t1"]}}),
        ),
        ("tests/test_daily_loop.py::test_daily_confirm_refuses_a_decision_of_another_shape_naming_what_is_extra",),
    ),
    Row(
        "daily-confirm-unknown-task",
        "Human inputs",
        '`daily-confirm-priorities` given `{"priorities": ["zz"]}`',
        lambda _: run_mission(
            "daily_loop", ExecutionContext(DAILY_STATE, {"daily-confirm-priorities": {"priorities": ["zz"]}})
        ),
        ("tests/test_daily_loop.py::test_daily_confirm_of_a_task_that_is_not_open_is_refused_naming_it",),
    ),
    # Workflow shapes ------------------------------------------------------------------------------
    Row(
        "wf-duplicate",
        "Workflow shapes",
        "two steps with the id `a`",
        lambda _: WorkflowDefinition(id="w", steps=[StepSpec("a", "runtime", _NOOP), StepSpec("a", "runtime", _NOOP)]),
        ("tests/test_workflow.py::test_workflow_refuses_duplicate_and_empty_step_ids",),
    ),
    Row(
        "wf-empty-id",
        "Workflow shapes",
        'a step with the id `""`',
        lambda _: WorkflowDefinition(id="w", steps=[StepSpec("", "runtime")]),
        ("tests/test_workflow.py::test_workflow_refuses_duplicate_and_empty_step_ids",),
    ),
    Row(
        "wf-int-id",
        "Workflow shapes",
        '`StepSpec(3, "runtime")`',
        lambda _: StepSpec(3, "runtime"),
        ("tests/test_workflow.py::test_step_spec_refuses_bad_fields_naming_the_step",),
    ),
    Row(
        "wf-kind-none",
        "Workflow shapes",
        '`StepSpec("s", None)`',
        lambda _: StepSpec("s", None),
        ("tests/test_workflow.py::test_step_spec_refuses_bad_fields_naming_the_step",),
    ),
    Row(
        "wf-step-not-step",
        "Workflow shapes",
        '`WorkflowDefinition(steps=["a"])`',
        lambda _: WorkflowDefinition(id="w", steps=["a"]),
        ("tests/test_workflow.py::test_workflow_refuses_duplicate_and_empty_step_ids",),
    ),
    Row(
        "wf-steps-string",
        "Workflow shapes",
        '`WorkflowDefinition(steps="ab")`',
        lambda _: WorkflowDefinition(id="w", steps="ab"),
        ("tests/test_workflow.py::test_workflow_refuses_duplicate_and_empty_step_ids",),
    ),
    Row(
        "wf-step-mapping-keys",
        "Workflow shapes",
        '`WorkflowDefinition(steps=[{"id": "a", "type": "runtime"}])`',
        lambda _: WorkflowDefinition(id="w", steps=[{"id": "a", "type": "runtime"}]),
        ("tests/test_fuzz.py::test_fuzz_workflow_definition",),
    ),
    Row(
        "wf-step-mapping-payload",
        "Workflow shapes",
        '`WorkflowDefinition(steps=[{"id": "a", "kind": "runtime", "payload": 1}])`',
        lambda _: WorkflowDefinition(id="w", steps=[{"id": "a", "kind": "runtime", "payload": 1}]),
        ("tests/test_fuzz.py::test_fuzz_workflow_definition",),
    ),
    Row(
        "wf-id-name",
        "Workflow shapes",
        '`WorkflowDefinition(id="a", name="b")`',
        lambda _: WorkflowDefinition(id="a", name="b"),
        ("tests/test_workflow.py::test_workflow_name_is_an_alias_of_id",),
    ),
    Row(
        "wf-id-int",
        "Workflow shapes",
        "`WorkflowDefinition(id=7)`",
        lambda _: WorkflowDefinition(id=7),
        ("tests/test_fuzz.py::test_fuzz_workflow_definition",),
    ),
    Row(
        "wf-metadata",
        "Workflow shapes",
        '`WorkflowDefinition(id="w", metadata=[1])`',
        lambda _: WorkflowDefinition(id="w", metadata=[1]),
        ("tests/test_fuzz.py::test_fuzz_workflow_definition",),
    ),
    Row(
        "wf-unknown-kind",
        "Workflow shapes",
        'a step of kind `"batch"`, run',
        lambda _: run_workflow(WorkflowDefinition(id="w", steps=[StepSpec("x", "batch", _NOOP)])),
        (
            "tests/test_policy.py::test_unknown_kind_and_operation_name_what_is_allowed",
            "tests/test_operations.py::test_a_kind_outside_the_policy_never_runs",
        ),
    ),
    Row(
        "wf-unknown-operation",
        "Workflow shapes",
        'a step naming the operation `"sett"`, run',
        lambda _: run_workflow(WorkflowDefinition(id="w", steps=[StepSpec("x", "runtime", {"operation": "sett"})])),
        ("tests/test_policy.py::test_unknown_kind_and_operation_name_what_is_allowed",),
    ),
    Row(
        "wf-no-operation",
        "Workflow shapes",
        "a runtime step without an operation, run",
        lambda _: run_workflow(WorkflowDefinition(id="w", steps=[StepSpec("x", "runtime")])),
        ("tests/test_policy.py::test_unknown_kind_and_operation_name_what_is_allowed",),
    ),
    Row(
        "wf-too-many",
        "Workflow shapes",
        "6 steps under the default policy, run",
        lambda _: run_workflow(
            WorkflowDefinition(id="w", steps=[StepSpec(f"s{i}", "runtime", _NOOP) for i in range(6)])
        ),
        (
            "tests/test_policy.py::test_limits_are_inclusive",
            "tests/test_engine.py::test_policy_violation_raises_before_any_operation",
        ),
    ),
    Row(
        "wf-too-many-human",
        "Workflow shapes",
        "3 human steps under the default policy, run",
        lambda _: run_workflow(WorkflowDefinition(id="w", steps=[StepSpec(f"h{i}", "human") for i in range(3)])),
        ("tests/test_policy.py::test_limits_are_inclusive",),
    ),
    Row(
        "wf-not-callable",
        "Workflow shapes",
        "an operation table whose `noop` is not callable, run",
        lambda _: run_workflow(
            WorkflowDefinition(id="w", steps=[StepSpec("s", "runtime", _NOOP)]),
            operations=DEFAULT_OPERATIONS.set("noop", 3),
        ),
        ("tests/test_bad_inputs.py::test_run_arguments_are_checked",),
    ),
    Row(
        "run-not-workflow",
        "Workflow shapes",
        '`run_workflow({"id": "w"})`',
        lambda _: run_workflow({"id": "w"}),
        ("tests/test_engine.py::test_bad_arguments_name_what_was_wrong",),
    ),
    Row(
        "run-not-context",
        "Workflow shapes",
        '`run_workflow(workflow, {"a": 1})`',
        lambda _: run_workflow(WorkflowDefinition(id="w"), {"a": 1}),
        ("tests/test_engine.py::test_bad_arguments_name_what_was_wrong",),
    ),
    Row(
        "run-operations",
        "Workflow shapes",
        '`run_workflow(workflow, operations=["noop"])`',
        lambda _: run_workflow(WorkflowDefinition(id="w"), operations=["noop"]),
        ("tests/test_bad_inputs.py::test_run_arguments_are_checked",),
    ),
    Row(
        "run-policy",
        "Workflow shapes",
        '`run_workflow(workflow, policy={"max_steps": 5})`',
        lambda _: run_workflow(WorkflowDefinition(id="w"), policy={"max_steps": 5}),
        ("tests/test_bad_inputs.py::test_run_arguments_are_checked",),
    ),
    Row(
        "wf-mixed-keys",
        "Workflow shapes",
        '`WorkflowDefinition(steps=[{1: 2, "x": 3}])`',
        lambda _: WorkflowDefinition(id="w", steps=[{1: 2, "x": 3}]),
        ("tests/test_bad_inputs.py::test_step_mapping_with_mixed_key_types_is_refused",),
    ),
    Row(
        "wf-operations-mixed-keys",
        "Workflow shapes",
        'an unknown operation, with an operation table keyed `1` and `"noop"`',
        lambda _: run_workflow(
            WorkflowDefinition(id="w", steps=[StepSpec("a", "runtime", {"operation": "zz"})]),
            operations={1: print, "noop": print},
        ),
        ("tests/test_bad_inputs.py::test_unknown_operation_with_an_odd_operation_table_is_refused",),
    ),
    Row(
        "wf-deep-id",
        "Workflow shapes",
        '`StepSpec(<100,000 nested lists>, "runtime")`',
        lambda _: StepSpec(nested_lists(100_000), "runtime"),
        (_BUG_DEEP,),
    ),
    # Policy arguments -----------------------------------------------------------------------------
    Row(
        "policy-negative",
        "Policy arguments",
        "`Policy(max_steps=-1)`",
        lambda _: Policy(max_steps=-1),
        ("tests/test_policy.py::test_policy_refuses_bad_limits",),
    ),
    Row(
        "policy-not-a-policy",
        "Policy arguments",
        '`run_mission("echo", policy="x")`',
        lambda _: run_mission("echo", policy="x"),
        (
            "tests/test_registry.py::"
            "test_the_mission_api_refuses_a_policy_or_table_of_the_wrong_type_before_anything_runs",
        ),
    ),
    Row(
        "policy-past-i-json",
        "Policy arguments",
        "`Policy(max_steps=10**100)`",
        lambda _: Policy(max_steps=10**100),
        ("tests/test_policy.py::test_policy_refuses_bad_limits",),
    ),
    Row(
        "policy-surrogate-kind",
        "Policy arguments",
        '`Policy(allowed_kinds=["runtime", "\\ud800"])`',
        lambda _: Policy(allowed_kinds=["runtime", "\ud800"]),
        ("tests/test_policy.py::test_policy_refuses_allowed_kinds_that_are_not_kind_names",),
    ),
    Row(
        "policy-bool",
        "Policy arguments",
        "`Policy(max_human_steps=True)`",
        lambda _: Policy(max_human_steps=True),
        ("tests/test_policy.py::test_policy_refuses_bad_limits",),
    ),
    Row(
        "policy-float",
        "Policy arguments",
        "`Policy(max_steps=5.0)`",
        lambda _: Policy(max_steps=5.0),
        ("tests/test_fuzz.py::test_fuzz_policy",),
    ),
    Row(
        "policy-kinds-string",
        "Policy arguments",
        '`Policy(allowed_kinds="runtime")`',
        lambda _: Policy(allowed_kinds="runtime"),
        ("tests/test_policy.py::test_policy_refuses_bad_limits",),
    ),
    Row(
        "policy-kinds-int",
        "Policy arguments",
        '`Policy(allowed_kinds=["runtime", 1])`',
        lambda _: Policy(allowed_kinds=["runtime", 1]),
        ("tests/test_fuzz.py::test_fuzz_policy",),
    ),
    Row(
        "policy-kinds-unhashable",
        "Policy arguments",
        '`Policy(allowed_kinds=[["runtime"]])`',
        lambda _: Policy(allowed_kinds=[["runtime"]]),
        ("tests/test_bad_inputs.py::test_policy_refuses_unhashable_kinds",),
    ),
    Row(
        "policy-huge",
        "Policy arguments",
        "`Policy(max_steps=-10**5000)`",
        lambda _: Policy(max_steps=-(10**5000)),
        (_BUG_HUGE,),
    ),
    # from_dict --------------------------------------------------------------------------------------
    Row(
        "doc-not-object",
        "`from_dict` of damaged documents",
        "`from_dict([])`",
        lambda _: OrchestrationResult.from_dict([]),
        ("tests/test_result.py::test_from_dict_refuses_what_is_not_a_document",),
    ),
    Row(
        "doc-no-workflow",
        "`from_dict` of damaged documents",
        "`workflow` dropped",
        _edited("workflow", drop=True),
        ("tests/test_result.py::test_from_dict_refuses_a_damaged_document_naming_the_field",),
    ),
    Row(
        "doc-no-receipt-links",
        "`from_dict` of damaged documents",
        "`receipt.links` dropped",
        _edited("receipt", "links", drop=True),
        ("tests/test_fuzz.py::test_fuzz_from_dict_refuses_only_with_invalid_document_error",),
    ),
    Row(
        "doc-extra-key",
        "`from_dict` of damaged documents",
        "an extra top-level key `note`",
        _edited("note", value="hi"),
        ("tests/test_fuzz.py::test_fuzz_from_dict_refuses_only_with_invalid_document_error",),
    ),
    Row(
        "doc-format",
        "`from_dict` of damaged documents",
        '`format` is `"other/1"`',
        _edited("format", value="other/1"),
        ("tests/test_result.py::test_from_dict_refuses_a_damaged_document_naming_the_field",),
    ),
    Row(
        "doc-entries-cut",
        "`from_dict` of damaged documents",
        "`lineage.entries` cut to 2 of 4",
        _edited("lineage", "entries", cut=2),
        ("tests/test_result.py::test_from_dict_refuses_a_damaged_document_naming_the_field",),
    ),
    Row(
        "doc-steps-cut",
        "`from_dict` of damaged documents",
        "`executed_steps` cut to 3 of 4",
        _edited("executed_steps", cut=3),
        ("tests/test_fuzz.py::test_fuzz_from_dict_refuses_only_with_invalid_document_error",),
    ),
    Row(
        "doc-links-cut",
        "`from_dict` of damaged documents",
        "`receipt.links` cut to 3 of 4",
        _edited("receipt", "links", cut=3),
        ("tests/test_fuzz.py::test_fuzz_from_dict_refuses_only_with_invalid_document_error",),
    ),
    Row(
        "doc-workflow-steps-cut",
        "`from_dict` of damaged documents",
        "`workflow.steps` cut to 3 of 4",
        _edited("workflow", "steps", cut=3),
        ("tests/test_fuzz.py::test_fuzz_from_dict_refuses_only_with_invalid_document_error",),
    ),
    Row(
        "doc-status",
        "`from_dict` of damaged documents",
        '`status` is `"done"`',
        _edited("status", value="done"),
        ("tests/test_result.py::test_from_dict_refuses_a_damaged_document_naming_the_field",),
    ),
    Row(
        "doc-success",
        "`from_dict` of damaged documents",
        "`success` is `0`",
        _edited("success", value=0),
        ("tests/test_result.py::test_from_dict_refuses_a_damaged_document_naming_the_field",),
    ),
    Row(
        "doc-links-type",
        "`from_dict` of damaged documents",
        '`receipt.links` is `"x"`',
        _edited("receipt", "links", value="x"),
        ("tests/test_result.py::test_from_dict_refuses_a_damaged_document_naming_the_field",),
    ),
    Row(
        "doc-state-nan",
        "`from_dict` of damaged documents",
        "`lineage.initial_state` holds a NaN",
        _edited("lineage", "initial_state", value={"x": math.nan}),
        ("tests/test_result.py::test_from_dict_refuses_a_damaged_document_naming_the_field",),
    ),
    Row(
        "doc-final-state",
        "`from_dict` of damaged documents",
        "`final_state` is `{}`",
        _edited("final_state", value={}),
        ("tests/test_result.py::test_from_dict_refuses_a_damaged_document_naming_the_field",),
    ),
    Row(
        "doc-changes-type",
        "`from_dict` of damaged documents",
        "`lineage.entries[0].changes.set` is `[1]`",
        _edited("lineage", "entries", 0, "changes", "set", value=[1]),
        ("tests/test_result.py::test_from_dict_refuses_a_damaged_document_naming_the_field",),
    ),
    Row(
        "doc-changes-both",
        "`from_dict` of damaged documents",
        "`lineage.entries[0].changes` sets and removes the same key",
        _edited("lineage", "entries", 0, "changes", "removed", value=["summary"]),
        ("tests/test_result.py::test_from_dict_refusal_messages_are_exact",),
    ),
    Row(
        "doc-changes-removed-twice",
        "`from_dict` of damaged documents",
        "`lineage.entries[0].changes.removed` lists a key twice",
        _edited("lineage", "entries", 0, "changes", "removed", value=["x", "x"]),
        ("tests/test_delta.py::test_from_dict_refuses_a_document_naming_where_and_what",),
    ),
    Row(
        "doc-step-kind",
        "`from_dict` of damaged documents",
        "`executed_steps[1].kind` is `3`",
        _edited("executed_steps", 1, "kind", value=3),
        ("tests/test_result.py::test_from_dict_refuses_a_damaged_document_naming_the_field",),
    ),
    Row(
        "doc-head",
        "`from_dict` of damaged documents",
        "`receipt.head` is 64 zeros",
        _edited("receipt", "head", value="0" * 64),
        ("tests/test_result.py::test_from_dict_refuses_a_damaged_document_naming_the_field",),
    ),
    Row(
        "doc-deep",
        "`from_dict` of damaged documents",
        "`context.metadata` nested 200 levels",
        _edited("context", "metadata", value={"m": nested_lists(200)}),
        ("tests/test_limits.py::test_from_dict_and_verify_refuse_deep_documents",),
    ),
    Row(
        "doc-huge-id",
        "`from_dict` of damaged documents",
        "`lineage.workflow_id` is `10**5000`",
        _edited("lineage", "workflow_id", value=10**5000),
        (_BUG_HUGE,),
    ),
    Row(
        "doc-deep-id",
        "`from_dict` of damaged documents",
        "`workflow.id` is 100,000 nested lists",
        _edited("workflow", "id", value=nested_lists(100_000)),
        (_BUG_DEEP,),
    ),
    # verify -----------------------------------------------------------------------------------------
    Row(
        "verify-bad-operations",
        "`verify` of junk (never raises)",
        "`verify(doc, operations=[1])` (the caller's argument: raised, not a verdict)",
        lambda _: verify(_document(), operations=[1]),
        ("tests/test_verification.py::test_verify_refuses_arguments_that_are_not_what_it_takes",),
    ),
    Row(
        "verify-junk",
        "`verify` of junk (never raises)",
        '`verify("text")`',
        lambda _: verify("text"),
        ("tests/test_verification.py::test_unreadable_documents_fail_without_raising",),
    ),
    Row(
        "verify-empty",
        "`verify` of junk (never raises)",
        "`verify({})`",
        lambda _: verify({}),
        ("tests/test_verification.py::test_unreadable_documents_fail_without_raising",),
    ),
    Row(
        "verify-link",
        "`verify` of junk (never raises)",
        "a link's `state_digest` edited",
        _verified(lambda d: d["receipt"]["links"][0].update(state_digest="0" * 64)),  # type: ignore[index]
        ("tests/test_verification.py::test_each_kind_of_damage_has_its_reason",),
    ),
    Row(
        "verify-link-dropped",
        "`verify` of junk (never raises)",
        "the last receipt link dropped",
        _verified(lambda d: d["receipt"]["links"].pop()),  # type: ignore[index]
        ("tests/test_verification.py::test_each_kind_of_damage_has_its_reason",),
    ),
    Row(
        "verify-state",
        "`verify` of junk (never raises)",
        "a step's recorded change edited",
        _verified(lambda d: d["lineage"]["entries"][1]["changes"]["set"].update(priorities=["t1"])),  # type: ignore[index]
        ("tests/test_verification.py::test_a_step_state_edit_names_that_step",),
    ),
    Row(
        "verify-deep",
        "`verify` of junk (never raises)",
        "`verify(<100,000 nested lists>)`",
        lambda _: verify(nested_lists(100_000)),
        ("tests/test_limits.py::test_from_dict_and_verify_refuse_deep_documents",),
    ),
    Row(
        "verify-surrogate",
        "`verify` of junk (never raises)",
        '`receipt.workflow_digest` is `"\\ud800"`',
        _verified(lambda d: d["receipt"].update(workflow_digest="\ud800")),  # type: ignore[attr-defined]
        ("tests/test_bad_inputs.py::test_verify_never_raises_on_a_lone_surrogate_digest",),
    ),
    Row(
        "verify-error-message",
        "`verify` of junk (never raises)",
        "`error_message` set on a completed run",
        _verified(lambda d: d.update(error_message="step 'daily-log-summary' failed")),
        ("tests/test_verification.py::test_an_error_message_the_record_contradicts_is_tampered",),
    ),
    # CLI --------------------------------------------------------------------------------------------
    Row(
        "cli-no-command",
        "Command line: arguments and JSON",
        "`stepfold`",
        _cli_in(),
        ("tests/test_cli_store.py::test_bad_usage_exits_two_with_one_clear_line",),
    ),
    Row(
        "cli-unknown-mission",
        "Command line: arguments and JSON",
        "`stepfold run nope --no-store`",
        _cli_in("run", "nope", "--no-store"),
        ("tests/test_cli.py::test_bad_input_exits_two_with_one_line",),
    ),
    Row(
        "cli-params-json",
        "Command line: arguments and JSON",
        "`stepfold run echo --no-store --params '{bad'`",
        _cli_in("run", "echo", "--no-store", "--params", "{bad"),
        ("tests/test_cli.py::test_bad_input_exits_two_with_one_line",),
    ),
    Row(
        "cli-params-nan",
        "Command line: arguments and JSON",
        "`stepfold run echo --no-store --params '{\"a\": NaN}'`",
        _cli_in("run", "echo", "--no-store", "--params", '{"a": NaN}'),
        ("tests/test_cli.py::test_bad_input_exits_two_with_one_line",),
    ),
    Row(
        "cli-params-dup",
        "Command line: arguments and JSON",
        '`stepfold run echo --no-store --params \'{"a": 1, "a": 2}\'`',
        _cli_in("run", "echo", "--no-store", "--params", '{"a": 1, "a": 2}'),
        ("tests/test_cli.py::test_bad_input_exits_two_with_one_line",),
    ),
    Row(
        "cli-params-list",
        "Command line: arguments and JSON",
        "`stepfold run echo --no-store --params '[1]'`",
        _cli_in("run", "echo", "--no-store", "--params", "[1]"),
        ("tests/test_cli.py::test_bad_input_exits_two_with_one_line",),
    ),
    Row(
        "cli-params-deep",
        "Command line: arguments and JSON",
        "`--params` of 100,000 nested `[`",
        _cli_in("run", "echo", "--no-store", "--params", '{"a": ' + deep_json(100_000) + "}"),
        ("tests/test_limits.py::test_cli_refuses_absurdly_deep_json_with_exit_two",),
    ),
    Row(
        "cli-params-200",
        "Command line: arguments and JSON",
        "`--params` nested 200 levels",
        _cli_in("run", "echo", "--no-store", "--params", '{"a": ' + deep_json(200) + "}"),
        ("tests/test_limits.py::test_cli_refuses_absurdly_deep_json_with_exit_two",),
    ),
    Row(
        "cli-params-huge-int",
        "Command line: arguments and JSON",
        "`--params` with a 5,000-digit number",
        _cli_in("run", "echo", "--no-store", "--params", '{"a": 1' + "0" * 5000 + "}"),
        ("tests/test_limits.py::test_huge_ints_are_refused_by_size_not_digits",),
    ),
    Row(
        "cli-params-big-int",
        "Command line: arguments and JSON",
        "`--params '{\"n\": 9007199254740992}'`",
        _cli_in("run", "echo", "--no-store", "--params", '{"n": 9007199254740992}'),
        ("tests/test_cli.py::test_bad_input_exits_two_with_one_line",),
    ),
    Row(
        "cli-state-missing",
        "Command line: arguments and JSON",
        "`--state missing.json`",
        _cli_in("run", "echo", "--no-store", "--state", "missing.json"),
        ("tests/test_cli.py::test_bad_input_exits_two_with_one_line",),
    ),
    Row(
        "cli-state-trailing-comma",
        "Command line: arguments and JSON",
        '`--state state.json` holding `{"a": [1, 2,]}`',
        _cli_in("run", "echo", "--no-store", "--state", "state.json", files={"state.json": '{"a": [1, 2,]}'}),
        ("tests/test_cli.py::test_bad_state_file_names_the_file",),
    ),
    Row(
        "cli-state-binary",
        "Command line: arguments and JSON",
        "`--state state.json` holding bytes that are not UTF-8",
        _cli_in("run", "echo", "--no-store", "--state", "state.json", files={"state.json": b"\xff\xfe{}"}),
        ("tests/test_bad_inputs.py::test_a_state_file_that_is_not_utf8_exits_two",),
    ),
    Row(
        "cli-state-deep-file",
        "Command line: arguments and JSON",
        "`--state deep.json` holding 100,000 nested `[`",
        _cli_in(
            "run",
            "echo",
            "--no-store",
            "--state",
            "deep.json",
            files={"deep.json": '{"a": ' + deep_json(100_000) + "}"},
        ),
        ("tests/test_limits.py::test_cli_refuses_absurdly_deep_json_with_exit_two",),
    ),
    Row(
        "cli-state-value",
        "Command line: arguments and JSON",
        "`--state '{\"a\": 9007199254740992}'`",
        _cli_in("run", "echo", "--no-store", "--state", '{"a": 9007199254740992}'),
        ("tests/test_cli.py::test_bad_input_exits_two_with_one_line",),
    ),
    Row(
        "cli-input-form",
        "Command line: arguments and JSON",
        "`--input novalue`",
        _cli_in("run", "daily_loop", "--no-store", "--input", "novalue"),
        ("tests/test_cli.py::test_bad_input_exits_two_with_one_line",),
    ),
    Row(
        "cli-input-json",
        "Command line: arguments and JSON",
        "`--input 'daily-confirm-priorities={'`",
        _cli_in("run", "daily_loop", "--no-store", "--input", "daily-confirm-priorities={"),
        ("tests/test_cli_store.py::test_bad_usage_exits_two_with_one_clear_line",),
    ),
    Row(
        "cli-input-step",
        "Command line: arguments and JSON",
        "`--input x=1`",
        _cli_in("run", "daily_loop", "--no-store", "--input", "x=1"),
        ("tests/test_cli.py::test_bad_input_exits_two_with_one_line",),
    ),
    Row(
        "cli-input-twice",
        "Command line: arguments and JSON",
        "`--input a=1 --input a=2`",
        _cli_in("run", "daily_loop", "--no-store", "--input", "a=1", "--input", "a=2"),
        ("tests/test_cli_store.py::test_bad_usage_exits_two_with_one_clear_line",),
    ),
    Row(
        "cli-input-deep",
        "Command line: arguments and JSON",
        "`--input` of 100,000 nested `[`",
        _cli_in("run", "daily_loop", "--no-store", "--input", "daily-confirm-priorities=" + deep_json(100_000)),
        ("tests/test_limits.py::test_cli_refuses_absurdly_deep_json_with_exit_two",),
    ),
    Row(
        "cli-unknown-flag",
        "Command line: arguments and JSON",
        "`stepfold run echo --bogus`",
        _cli_in("run", "echo", "--bogus"),
        ("tests/test_cli_store.py::test_bad_usage_exits_two_with_one_clear_line",),
    ),
    Row(
        "cli-short-id",
        "Command line: arguments and JSON",
        "`stepfold show abc`",
        _cli_in("show", "abc", "--store", "store.db", seed=True),
        ("tests/test_cli_store.py::test_bad_usage_exits_two_with_one_clear_line",),
    ),
    Row(
        "cli-missing-run",
        "Command line: arguments and JSON",
        "`stepfold export 000000`",
        _cli_in("export", "000000", "--store", "store.db", seed=True),
        ("tests/test_cli_store.py::test_bad_usage_exits_two_with_one_clear_line",),
    ),
    Row(
        "cli-resume-completed",
        "Command line: arguments and JSON",
        "`stepfold resume <completed run> --input ...`",
        _cli_in("resume", "<completed>", "--input", APPROVE, "--store", "store.db", seed=True),
        ("tests/test_cli_store.py::test_bad_usage_exits_two_with_one_clear_line",),
    ),
    Row(
        "cli-resume-no-input",
        "Command line: arguments and JSON",
        "`stepfold resume <suspended run>` (no `--input`)",
        _cli_in("resume", "<suspended>", "--store", "store.db", seed=True),
        ("tests/test_cli_store.py::test_bad_usage_exits_two_with_one_clear_line",),
    ),
    Row(
        "cli-verify-neither",
        "Command line: arguments and JSON",
        "`stepfold verify nothere.json`",
        _cli_in("verify", "nothere.json"),
        ("tests/test_cli_store.py::test_bad_usage_exits_two_with_one_clear_line",),
    ),
    Row(
        "cli-verify-not-json",
        "Command line: arguments and JSON",
        "`stepfold verify bad.json` holding `{not json`",
        _cli_in("verify", "bad.json", files={"bad.json": "{not json"}),
        ("tests/test_cli_store.py::test_verify_a_file_that_is_not_json_exits_two",),
    ),
    Row(
        "cli-verify-empty-file",
        "Command line: arguments and JSON",
        "`stepfold verify bad.json` holding nothing",
        _cli_in("verify", "bad.json", files={"bad.json": ""}),
        ("tests/test_cli_store.py::test_verify_a_file_that_is_not_json_exits_two",),
    ),
    Row(
        "cli-verify-deep-file",
        "Command line: arguments and JSON",
        "`stepfold verify deep.json` holding 100,000 nested `[`",
        _cli_in("verify", "deep.json", files={"deep.json": deep_json(100_000)}),
        ("tests/test_limits.py::test_cli_refuses_absurdly_deep_json_with_exit_two",),
    ),
    Row(
        "cli-verify-not-result",
        "Command line: arguments and JSON",
        "`stepfold verify empty.json` holding `{}`",
        _cli_in("verify", "empty.json", files={"empty.json": "{}"}),
        ("tests/test_cli_store.py::test_verify_a_document_that_is_not_a_result",),
    ),
    # Store files ----------------------------------------------------------------------------------
    Row(
        "store-missing",
        "Store files",
        "`stepfold runs --store store.db` with no such file",
        _cli_in("runs", "--store", "store.db"),
        ("tests/test_cli_store.py::test_a_read_command_on_a_missing_store_exits_two_and_creates_nothing",),
    ),
    Row(
        "store-text",
        "Store files",
        "a text file as the store",
        _damaged_store(_text_file, "runs"),
        (
            "tests/test_cli_store.py::test_a_file_that_is_not_a_store_exits_two",
            "tests/test_store.py::test_a_file_that_is_not_a_store_is_refused",
        ),
    ),
    Row(
        "store-foreign",
        "Store files",
        "another program's SQLite database as the store",
        _damaged_store(_foreign_sqlite, "runs"),
        (
            "tests/test_cli_store.py::test_a_file_that_is_not_a_store_exits_two",
            "tests/test_store.py::test_a_file_that_is_not_a_store_is_refused",
        ),
    ),
    Row(
        "store-unversioned",
        "Store files",
        "a store's format version set to 0",
        _damaged_store(_sql("PRAGMA user_version = 0"), "run", "echo"),
        ("tests/test_store.py::test_a_store_with_tables_but_no_version_is_damaged_not_migrated",),
    ),
    Row(
        "store-newer",
        "Store files",
        "a store of format 99",
        _damaged_store(_sql("PRAGMA user_version = 99"), "runs"),
        (
            "tests/test_cli_store.py::test_a_store_of_a_newer_format_exits_two",
            "tests/test_store.py::test_a_newer_store_is_refused",
        ),
    ),
    Row(
        "store-truncated",
        "Store files",
        "a store cut to a third of its size",
        _damaged_store(_truncate, "runs"),
        ("tests/test_bad_inputs.py::test_a_corrupt_store_is_refused_and_left_as_it_was",),
    ),
    Row(
        "store-pages",
        "Store files",
        "a store whose pages after the first are overwritten",
        _damaged_store(_overwrite_pages, "runs"),
        ("tests/test_cli_store.py::test_a_damaged_store_exits_two_with_one_line",),
    ),
    Row(
        "store-state-body",
        "Store files",
        "a stored state's body replaced by garbage",
        _damaged_store(_sql("UPDATE states SET body = ? WHERE base IS NULL", b"garbage"), "export", "<completed>"),
        ("tests/test_store.py::test_a_damaged_state_is_reported_not_returned",),
    ),
    Row(
        "store-state-json",
        "Store files",
        "a stored state's body valid but altered",
        _damaged_store(
            _sql("UPDATE states SET body = ? WHERE base IS NULL", __import__("zlib").compress(b'{"tasks": []}')),
            "verify",
            "<completed>",
        ),
        ("tests/test_bad_inputs.py::test_a_corrupt_run_does_not_take_the_others_with_it",),
    ),
    Row(
        "store-run-document",
        "Store files",
        "a run's document replaced by garbage",
        _damaged_store(_sql("UPDATE runs SET document = ?", b"garbage"), "show", "<completed>"),
        ("tests/test_bad_inputs.py::test_a_corrupt_run_does_not_take_the_others_with_it",),
    ),
    Row(
        "store-run-altered",
        "Store files",
        "a run's document valid JSON but altered",
        _damaged_store(
            _sql("UPDATE runs SET document = ?", __import__("zlib").compress(b'{"lineage": {}}')),
            "export",
            "<completed>",
        ),
        ("tests/test_bad_inputs.py::test_a_corrupt_run_does_not_take_the_others_with_it",),
    ),
    Row(
        "store-state-missing",
        "Store files",
        "a run's states deleted",
        _damaged_store(_sql("DELETE FROM states"), "export", "<completed>"),
        ("tests/test_bad_inputs.py::test_a_corrupt_run_does_not_take_the_others_with_it",),
    ),
    Row(
        "store-run-index",
        "Store files",
        "a run's `status` column edited",
        _damaged_store(_sql("UPDATE runs SET status = 'failed'"), "show", "<completed>"),
        ("tests/test_cli_audit.py::test_verify_all_lists_a_row_it_cannot_read_back_as_tampered_and_checks_the_rest",),
    ),
    Row(
        "store-run-steps",
        "Store files",
        "a run's `steps` column set to text",
        _damaged_store(_sql("UPDATE runs SET steps = 'many'"), "runs"),
        ("tests/test_cli_audit.py::test_verify_all_lists_a_row_it_cannot_read_back_as_tampered_and_checks_the_rest",),
    ),
]


def outcome(row: Row, folder: Path) -> str:
    """Run the row in `folder` (the current folder meanwhile) and render what came back, exactly."""
    with contextlib.chdir(folder), contextlib.redirect_stdout(io.StringIO()):
        try:
            value = row.call(folder)
        except StepfoldError as exc:
            return f"`{type(exc).__name__}`: {_text(str(exc))}"
        except BaseException as exc:  # anything else is a bug: shown as such, and test_catalogue fails on it
            return f"**undocumented** `{type(exc).__name__}`: {_text(str(exc))}"
    return _rendered(value)


def _rendered(value: object) -> str:
    if isinstance(value, OrchestrationResult):
        return f"run `{value.status}`, `error_message`: {_text(value.error_message or '')}"
    if isinstance(value, Verification):
        return f"`ok=False`: {_text(value.reason)}" if not value.ok else "`ok=True`"
    if isinstance(value, CliOutcome):
        if value.code == 2:
            return f"exit 2: {_text(value.err.rstrip())}"
        return f"exit {value.code}: {_text(value.out.splitlines()[0] if value.out else value.err.rstrip())}"
    return f"accepted: {_text(repr(value)[:80])}"


def _text(message: str) -> str:
    """A message as a Markdown code span inside a table cell, shortened past 300 characters."""
    if len(message) > 300:
        message = message[:300] + f"… ({len(message)} characters)"
    message = message.replace("\n", "⏎").replace("|", "\\|")
    fence = "``" if "`" in message else "`"
    pad = " " if fence == "``" else ""
    return f"{fence}{pad}{message}{pad}{fence}"


def render() -> str:
    """The generated tables, one per section, every row run now."""
    lines: list[str] = []
    section = ""
    for row in ROWS:
        if row.section != section:
            section = row.section
            lines += ["", f"### {section}", "", "| input | what stepfold says (exact) | proved by |", "|---|---|---|"]
        with tempfile.TemporaryDirectory() as scratch:
            lines.append(row_line(row, Path(scratch)))
    return "\n".join(lines).strip("\n") + "\n"


def row_line(row: Row, folder: Path) -> str:
    """The table line of one row, as `render` writes it (for the per-row test)."""
    proofs = [f"`{test}`" for test in row.proved_by]
    proofs.append(f"`{CATALOGUE_TEST}[{row.id}]`")
    return f"| {row.given} | {outcome(row, folder)} | {'<br>'.join(proofs)} |"


def rewrite(document: Path = DOC) -> None:
    """Replace the text between the BEGIN and END markers of `document` with `render()`."""
    text = document.read_text(encoding="utf-8")
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    document.write_text(f"{head}{BEGIN}\n{render()}{END}{tail}", encoding="utf-8")


if __name__ == "__main__":
    rewrite()
    print(f"rewrote {DOC.relative_to(ROOT)}: {len(ROWS)} rows", file=sys.stderr)
