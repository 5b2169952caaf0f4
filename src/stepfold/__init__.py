"""stepfold: deterministic, auditable workflows as a fold of pure steps over an immutable state."""

from stepfold.builder import MissionSpec, build_workflow
from stepfold.engine import Orchestrator, check_run, resume, run_workflow
from stepfold.errors import (
    AntiFailurePlanningError,
    AntiFailureViolation,
    EnvelopeViolation,
    InvalidDocumentError,
    InvalidValueError,
    OperationError,
    RunNotFoundError,
    StepfoldError,
    StoreError,
    UnknownMissionError,
)
from stepfold.executors import BatchError, CallError, MissionCall, run_as_completed, run_call, run_many
from stepfold.lineage import Lineage, LineageEntry
from stepfold.missions import Builder, Mission
from stepfold.operations import DEFAULT_OPERATIONS, Operation, Operations
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
from stepfold.values import MAX_DEPTH, Params, Value, canonical_json, freeze, thaw, values_equal
from stepfold.verification import Mismatch, Verification, verify
from stepfold.workflow import ExecutionContext, StepSpec, WorkflowDefinition

__all__ = [
    "AntiFailurePlanningError",
    "AntiFailureViolation",
    "BatchError",
    "Builder",
    "CallError",
    "DEFAULT_OPERATIONS",
    "EnvelopeViolation",
    "ExecutionContext",
    "GoldenDivergence",
    "InvalidDocumentError",
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
    "UnknownMissionError",
    "Value",
    "Verification",
    "WorkflowDefinition",
    "build_workflow",
    "canonical_json",
    "check_run",
    "check_suite",
    "compare_golden",
    "discover_missions",
    "freeze",
    "golden_document",
    "golden_json",
    "mission_operations",
    "register_mission",
    "resume",
    "run_as_completed",
    "run_call",
    "run_many",
    "run_mission",
    "run_suite",
    "run_workflow",
    "state_delta",
    "thaw",
    "values_equal",
    "verify",
]
