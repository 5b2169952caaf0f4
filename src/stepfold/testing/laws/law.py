"""The laws as values: `Law(name, statement, fix)`, every law stepfold's guarantees rest on, and how a broken one is reported.

What counts as failing *cleanly*: an operation (or a builder refusing its
params) that raises a `StepfoldError` — `OperationError` is the one meant
for it; `InvalidValueError` from a `State` method counts too. Any other
exception (`KeyError`, `TypeError`, ...) is a crash: the engine would still
record it as a failed step, but it is a bug.
"""

from __future__ import annotations

import pprint
from collections.abc import Mapping
from typing import Final

import attrs
from pyrsistent import PMap, pmap

from stepfold.errors import StepfoldError

__all__ = [
    "Law",
    "LawViolation",
    "LawReport",
    "LAWS",
    "OPERATION_LAWS",
    "MISSION_LAWS",
    "RETURNS_STATE",
    "NO_MUTATION",
    "DETERMINISTIC",
    "DECLARED_WRITES",
    "BUILDS_CLEANLY",
    "BUILDER_DETERMINISTIC",
    "WITHIN_POLICY",
    "RUN_DETERMINISTIC",
    "RESUME_EQUALS_RUN",
    "FAILS_CLEANLY",
    "FAILED_OUTCOME_FAILS_CLEANLY",
]


@attrs.frozen
class Law:
    """One law: its `name` (as messages show it), the `statement` of what must hold, and how to `fix` code that breaks it."""

    name: str
    statement: str
    fix: str

    def __str__(self) -> str:
        return self.name


RETURNS_STATE: Final = Law(
    "returns-state",
    "an operation returns a State in the value domain, or fails cleanly by raising a StepfoldError",
    "return `state.set(...)`/`state.update(...)` (a State), and raise OperationError for bad input "
    "instead of letting KeyError, TypeError and friends escape",
)
NO_MUTATION: Final = Law(
    "no-mutation",
    "an operation leaves the state and the step it was given exactly as they were",
    "derive a new State with set/update/remove; never object.__setattr__ or write into what you were given",
)
DETERMINISTIC: Final = Law(
    "deterministic",
    "an operation gives the same result for equal states and steps, every time it is called",
    "compute the result from the state and the step alone: no counters, clocks, random numbers, id() "
    "or module-level caches",
)
DECLARED_WRITES: Final = Law(
    "declared-writes",
    "an operation adds, changes or removes only the keys it declares it writes",
    "write only the declared keys, or declare every key the operation may write",
)
BUILDS_CLEANLY: Final = Law(
    "builds-cleanly",
    "a builder returns a WorkflowDefinition, or refuses its params by raising a StepfoldError",
    "return a WorkflowDefinition, and raise InvalidValueError for params the mission cannot use",
)
BUILDER_DETERMINISTIC: Final = Law(
    "builder-deterministic",
    "a builder builds the same workflow (same digest) from equal params, every time",
    "build the workflow from the params alone: no counters, clocks, random ids or global state",
)
WITHIN_POLICY: Final = Law(
    "within-policy",
    "a builder's workflow passes the policy (step count, human steps, kinds, effects) and names only known operations",
    "plan fewer steps (or fewer human steps), use the kinds and effects the policy allows, register every "
    "operation the workflow names, or refuse the params with InvalidValueError",
)
RUN_DETERMINISTIC: Final = Law(
    "run-deterministic",
    "running a mission's workflow twice on the same state, inputs and effect outcomes gives identical results and receipts",
    "make every operation the workflow runs pass check_operation; results must not depend on the process",
)
RESUME_EQUALS_RUN: Final = Law(
    "resume-equals-run",
    "suspending at a human or effect step and resuming gives the result of running with every input and outcome up front",
    "keep nothing between steps outside the State: an operation must not read what an earlier "
    "operation left in a global, a closure or a cache",
)
FAILS_CLEANLY: Final = Law(
    "fails-cleanly",
    "every operation a run reaches returns a State or fails cleanly (a StepfoldError), whatever state, input or "
    "effect value it is given",
    "check what a person or an effect hands you (payload['input']) and the state you read, and raise "
    "OperationError (or InvalidInputError for a person's input) for what you cannot use",
)
FAILED_OUTCOME_FAILS_CLEANLY: Final = Law(
    "failed-outcome-fails-cleanly",
    "a failed effect outcome fails its step, without running the step's operation, and the error names the step "
    "and the effect",
    "give the effect step its own operation (or none) and nothing else; report a failed effect through its outcome",
)

OPERATION_LAWS: Final = (RETURNS_STATE, NO_MUTATION, DETERMINISTIC, DECLARED_WRITES)
"""The laws `check_operation` checks, in the order it checks them on each example."""

MISSION_LAWS: Final = (
    BUILDS_CLEANLY,
    BUILDER_DETERMINISTIC,
    WITHIN_POLICY,
    RUN_DETERMINISTIC,
    FAILS_CLEANLY,
    FAILED_OUTCOME_FAILS_CLEANLY,
    RESUME_EQUALS_RUN,
)
"""The laws `check_mission` checks, in the order it checks them on each example."""

LAWS: Final[PMap[str, Law]] = pmap({law.name: law for law in (*OPERATION_LAWS, *MISSION_LAWS)})
"""Every law by name."""


def _render(law: Law, subject: str, detail: str, example: Mapping[str, object], flaky: bool) -> str:
    lines = [f"law {law.name!r} broken by {subject}: {detail}"]
    if flaky:
        lines.append(
            "  (hypothesis could not make this example fail again when it replayed it: "
            "the outcome changes from call to call, which is itself non-determinism)"
        )
    lines.append("minimal example (shrunk by hypothesis):")
    for name, value in example.items():
        shown = pprint.pformat(value, width=100, sort_dicts=False).replace("\n", "\n    ")
        lines.append(f"  {name} = {shown}")
    lines.append(f"the law: {law.statement}")
    lines.append(f"to fix it: {law.fix}")
    return "\n".join(lines)


class LawViolation(StepfoldError, AssertionError):
    """A law of an operation or a mission does not hold; the message names it and shows the minimal counterexample.

    `law` is the `Law`, `subject` what broke it (e.g. "operation 'flaky'"),
    `detail` what went wrong, `example` the shrunk inputs as plain data
    (state, payload / params, inputs), and `flaky` is True when hypothesis
    could not reproduce the failure on replay.
    """

    __module__ = "stepfold.testing"  # where users import it from, and what a traceback shows

    def __init__(
        self, law: Law, subject: str, detail: str, example: Mapping[str, object], *, flaky: bool = False
    ) -> None:
        super().__init__(_render(law, subject, detail, example, flaky))
        self.law = law
        self.subject = subject
        self.detail = detail
        self.example: dict[str, object] = dict(example)
        self.flaky = flaky

    def __reduce__(self) -> tuple[object, ...]:
        """Pickle by the fields, so a violation survives a process pool or pytest-xdist."""
        return (_violation, (self.law, self.subject, self.detail, self.example, self.flaky))


def _violation(law: Law, subject: str, detail: str, example: Mapping[str, object], flaky: bool) -> LawViolation:
    return LawViolation(law, subject, detail, example, flaky=flaky)


@attrs.frozen
class LawReport:
    """What a passing check tried: the subject, the laws that held, and how many examples ended which way.

    `outcomes` counts examples by how they ended: for an operation
    "returned" and "failed" (cleanly); for a mission "refused" (the builder
    refused the params), "input refused" (a step refused a drawn input) and
    the full run's status ("completed", "failed", "suspended"). Assert on it
    to make sure your strategies reach the cases you care about (e.g.
    `report.outcomes.get("returned", 0) > 0`).
    """

    subject: str
    laws: tuple[Law, ...]
    examples: int
    outcomes: PMap[str, int]
