"""stepfold: deterministic, auditable workflows as a fold of pure steps over an immutable state."""

from stepfold.builder import MissionSpec, build_workflow
from stepfold.canonical import canonical_json, sha256_json
from stepfold.engine import Orchestrator, check_run, fork, replay, resume, run_workflow
from stepfold.errors import (
    AlreadyResumedError,
    AntiFailurePlanningError,
    AntiFailureViolation,
    EnvelopeViolation,
    InvalidDocumentError,
    InvalidInputError,
    InvalidValueError,
    OperationError,
    RunNotFoundError,
    StepfoldError,
    StoreError,
    TamperedRunError,
    UnknownMissionError,
)
from stepfold.executors import BatchError, CallError, MissionCall, run_as_completed, run_call, run_many
from stepfold.lineage import Lineage, LineageEntry
from stepfold.missions import Builder, Mission
from stepfold.operations import DEFAULT_OPERATIONS, Operation, Operations
from stepfold.outcome import EffectOutcome, failed_outcome, ok_outcome, read_outcome
from stepfold.plugins import discover_missions
from stepfold.policy import TIER2_POLICY, Policy
from stepfold.receipt import Receipt, ReceiptLink
from stepfold.registry import MISSION_REGISTRY, mission_operations, register_mission, run_mission
from stepfold.result import OrchestrationResult
from stepfold.state import State, StateDelta, state_delta
from stepfold.store import RunSummary, SQLiteStore
from stepfold.suite import (
    GoldenDivergence,
    Scenario,
    ScenarioResult,
    Suite,
    SuiteResult,
    check_suite,
    compare_golden,
    golden_document,
    golden_json,
    run_suite,
)
from stepfold.values import MAX_DEPTH, Params, Value, freeze, thaw, values_equal
from stepfold.verification import VERDICTS, Mismatch, Verification, verify
from stepfold.version import __version__
from stepfold.workflow import ExecutionContext, StepSpec, WorkflowDefinition

__all__ = [
    "__version__",
    "AlreadyResumedError",
    "AntiFailurePlanningError",
    "AntiFailureViolation",
    "BatchError",
    "Builder",
    "CallError",
    "DEFAULT_OPERATIONS",
    "EffectOutcome",
    "EnvelopeViolation",
    "ExecutionContext",
    "GoldenDivergence",
    "InvalidDocumentError",
    "InvalidInputError",
    "InvalidValueError",
    "Lineage",
    "LineageEntry",
    "MAX_DEPTH",
    "MISSION_REGISTRY",
    "Mismatch",
    "Mission",
    "MissionCall",
    "MissionSpec",
    "Operation",
    "OperationError",
    "Operations",
    "OrchestrationResult",
    "Orchestrator",
    "Params",
    "Policy",
    "Receipt",
    "ReceiptLink",
    "RunNotFoundError",
    "RunSummary",
    "SQLiteStore",
    "Scenario",
    "ScenarioResult",
    "State",
    "StateDelta",
    "StepSpec",
    "StepfoldError",
    "StoreError",
    "Suite",
    "SuiteResult",
    "TIER2_POLICY",
    "TamperedRunError",
    "UnknownMissionError",
    "VERDICTS",
    "Value",
    "Verification",
    "WorkflowDefinition",
    "build_workflow",
    "canonical_json",
    "check_run",
    "check_suite",
    "compare_golden",
    "discover_missions",
    "failed_outcome",
    "fork",
    "freeze",
    "golden_document",
    "golden_json",
    "mission_operations",
    "ok_outcome",
    "read_outcome",
    "register_mission",
    "replay",
    "resume",
    "run_as_completed",
    "run_call",
    "run_many",
    "run_mission",
    "run_suite",
    "run_workflow",
    "sha256_json",
    "state_delta",
    "thaw",
    "values_equal",
    "verify",
]
