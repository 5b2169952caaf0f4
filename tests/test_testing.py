"""`stepfold.testing`: its strategies produce only valid values, and each law checker catches what it promises.

Every checker is shown a deliberately broken operation or mission for each
law (and must raise one `LawViolation` naming that law, with the minimal
example), and the built-in operations and missions (which must pass).
"""

from __future__ import annotations

import itertools
import json
import pickle
import random
from collections.abc import Callable, Collection, Iterator, Mapping

import pytest
from hypothesis import Phase, find, given, settings
from hypothesis import strategies as st
from pyrsistent import PMap, PVector, pmap

from stepfold import (
    DEFAULT_OPERATIONS,
    MISSION_REGISTRY,
    TIER2_POLICY,
    ExecutionContext,
    InvalidValueError,
    Mission,
    MissionSpec,
    OperationError,
    Params,
    Policy,
    State,
    StepfoldError,
    StepSpec,
    UnknownMissionError,
    WorkflowDefinition,
    build_workflow,
    canonical_json,
    check_run,
    freeze,
    run_workflow,
)
from stepfold.frozen import values_equal
from stepfold.missions import CONFIRM_STEP, DAILY_LOOP
from stepfold.operations.builtin import delete, set_value
from stepfold.policy import RECORD, check_workflow, step_operation
from stepfold.testing import (
    BUILDER_DETERMINISTIC,
    BUILDS_CLEANLY,
    COMMON_KEYS,
    DECLARED_WRITES,
    DETERMINISTIC,
    HUMAN_OPERATIONS,
    LAWS,
    MISSION_LAWS,
    NO_MUTATION,
    OPERATION_LAWS,
    RESUME_EQUALS_RUN,
    RETURNS_STATE,
    RUN_DETERMINISTIC,
    WITHIN_POLICY,
    LawViolation,
    Writes,
    check_mission,
    check_operation,
    contexts,
    human_inputs,
    keys,
    operation_payloads,
    runs,
    scalars,
    states,
    step_specs,
    values,
    workflows,
)
from stepfold.values import MAX_SAFE_INTEGER, Value
from tests.strategies import daily_params, daily_states

FAST = settings(max_examples=25)
"""Checker settings for these tests: the ci profile (derandomized), fewer examples."""

QUIET = settings(database=None, phases=[Phase.generate, Phase.shrink])
"""Settings for `find`: no example database, no explain phase."""

POLICIES = [
    TIER2_POLICY,
    Policy(max_steps=3, max_human_steps=0),
    Policy(max_steps=8, max_human_steps=3, allowed_kinds={"runtime", "human", "review"}),
    Policy(max_steps=2, max_human_steps=2, allowed_kinds={"human"}),
]


# Shapes of values -------------------------------------------------------------


def depth(value: Value) -> int:
    if isinstance(value, PVector):
        return 1 + max((depth(item) for item in value), default=0)
    if isinstance(value, PMap):
        return 1 + max((depth(item) for item in value.values()), default=0)
    return 0


def leaves(value: Value) -> int:
    if isinstance(value, PVector):
        return sum(leaves(item) for item in value)
    if isinstance(value, PMap):
        return sum(leaves(item) for item in value.values())
    return 1


def widest(value: Value) -> int:
    if isinstance(value, (PVector, PMap)):
        items = value if isinstance(value, PVector) else list(value.values())
        return max([len(value), *(widest(item) for item in items)])
    return 0


def json_number(text: str) -> int | float:
    """JCS writes a float such as 2.0**53 without a point; read it back as the float it was."""
    number = int(text)
    return number if abs(number) <= MAX_SAFE_INTEGER else float(number)


def only_frozen(value: object) -> bool:
    if isinstance(value, PVector):
        return all(only_frozen(item) for item in value)
    if isinstance(value, PMap):
        return all(isinstance(key, str) and only_frozen(item) for key, item in value.items())
    return value is None or type(value) in (bool, int, float, str)


# Strategies produce only valid values ----------------------------------------


@given(values())
def test_values_are_frozen_i_json(value: Value) -> None:
    assert freeze(value) is value  # already frozen and inside the domain: freeze has nothing to do
    assert only_frozen(value)
    read_back = json.loads(canonical_json(value), parse_int=json_number)
    assert values_equal(freeze(read_back), value)  # one canonical JSON form, read back equal


@given(scalars())
def test_scalars_are_in_the_domain(value: Value) -> None:
    assert freeze(value) is value
    if isinstance(value, int) and not isinstance(value, bool):
        assert abs(value) <= MAX_SAFE_INTEGER
    if isinstance(value, str):
        value.encode("utf-8")  # no lone surrogates


@pytest.mark.parametrize(("max_depth", "max_leaves", "max_size"), [(0, 5, 3), (1, 4, 2), (2, 10, 4), (4, 20, 3)])
def test_values_respect_their_bounds(max_depth: int, max_leaves: int, max_size: int) -> None:
    @given(values(max_depth=max_depth, max_leaves=max_leaves, max_size=max_size))
    def bounded(value: Value) -> None:
        assert depth(value) <= max_depth
        assert leaves(value) <= max_leaves
        assert widest(value) <= max_size

    bounded()


@given(states(max_size=4))
def test_states_are_sound(state: State) -> None:
    assert len(state) <= 4
    assert State(state.to_dict()) == state
    assert State(state.to_dict()).digest == state.digest


@given(step_specs())
def test_step_specs_name_a_known_operation(step: StepSpec) -> None:
    operation = step_operation(step)
    assert operation in DEFAULT_OPERATIONS
    assert "input" not in step.payload  # a human step's input comes from the context
    assert (step.kind == "human") == (operation in HUMAN_OPERATIONS)
    check_workflow(WorkflowDefinition(id="one", steps=[step]), TIER2_POLICY, DEFAULT_OPERATIONS)


@given(step_specs(), states())
def test_built_in_steps_run_or_fail_cleanly(step: StepSpec, state: State) -> None:
    operation = DEFAULT_OPERATIONS[step_operation(step) or ""]
    runnable = StepSpec(step.id, step.kind, step.payload.set("input", None)) if step.kind == "human" else step
    try:
        assert isinstance(operation(state, runnable), State)
    except StepfoldError:
        pass


@pytest.mark.parametrize("policy", POLICIES, ids=lambda p: f"max{p.max_steps}-human{p.max_human_steps}")
def test_workflows_are_within_their_policy(policy: Policy) -> None:
    @given(workflows(policy))
    def within(workflow: WorkflowDefinition) -> None:
        check_workflow(workflow, policy, DEFAULT_OPERATIONS)  # raises if not
        ids = [step.id for step in workflow.steps]
        assert len(ids) == len(set(ids)) and all(ids)
        assert sum(step.kind == "human" for step in workflow.steps) <= policy.max_human_steps

    within()


def test_workflows_of_a_user_table_name_only_its_operations() -> None:
    table = pmap({"tick": set_value, "tock": delete})

    @given(workflows(operations=table, human_operations=()))
    def only_theirs(workflow: WorkflowDefinition) -> None:
        assert {step.operation for step in workflow.steps} <= {"tick", "tock"}
        assert all(step.kind == "runtime" for step in workflow.steps)

    only_theirs()


@given(runs())
def test_contexts_pass_check_run(run: tuple[WorkflowDefinition, ExecutionContext]) -> None:
    workflow, ctx = run
    check_run(workflow, ctx)
    assert run_workflow(workflow, ctx).status in {"completed", "failed", "suspended"}


@given(runs(operations=("daily.confirm", "set"), human_operations=("daily.confirm",), missing=False))
def test_runs_give_daily_confirm_only_decisions_any_state_accepts(
    run: tuple[WorkflowDefinition, ExecutionContext],
) -> None:
    workflow, ctx = run
    # over a state with no tasks: a priority naming one would be refused (InvalidInputError), not run
    assert run_workflow(workflow, ExecutionContext(State(), ctx.inputs)).status in {"completed", "failed"}


@given(contexts())
def test_contexts_without_a_workflow_have_no_inputs(ctx: ExecutionContext) -> None:
    assert ctx.inputs == pmap()


def test_contexts_sometimes_leave_an_input_out_so_runs_suspend() -> None:
    workflow = build_workflow(MissionSpec("daily_loop"))
    ctx = find(contexts(workflow), lambda c: CONFIRM_STEP not in c.inputs, settings=QUIET)
    assert run_workflow(workflow, ctx).status == "suspended"
    complete = find(contexts(workflow), lambda c: CONFIRM_STEP in c.inputs, settings=QUIET)
    assert run_workflow(workflow, complete).status != "suspended"


def test_human_inputs_give_daily_confirm_a_decision_it_accepts() -> None:
    workflow = build_workflow(MissionSpec("daily_loop"))

    @given(human_inputs(workflow, missing=False))
    def accepted(inputs: Params) -> None:
        decision = inputs[CONFIRM_STEP]
        assert isinstance(decision, PMap) and ({"approved", "priorities"} & set(decision))

    accepted()


def test_strategies_shrink_to_small_examples() -> None:
    quiet = QUIET
    assert find(values(), lambda v: isinstance(v, PMap) and len(v) > 0, settings=quiet) == pmap({"a": None})
    assert find(states(), lambda s: len(s) > 0, settings=quiet) == {"a": None}
    assert find(keys(), lambda k: True, settings=quiet) == COMMON_KEYS[0]
    step = find(step_specs(), lambda s: True, settings=quiet)
    assert (step.id, step.kind, step.payload) == ("s0", "runtime", pmap({"operation": "noop"}))
    assert find(workflows(), lambda w: len(w.steps) >= 2, settings=quiet).steps == (
        StepSpec("s0", "runtime", {"operation": "noop"}),
        StepSpec("s1", "runtime", {"operation": "noop"}),
    )


def test_operation_payloads_of_an_unknown_operation_name_only_it() -> None:
    assert find(operation_payloads("mine.op"), lambda p: True, settings=QUIET) == pmap({"operation": "mine.op"})


@pytest.mark.parametrize(
    "build",
    [
        lambda: values(max_depth=-1),
        lambda: values(max_leaves=0),
        lambda: states(min_size=3, max_size=2),
        lambda: workflows(TIER2_POLICY, max_steps=6),
        lambda: step_specs(operations=[], kinds=["runtime"]),
    ],
)
def test_strategies_refuse_impossible_bounds(build: Callable[[], object]) -> None:
    with pytest.raises(InvalidValueError):
        build()


# check_operation catches broken operations -------------------------------------


def raised_by(check: Callable[[], object]) -> LawViolation:
    with pytest.raises(LawViolation) as caught:
        check()
    return caught.value


def test_catches_a_counter() -> None:
    calls = itertools.count()

    def flaky(state: State, step: StepSpec) -> State:
        return state.set("n", next(calls))

    violation = raised_by(lambda: check_operation(flaky, settings=FAST))
    assert violation.law == DETERMINISTIC
    assert "law 'deterministic' broken by operation 'flaky'" in str(violation)


def test_catches_random_numbers() -> None:
    def dice(state: State, step: StepSpec) -> State:
        return state.set("roll", random.random())

    assert raised_by(lambda: check_operation(dice, settings=FAST)).law == DETERMINISTIC


def test_catches_an_operation_that_depends_on_object_identity() -> None:
    def by_identity(state: State, step: StepSpec) -> State:
        return state.set("id", id(step) % 997)

    assert raised_by(lambda: check_operation(by_identity, settings=FAST)).law == DETERMINISTIC


HISTORY: list[object] = []


def test_catches_an_operation_that_feeds_a_module_level_list_back() -> None:
    def remembers(state: State, step: StepSpec) -> State:
        HISTORY.append(step.payload)
        return state.set("seen", len(HISTORY))

    assert raised_by(lambda: check_operation(remembers, settings=FAST)).law == DETERMINISTIC


def test_catches_a_stale_cache_in_a_closure_once_writes_are_declared() -> None:
    # Returning what an earlier call computed is consistent call after call, so only the
    # declared writes show that the result ignores the state it was given.
    cache: dict[str, State] = {}

    def cached(state: State, step: StepSpec) -> State:
        return cache.setdefault(step.id, state.set("cached", True))

    assert raised_by(lambda: check_operation(cached, writes={"cached"}, settings=FAST)).law == DECLARED_WRITES


def test_catches_a_non_deterministic_failure_message() -> None:
    calls = itertools.count()

    def refuses(state: State, step: StepSpec) -> State:
        raise OperationError(f"refused (attempt {next(calls)})")

    violation = raised_by(lambda: check_operation(refuses, settings=FAST))
    assert violation.law == DETERMINISTIC and "raised OperationError: refused (attempt" in str(violation)


def test_catches_an_operation_that_mutates_the_state_it_was_given() -> None:
    def sneaky(state: State, step: StepSpec) -> State:
        object.__setattr__(state, "_data", state._data.set("x", 1))
        return state

    violation = raised_by(lambda: check_operation(sneaky, settings=FAST))
    assert violation.law == NO_MUTATION and "the state it was given changed" in str(violation)


def test_catches_an_operation_that_mutates_its_step() -> None:
    def marks(state: State, step: StepSpec) -> State:
        object.__setattr__(step, "payload", step.payload.set("seen", True))
        return state

    violation = raised_by(lambda: check_operation(marks, settings=FAST))
    assert violation.law == NO_MUTATION and "the step it was given changed" in str(violation)


def test_catches_an_operation_that_returns_a_dict() -> None:
    def plain(state: State, step: StepSpec) -> object:
        return dict(state)

    violation = raised_by(lambda: check_operation(plain, settings=FAST))
    assert violation.law == RETURNS_STATE and "it returned dict {}, not a State" in str(violation)


class LooksLikeState(Mapping[str, Value]):
    """A mapping with a digest: walks like a State, but is not one."""

    digest = "0" * 64

    def __getitem__(self, key: str) -> Value:
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


def test_catches_an_operation_that_returns_something_state_like() -> None:
    def impostor(state: State, step: StepSpec) -> object:
        return LooksLikeState()

    assert raised_by(lambda: check_operation(impostor, settings=FAST)).law == RETURNS_STATE
    assert raised_by(lambda: check_operation(lambda s, _: pmap(s), settings=FAST)).law == RETURNS_STATE


def test_catches_a_state_smuggling_a_value_outside_the_domain() -> None:
    def smuggles(state: State, step: StepSpec) -> State:
        after = state.set("x", 1.0)
        object.__setattr__(after, "_data", after._data.set("x", float("nan")))
        return after

    violation = raised_by(lambda: check_operation(smuggles, settings=FAST))
    assert violation.law == RETURNS_STATE and "nan is not allowed" in str(violation)


def test_catches_a_crash_and_keeps_it_as_the_cause() -> None:
    def crashes(state: State, step: StepSpec) -> State:
        return state.set("x", state["missing"])

    violation = raised_by(lambda: check_operation(crashes, settings=FAST))
    assert violation.law == RETURNS_STATE
    assert "it raised KeyError: 'missing'" in str(violation)
    assert isinstance(violation.__cause__, KeyError)


def test_catches_writes_outside_the_declared_keys_with_the_minimal_example() -> None:
    payloads = st.fixed_dictionaries({"key": st.sampled_from(["a", "b", "c"]), "value": values()})
    violation = raised_by(lambda: check_operation(set_value, payloads, writes={"a"}, settings=FAST))
    assert violation.law == DECLARED_WRITES
    assert violation.example == {"state": {}, "payload": {"key": "b", "value": None}}
    message = str(violation)
    assert message.startswith("law 'declared-writes' broken by operation 'set_value': ")
    assert "added 'b'" in message
    assert "minimal example (shrunk by hypothesis):\n  state = {}\n  payload = {'key': 'b', 'value': None}" in message
    assert "Falsifying" not in message and "Failing test case" not in message and "reproduce_failure" not in message


def test_catches_a_removal_outside_the_declared_keys() -> None:
    payloads = st.fixed_dictionaries({"key": st.sampled_from(COMMON_KEYS)})
    violation = raised_by(lambda: check_operation(delete, payloads, writes=set(), settings=FAST))
    assert violation.law == DECLARED_WRITES and "removed 'a'" in str(violation)
    assert violation.example == {"state": {"a": None}, "payload": {"key": "a"}}


def test_reports_one_violation_even_when_asked_for_every_bug(capsys: pytest.CaptureFixture[str]) -> None:
    calls = itertools.count()

    def two_bugs(state: State, step: StepSpec) -> State:
        if "a" in state:
            raise KeyError("a")
        return state.set("n", next(calls))

    violation = raised_by(lambda: check_operation(two_bugs, settings=settings(FAST, report_multiple_bugs=True)))
    assert violation.law in {RETURNS_STATE, DETERMINISTIC}
    captured = capsys.readouterr()
    assert "Falsifying" not in captured.out + captured.err


def test_a_failure_that_does_not_replay_is_reported_as_flaky() -> None:
    calls = itertools.count()

    def once(state: State, step: StepSpec) -> State:
        if next(calls) == 7:
            raise KeyError("only once")
        return state

    violation = raised_by(lambda: check_operation(once, settings=FAST))
    assert violation.law == RETURNS_STATE and violation.flaky
    assert "could not make this example fail again" in str(violation)


def test_law_violation_is_an_assertion_error_and_a_stepfold_error() -> None:
    assert issubclass(LawViolation, AssertionError) and issubclass(LawViolation, StepfoldError)
    assert {law.name for law in (*OPERATION_LAWS, *MISSION_LAWS)} == set(LAWS)
    assert all(LAWS[law.name] is law and law.statement and law.fix for law in LAWS.values())


def test_law_violation_survives_pickling() -> None:
    violation = LawViolation(DETERMINISTIC, "operation 'x'", "it differs", {"state": {"a": 1}}, flaky=True)
    again = pickle.loads(pickle.dumps(violation))
    assert (str(again), again.law, again.example, again.flaky) == (
        str(violation),
        DETERMINISTIC,
        {"state": {"a": 1}},
        True,
    )


def test_catches_a_state_broken_past_reading() -> None:
    def wrecks(state: State, step: StepSpec) -> State:
        after = state.set("x", 1)
        object.__setattr__(after, "_data", None)
        return after

    violation = raised_by(lambda: check_operation(wrecks, settings=FAST))
    assert violation.law == RETURNS_STATE and "content cannot be read" in str(violation)


def test_writes_must_be_a_collection_of_keys() -> None:
    with pytest.raises(InvalidValueError, match="write {'a'}"):
        check_operation(set_value, writes="a", settings=FAST)


# check_operation passes every built-in operation --------------------------------


def _key_argument(name: str) -> Callable[[StepSpec], Collection[str]]:
    def written(step: StepSpec) -> Collection[str]:
        key = step.payload[name]
        assert isinstance(key, str)
        return {key}

    return written


def _merged_keys(step: StepSpec) -> Collection[str]:
    merged = step.payload["values"]
    assert isinstance(merged, PMap)
    return set(merged)


def _recorded_key(step: StepSpec) -> Collection[str]:
    into = step.payload.get("into", step.id)
    assert isinstance(into, str)
    return {into}


BUILTIN_WRITES: dict[str, Writes] = {
    "noop": set(),
    "fail": set(),
    "set": _key_argument("key"),
    "delete": _key_argument("key"),
    "increment": _key_argument("key"),
    "append": _key_argument("key"),
    "copy": _key_argument("target"),
    "merge": _merged_keys,
    RECORD: _recorded_key,
    "daily.summarise": {"summary"},
    "daily.prioritise": {"priorities"},
    "daily.confirm": {"confirmed_priorities"},
    "daily.log": {"log"},
    "tests.discovered": {"tests"},
    "tests.ran": {"tests"},
    "tests.verdict": {"tests"},
    "tests.discover": {"tests"},
    "tests.execute": {"tests"},
    "tests.report": {"tests"},
}
"""What each built-in operation declares it writes."""

test_plans = st.fixed_dictionaries(
    {
        "tests": st.fixed_dictionaries(
            {"paths": st.lists(st.text(min_size=1, max_size=4), max_size=2), "pattern": st.just("test_*.py")},
            optional={
                "results": st.fixed_dictionaries({"failed": st.integers(0, 2)}),
                "run": st.fixed_dictionaries(
                    {"exit_code": st.integers(0, 2)},
                    optional={
                        name: st.one_of(st.none(), st.integers(0, 2))
                        for name in ("passed", "failed", "errors", "skipped")
                    },
                ),
            },
        )
    }
)


def states_for(operation: str) -> st.SearchStrategy[Mapping[str, object]]:
    if operation.startswith("daily."):
        return daily_states()
    if operation.startswith("tests."):
        return st.one_of(states(), test_plans)
    return states()


def test_every_built_in_operation_declares_its_writes() -> None:
    assert set(BUILTIN_WRITES) == set(DEFAULT_OPERATIONS)


@pytest.mark.parametrize("name", sorted(DEFAULT_OPERATIONS))
def test_every_built_in_operation_keeps_the_laws(name: str) -> None:
    report = check_operation(
        DEFAULT_OPERATIONS[name],
        operation_payloads(name),
        states_for(name),
        BUILTIN_WRITES[name],
        name=name,
        kind="human" if name in HUMAN_OPERATIONS else "runtime",
        settings=FAST,
    )
    assert report.laws == OPERATION_LAWS and report.examples > 0
    if name == "fail":
        assert report.outcomes == {"failed": report.examples}
    else:
        assert report.outcomes.get("returned", 0) > 0  # the payload strategy reaches the success path


# check_mission catches broken missions -------------------------------------------


def noop_steps(count: int) -> list[StepSpec]:
    return [StepSpec(f"s{index}", "runtime", {"operation": "noop"}) for index in range(count)]


def sized(params: Params) -> WorkflowDefinition:
    count = params.get("count", 1)
    assert isinstance(count, int)
    return WorkflowDefinition(id="sized", steps=noop_steps(count))


counts = st.fixed_dictionaries({"count": st.integers(0, 10)})


def test_catches_a_builder_over_the_policy_with_the_minimal_params() -> None:
    violation = raised_by(lambda: check_mission(sized, counts, settings=FAST))
    assert violation.law == WITHIN_POLICY
    assert violation.example["params"] == {"count": 6}
    message = str(violation)
    assert message.startswith("law 'within-policy' broken by mission 'sized': AntiFailureViolation: ")
    assert "has 6 steps; the policy allows at most 5" in message and "params = {'count': 6}" in message


def test_catches_a_registered_mission_over_the_policy(monkeypatch: pytest.MonkeyPatch) -> None:
    def six(params: Params) -> WorkflowDefinition:
        return WorkflowDefinition(id="six", steps=noop_steps(6))

    monkeypatch.setitem(MISSION_REGISTRY, "six", six)
    violation = raised_by(lambda: check_mission("six", settings=FAST))
    assert violation.law == WITHIN_POLICY and violation.subject == "mission 'six'"


def test_catches_a_builder_that_names_an_unknown_operation() -> None:
    def typo(params: Params) -> WorkflowDefinition:
        return WorkflowDefinition(id="typo", steps=[StepSpec("s0", "runtime", {"operation": "incremnet"})])

    violation = raised_by(lambda: check_mission(typo, settings=FAST))
    assert violation.law == WITHIN_POLICY and "unknown operation 'incremnet'" in str(violation)


def test_catches_a_non_deterministic_builder() -> None:
    builds = itertools.count()

    def stamped(params: Params) -> WorkflowDefinition:
        return WorkflowDefinition(id="stamped", steps=noop_steps(1), metadata={"build": next(builds)})

    violation = raised_by(lambda: check_mission(stamped, settings=FAST))
    assert violation.law == BUILDER_DETERMINISTIC and "workflow.metadata.build" in str(violation)


def test_catches_a_builder_that_returns_something_else() -> None:
    def plain(params: Params) -> object:
        return {"id": "plain", "steps": []}

    assert raised_by(lambda: check_mission(plain, settings=FAST)).law == BUILDS_CLEANLY


def test_catches_a_builder_that_crashes() -> None:
    def crashes(params: Params) -> WorkflowDefinition:
        return sized(pmap({"count": params["count"]}))

    violation = raised_by(lambda: check_mission(crashes, settings=FAST))
    assert violation.law == BUILDS_CLEANLY and isinstance(violation.__cause__, KeyError)


def test_catches_a_mission_whose_runs_differ() -> None:
    ticks = itertools.count()

    def tick(state: State, step: StepSpec) -> State:
        return state.set("tick", next(ticks))

    mission = Mission(
        lambda params: WorkflowDefinition(id="ticking", steps=[StepSpec("t", "runtime", {"operation": "tick"})]),
        {"tick": tick},
    )
    violation = raised_by(lambda: check_mission(mission, settings=FAST, name="ticking"))
    assert violation.law == RUN_DETERMINISTIC
    assert "law 'run-deterministic' broken by mission 'ticking'" in str(violation)
    assert "result.final_state.tick" in str(violation)


def test_catches_an_operation_that_behaves_differently_the_first_time() -> None:
    seen: set[str] = set()

    def first_time(state: State, step: StepSpec) -> State:
        fresh = state.digest not in seen
        seen.add(state.digest)
        return state.set("first_time", fresh)

    def build(params: Params) -> WorkflowDefinition:
        return WorkflowDefinition(id="once", steps=[StepSpec("once", "runtime", {"operation": "once"})])

    violation = raised_by(lambda: check_mission(Mission(build, {"once": first_time}), settings=FAST))
    assert violation.law == RUN_DETERMINISTIC


def test_catches_suspend_and_resume_that_differ_from_a_run() -> None:
    # `peek` reads what the previous operation in this process left behind, not the State:
    # a run straight through sees `mark`, a resumed run sees whatever ran in between.
    last = ["nothing"]

    def mark(state: State, step: StepSpec) -> State:
        last[0] = "mark"
        return state

    def peek(state: State, step: StepSpec) -> State:
        seen, last[0] = last[0], "peek"
        return state.set("ran_after", seen)

    def build(params: Params) -> WorkflowDefinition:
        return WorkflowDefinition(
            id="approval",
            steps=[
                StepSpec("mark", "runtime", {"operation": "mark"}),
                StepSpec("approve", "human", {}),
                StepSpec("peek", "runtime", {"operation": "peek"}),
            ],
        )

    mission = Mission(build, {"mark": mark, "peek": peek})
    violation = raised_by(lambda: check_mission(mission, inputs={"approve": "ada"}, settings=FAST))
    assert violation.law == RESUME_EQUALS_RUN
    assert violation.example["given up front"] == []
    assert "result.final_state.ran_after: 'peek' vs 'mark'" in str(violation)


def test_catches_a_value_stashed_between_steps_outside_the_state() -> None:
    stash: dict[str, Value] = {}

    def remember_total(state: State, step: StepSpec) -> State:
        stash["total"] = state.get("total")
        return state

    def charge(state: State, step: StepSpec) -> State:
        return state.set("charged", stash.get("total"))

    def build(params: Params) -> WorkflowDefinition:
        return WorkflowDefinition(
            id="charge",
            steps=[
                StepSpec("remember", "runtime", {"operation": "remember"}),
                StepSpec("approve", "human", {}),
                StepSpec("charge", "runtime", {"operation": "charge"}),
            ],
        )

    totals = st.fixed_dictionaries({"total": st.integers(0, 100)})
    mission = Mission(build, {"remember": remember_total, "charge": charge})
    violation = raised_by(lambda: check_mission(mission, states=totals, inputs={"approve": True}, settings=FAST))
    assert violation.law == RESUME_EQUALS_RUN
    assert violation.example["state"] == {"total": 0}
    assert violation.example["state of another run while suspended"] == {"total": 1}
    assert "result.final_state.charged: 1 vs 0" in str(violation)


# check_mission passes correct missions -------------------------------------------


def test_daily_loop_keeps_the_laws() -> None:
    report = check_mission("daily_loop", daily_params, daily_states(), settings=FAST)
    assert report.laws == MISSION_LAWS
    assert report.outcomes.get("completed", 0) > 0 and report.outcomes.get("suspended", 0) > 0


def test_daily_loop_as_a_mission_object_keeps_the_laws() -> None:
    approvals = st.fixed_dictionaries({CONFIRM_STEP: st.fixed_dictionaries({"approved": st.booleans()})})
    report = check_mission(DAILY_LOOP, daily_params, daily_states(), approvals, settings=FAST)
    assert report.outcomes == {"completed": report.examples}


def test_echo_keeps_the_laws() -> None:
    params = st.one_of(
        st.fixed_dictionaries({"payload_key": st.sampled_from(COMMON_KEYS)}),
        st.dictionaries(keys(), values(), max_size=2),
    )
    report = check_mission("echo", params, settings=FAST)
    assert report.outcomes.get("completed", 0) > 0 and report.outcomes.get("failed", 0) > 0  # copy from an absent key


def test_run_tests_keeps_the_laws() -> None:
    words = st.lists(st.text(min_size=1, max_size=5), max_size=3)
    params = st.fixed_dictionaries({}, optional={"paths": words, "runner": words, "pattern": st.text(max_size=5)})
    report = check_mission("run_tests", params, settings=FAST)
    assert report.outcomes.get("completed", 0) > 0 and report.outcomes.get("failed", 0) > 0


def test_a_builder_may_refuse_params_it_cannot_plan() -> None:
    def careful(params: Params) -> WorkflowDefinition:
        count = params.get("count", 1)
        if not isinstance(count, int) or count > TIER2_POLICY.max_steps:
            raise InvalidValueError(f"params.count: at most {TIER2_POLICY.max_steps} steps, got {count!r}")
        return sized(params)

    report = check_mission(careful, counts, settings=FAST)
    assert report.outcomes.get("refused", 0) > 0 and report.outcomes.get("completed", 0) > 0


def test_a_registered_mission_runs_with_its_own_operations(monkeypatch: pytest.MonkeyPatch) -> None:
    def add_tax(state: State, step: StepSpec) -> State:
        net = state.get("net", 0)
        if not isinstance(net, (int, float)) or isinstance(net, bool):
            raise OperationError(f"state.net must be a number, got {net!r}")
        return state.set("total", round(net * 1.25, 2))

    def build(params: Params) -> WorkflowDefinition:
        return WorkflowDefinition(
            id="invoice",
            steps=[StepSpec("tax", "runtime", {"operation": "invoice.tax"}), StepSpec("approve", "human", {})],
        )

    monkeypatch.setitem(MISSION_REGISTRY, "invoice", Mission(build, {"invoice.tax": add_tax}))
    nets = st.fixed_dictionaries({"net": st.integers(0, 10**6)})
    report = check_mission("invoice", states=nets, inputs={"approve": "ada"}, settings=FAST)
    assert report.outcomes == {"completed": report.examples}


def test_an_unknown_mission_name_is_refused_before_any_example() -> None:
    with pytest.raises(UnknownMissionError, match="available missions"):
        check_mission("no-such-mission", settings=FAST)
