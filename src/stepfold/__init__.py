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
from stepfold.values import MAX_DEPTH, Params, Value, canonical_json, freeze, thaw, values_equal
from stepfold.verification import Mismatch, Verification, verify
from stepfold.workflow import ExecutionContext, StepSpec, WorkflowDefinition

__all__ = [
    "AntiFailurePlanningError",
    "AntiFailureViolation",
    "Builder",
    "DEFAULT_OPERATIONS",
    "EnvelopeViolation",
    "ExecutionContext",
    "InvalidDocumentError",
    "InvalidValueError",
    "Lineage",
    "LineageEntry",
    "MAX_DEPTH",
    "MISSION_REGISTRY",
    "Mismatch",
    "Mission",
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
    "State",
    "StateDelta",
    "StepSpec",
    "StepfoldError",
    "StoreError",
    "TIER2_POLICY",
    "UnknownMissionError",
    "Value",
    "Verification",
    "WorkflowDefinition",
    "build_workflow",
    "canonical_json",
    "check_run",
    "discover_missions",
    "freeze",
    "mission_operations",
    "register_mission",
    "resume",
    "run_mission",
    "run_workflow",
    "state_delta",
    "thaw",
    "values_equal",
    "verify",
]
