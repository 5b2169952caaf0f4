"""The documented bounds (docs/bad-inputs.md "Limits"): the largest input works everywhere, one past it is refused with a sentence."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from stepfold import (
    ExecutionContext,
    InvalidValueError,
    OrchestrationResult,
    State,
    StepSpec,
    WorkflowDefinition,
    canonical_json,
    freeze,
    resume,
    run_mission,
    run_workflow,
    thaw,
    values_equal,
    verify,
)
from stepfold.errors import InvalidDocumentError
from stepfold.frozen import values_identical
from stepfold.state import MAX_STATE_ENTRIES
from stepfold.store import SQLiteStore
from stepfold.values import MAX_DEPTH, MAX_SAFE_INTEGER, MAX_STRING_LENGTH
from tests.bad_input_catalogue import LongMapping, cli, deep_json, nested_lists


def test_the_deepest_value_works_everywhere(tmp_path: Path) -> None:
    # A state entry nested MAX_DEPTH - 1 levels below the state (the state mapping is the first level) is the deepest a
    # state holds: it runs, records, serialises, reads back, verifies and survives the store.
    deepest = nested_lists(MAX_DEPTH - 1, leaf=1)
    workflow = WorkflowDefinition(
        id="deep",
        steps=[
            StepSpec("copy", "runtime", {"operation": "copy", "source": "deep", "target": "copy"}),
            StepSpec("ask", "human", {}),
        ],
    )
    suspended = run_workflow(workflow, ExecutionContext({"deep": deepest}))
    result = resume(suspended, {"ask": deepest})
    assert result.status == "completed"
    assert thaw(result.final_state["copy"]) == deepest and thaw(result.final_state["ask"]) == deepest
    document = json.loads(json.dumps(result.to_dict()))
    assert OrchestrationResult.from_dict(document).to_dict() == result.to_dict()
    assert verify(document).ok
    with SQLiteStore(tmp_path / "store.db") as store:
        assert store.load(store.save(result)).to_dict() == result.to_dict()
    with pytest.raises(InvalidValueError, match=f"nesting is deeper than {MAX_DEPTH} levels"):
        State({"deep": [deepest]})


def test_huge_ints_are_refused_by_size_not_digits() -> None:
    for value, shown in [(2**53, "9007199254740992"), (-(2**53), "-9007199254740992"), (10**5000, "of 16610 bits")]:
        with pytest.raises(InvalidValueError) as info:
            freeze({"n": value}, path="state")
        assert (
            str(info.value) == f"state.n: integer {shown} is outside +-(2**53 - 1), which I-JSON cannot carry exactly"
        )
    assert freeze(MAX_SAFE_INTEGER) == MAX_SAFE_INTEGER and freeze(-MAX_SAFE_INTEGER) == -MAX_SAFE_INTEGER
    outcome = cli("run", "echo", "--no-store", "--params", '{"a": 1' + "0" * 5000 + "}")
    assert (outcome.code, outcome.out) == (2, "")
    assert outcome.err == "stepfold: error: --params: invalid JSON: a number of 5001 digits is outside +-(2**53 - 1)\n"


def test_strings_longer_than_the_limit_are_refused() -> None:
    assert MAX_STRING_LENGTH == 16 * 1024 * 1024
    longest = "x" * MAX_STRING_LENGTH
    assert State({"blob": longest})["blob"] == longest
    with pytest.raises(InvalidValueError) as info:
        State({"blob": longest + "x"})
    assert str(info.value) == (
        f"state.blob: a string of {MAX_STRING_LENGTH + 1} characters is longer than MAX_STRING_LENGTH ({MAX_STRING_LENGTH})"
    )
    with pytest.raises(InvalidValueError, match=r"^state: key 'kkkk.*': a string of 16777217 characters is longer"):
        State({"k" * (MAX_STRING_LENGTH + 1): 1})
    with pytest.raises(InvalidValueError, match=r"^value\.outer: key 'kkkk.*': a string of 16777217 characters"):
        freeze({"outer": {"k" * (MAX_STRING_LENGTH + 1): {"x": 1j}}})


def test_states_larger_than_the_limit_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    assert MAX_STATE_ENTRIES == 10_000_000
    with pytest.raises(InvalidValueError) as info:
        State(LongMapping(MAX_STATE_ENTRIES + 1))
    assert str(info.value) == (
        "state: 10000001 entries is more than MAX_STATE_ENTRIES (10000000); keep bulk data outside the state (e.g. its digest or path)"
    )
    # Growing past the bound, one key at a time or in bulk (a small bound stands in for ten million entries).
    monkeypatch.setattr("stepfold.state.MAX_STATE_ENTRIES", 3)
    full = State({"a": 1, "b": 2, "c": 3})
    assert full.set("a", 9)["a"] == 9 and len(full.remove("a").set("d", 4)) == 3  # replacing never grows
    with pytest.raises(InvalidValueError, match=r"^state: 4 entries is more than MAX_STATE_ENTRIES \(3\)"):
        full.set("d", 4)
    with pytest.raises(InvalidValueError, match=r"^state: 4 entries is more than MAX_STATE_ENTRIES \(3\)"):
        full.update({"a": 0, "d": 4})
    with pytest.raises(InvalidValueError, match=r"^state: 4 entries is more than MAX_STATE_ENTRIES \(3\)"):
        State({"a": 1, "b": 2, "c": 3, "d": 4})
    assert full.to_dict() == {"a": 1, "b": 2, "c": 3}


def test_walkers_refuse_data_deeper_than_freeze_makes() -> None:
    walk_limit = MAX_DEPTH + 16
    fits, too_deep = nested_lists(walk_limit), nested_lists(walk_limit + 1)
    assert thaw(fits) == fits and canonical_json(fits) == deep_json(walk_limit).encode()
    assert values_equal(fits, nested_lists(walk_limit)) and values_identical(fits, nested_lists(walk_limit))
    for walk in (
        thaw,
        canonical_json,
        lambda v: values_equal(v, nested_lists(walk_limit + 1)),
        lambda v: values_identical(v, nested_lists(walk_limit + 1)),
    ):
        with pytest.raises(InvalidValueError) as info:
            walk(too_deep)
        assert str(info.value) == f"value: nesting is deeper than {walk_limit} levels (MAX_DEPTH is {MAX_DEPTH})"


def test_from_dict_and_verify_refuse_deep_documents() -> None:
    document = json.loads(json.dumps(run_mission("echo").to_dict()))
    document["context"]["metadata"] = {"m": nested_lists(200)}
    with pytest.raises(InvalidDocumentError) as info:
        OrchestrationResult.from_dict(document)
    assert str(info.value).startswith("result.context: metadata.m[0][0][0][0][0][0][0]…(")
    assert str(info.value).endswith(f": nesting is deeper than {MAX_DEPTH} levels")
    verdict = verify(document)
    assert not verdict.ok and verdict.reason == f"the document cannot be read as a result: {info.value}"
    assert not verify(nested_lists(100_000)).ok  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "argv",
    [
        ["run", "echo", "--no-store", "--params", '{"a": ' + deep_json(100_000) + "}"],
        ["run", "echo", "--no-store", "--state", '{"a": ' + deep_json(100_000) + "}"],
        ["run", "daily_loop", "--no-store", "--input", "daily-confirm-priorities=" + deep_json(100_000)],
        ["verify", "deep.json"],
    ],
    ids=["params", "state", "input", "verify-file"],
)
def test_cli_refuses_absurdly_deep_json_with_exit_two(
    argv: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "deep.json").write_text(deep_json(100_000), encoding="utf-8")
    outcome = cli(*argv)
    assert (outcome.code, outcome.out) == (2, "")
    assert outcome.err.endswith(
        f": invalid JSON: nested too deeply to parse (values nest at most {MAX_DEPTH} levels)\n"
    )
    assert outcome.err.count("\n") == 1
    # Deep enough to parse but past MAX_DEPTH: refused by freeze, naming the path.
    deep = cli("run", "echo", "--no-store", "--params", '{"a": ' + deep_json(200) + "}")
    assert deep.code == 2 and deep.err.startswith("stepfold: error: params.a[0][0]")
    assert deep.err.endswith(f": nesting is deeper than {MAX_DEPTH} levels\n")


def test_a_state_holds_the_same_depth_however_it_is_built() -> None:
    # Found by `make fuzz`: set/update took a value one level deeper than State({...}) accepted.
    deepest, too_deep = nested_lists(MAX_DEPTH - 1), nested_lists(MAX_DEPTH)
    built = State({"k": deepest})
    assert State().set("k", deepest) == built == State().update({"k": deepest})
    grows: tuple[Callable[[], State], ...] = (
        lambda: State({"k": too_deep}),
        lambda: State().set("k", too_deep),
        lambda: State().update({"k": too_deep}),
    )
    for grow in grows:
        with pytest.raises(InvalidValueError, match=f"^state.k\\[0\\].*: nesting is deeper than {MAX_DEPTH} levels$"):
            grow()
