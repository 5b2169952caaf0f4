"""Law checkers for your own operations and missions: `check_operation`, `check_mission`, the `Law`s and `LawViolation`.

Each checker runs hypothesis over generated examples and checks the laws
stepfold's guarantees rest on. A broken law raises one `LawViolation` whose
message names the law and the subject, says what went wrong, shows the
minimal counterexample hypothesis shrank to, and says what to do about it.
"""

from stepfold.testing.laws.law import (
    BUILDER_DETERMINISTIC,
    BUILDS_CLEANLY,
    DECLARED_WRITES,
    DETERMINISTIC,
    FAILED_OUTCOME_FAILS_CLEANLY,
    FAILS_CLEANLY,
    LAWS,
    MISSION_LAWS,
    NO_MUTATION,
    OPERATION_LAWS,
    RESUME_EQUALS_RUN,
    RETURNS_STATE,
    RUN_DETERMINISTIC,
    WITHIN_POLICY,
    Law,
    LawReport,
    LawViolation,
)
from stepfold.testing.laws.missions import Inputs, check_mission
from stepfold.testing.laws.operations import Writes, check_operation

__all__ = [
    "BUILDER_DETERMINISTIC",
    "BUILDS_CLEANLY",
    "DECLARED_WRITES",
    "DETERMINISTIC",
    "FAILED_OUTCOME_FAILS_CLEANLY",
    "FAILS_CLEANLY",
    "Inputs",
    "LAWS",
    "Law",
    "LawReport",
    "LawViolation",
    "MISSION_LAWS",
    "NO_MUTATION",
    "OPERATION_LAWS",
    "RESUME_EQUALS_RUN",
    "RETURNS_STATE",
    "RUN_DETERMINISTIC",
    "WITHIN_POLICY",
    "Writes",
    "check_mission",
    "check_operation",
]
