"""The verdict values of `verify`: `Verification`, `Mismatch`, and the four verdicts."""

from __future__ import annotations

import attrs

from stepfold.policy import Policy
from stepfold.result import OrchestrationResult

__all__ = ["Verification", "Mismatch", "VERDICTS", "OK", "TAMPERED", "DIVERGED", "UNVERIFIABLE"]

OK = "ok"
TAMPERED = "tampered"
DIVERGED = "diverged"
UNVERIFIABLE = "unverifiable"
VERDICTS = (OK, TAMPERED, DIVERGED, UNVERIFIABLE)
"""The verdicts `verify` gives."""


@attrs.frozen
class Mismatch:
    """Where verification first failed: the step's position in the run (`index`, from 0) and its id."""

    index: int
    step_id: str

    def __str__(self) -> str:
        return f"step {self.index + 1} ({self.step_id!r})"


@attrs.frozen
class Verification:
    """The verdict, how many steps checked out, the first mismatch, one sentence of reason, the policy checked, the replay.

    `ok` is `verdict == "ok"`; `bool(verification)` is `ok`.
    """

    verdict: str
    checked_steps: int
    first_mismatch: Mismatch | None
    reason: str
    policy: Policy | None = None
    """The policy the run was checked under (the recorded one; None when the document could not be read)."""
    replayed: OrchestrationResult | None = attrs.field(default=None, repr=False)
    """The replay's result, when the record was replayed."""

    @property
    def ok(self) -> bool:
        """True when the verdict is "ok"."""
        return self.verdict == OK

    def __bool__(self) -> bool:
        return self.ok
