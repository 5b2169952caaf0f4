"""The machinery every law checker shares: running hypothesis, and turning the minimal broken example into one `LawViolation`."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import attrs
import hypothesis
from hypothesis import HealthCheck, Phase

from stepfold.frozen import values_identical
from stepfold.messages import format_path
from stepfold.state import State
from stepfold.testing.laws.law import Law, LawViolation

__all__ = ["Broken", "Failure", "law_settings", "run_hypothesis", "name_of", "as_state", "first_difference"]


class Broken(Exception):
    """Raised inside the hypothesis test, so that hypothesis shrinks to the minimal breaking example."""

    def __init__(
        self, law: Law, detail: str, example: Mapping[str, object], cause: BaseException | None = None
    ) -> None:
        super().__init__(f"law {law.name!r}: {detail}")
        self.law = law
        self.detail = detail
        self.example = dict(example)
        self.cause = cause

    def violation(self, subject: str, *, flaky: bool) -> LawViolation:
        """The `LawViolation` this breakage is, for `subject`."""
        return LawViolation(self.law, subject, self.detail, self.example, flaky=flaky)


@attrs.frozen
class Failure:
    """A clean failure (a StepfoldError): its type name and message, compared by value."""

    kind: str
    message: str

    @classmethod
    def of(cls, exc: BaseException) -> Failure:
        """The failure `exc` is."""
        return cls(type(exc).__name__, str(exc))


def law_settings(chosen: hypothesis.settings | None) -> hypothesis.settings:
    """The caller's settings (or the current profile without a deadline), reporting one bug, without `explain`.

    The explain phase annotates hypothesis's own report, which a `LawViolation`
    replaces, and it costs more than all the other phases of a failing check.
    """
    base = (
        chosen
        if chosen is not None
        else hypothesis.settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
    )
    phases = tuple(phase for phase in base.phases if phase is not Phase.explain)
    return hypothesis.settings(base, report_multiple_bugs=False, phases=phases)


def _first_broken(error: BaseException) -> Broken | None:
    if isinstance(error, Broken):
        return error
    if isinstance(error, BaseExceptionGroup):
        for inner in error.exceptions:
            found = _first_broken(inner)
            if found is not None:
                return found
    return None


def run_hypothesis(test: Callable[[], None], subject: str) -> None:
    """Run the law test; turn the minimal breaking example hypothesis replays last into one `LawViolation`."""
    __tracebackhide__ = True
    try:
        test()
    except Broken as broken:
        raise broken.violation(subject, flaky=False) from broken.cause
    except BaseExceptionGroup as group:  # hypothesis's FlakyFailure: the failure did not reproduce on replay
        broken_in_group = _first_broken(group)
        if broken_in_group is None:
            raise
        raise broken_in_group.violation(subject, flaky=True) from broken_in_group.cause


def name_of(thing: object) -> str:
    """A function's `__name__`, or the repr of anything else."""
    name = getattr(thing, "__name__", None)
    return name if isinstance(name, str) else repr(thing)


def as_state(drawn: Mapping[str, object]) -> State:
    """A drawn mapping as a State (a State as is)."""
    return drawn if isinstance(drawn, State) else State(drawn)


def first_difference(a: object, b: object, root: str, segments: list[str | int]) -> str | None:
    """The path (from `root`) and the two values where plain JSON data `a` and `b` first differ, or None."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b)):
            if key not in a or key not in b:
                side = "first" if key in a else "second"
                return f"{format_path(root, [*segments, key])} only in the {side}"
            found = first_difference(a[key], b[key], root, [*segments, key])
            if found is not None:
                return found
        return None
    if isinstance(a, list) and isinstance(b, list):
        for index, (x, y) in enumerate(zip(a, b)):
            found = first_difference(x, y, root, [*segments, index])
            if found is not None:
                return found
        if len(a) != len(b):
            return f"{format_path(root, segments)}: {len(a)} items vs {len(b)}"
        return None
    if values_identical(a, b):
        return None
    return f"{format_path(root, segments)}: {a!r} vs {b!r}"
