"""stepfold: deterministic, auditable workflows as a fold of pure steps over an immutable state.

Everything public is re-exported here; this module defines nothing. The
layers, each importing only the ones above it in this list:

values    errors      the one error hierarchy
          messages    format_path, brief_repr: where and what, briefly
          collector   keeping frozen containers out of the cyclic collector's walk
          values      the I-JSON domain: freeze, and what its walk checks
          frozen      thaw and equality of frozen values
          canonical   RFC 8785 (JCS) encoding and sha256_json
          lthash      the homomorphic state hash (LtHash parameters)
          content     a state's persistent map: built from plain data, read by bucket
          delta       StateDelta and its {"set", "removed"} form
          state       State: an immutable mapping with an incremental digest
          rehash      digests recomputed from the entries of states taken as given
          version     __version__, from the installed metadata
core      workflow    StepSpec, WorkflowDefinition, ExecutionContext
          policy      Policy, the checks made before anything runs
          outcome     the recorded outcome of an effect
          failure     the message a failed step gives, as far as the record binds it
          effect      EffectCall, Effect, RetryPolicy, the idempotency key
          operations/ the built-in pure operations
          lineage     every state of a run; receipt: its hash chain
          result      OrchestrationResult and its to_dict
          fields, reader   reading documents back (from_dict)
          engine      the fold: run_workflow, resume, fork, replay
          verdict, verification   verify: ok / tampered / diverged / unverifiable
          divergence  how a replay differs from its record: the step, and what differed
          transfer    a result across a process boundary: packed, rebuilt, checked by its head
missions  missions/   Mission and the built-in missions
          builder     MissionSpec, build_workflow; registry: names -> missions
          mission_call  MissionCall, one mission to run by name
harness   testing/    hypothesis strategies and law checkers (needs the testing extra)
shell     plugins     missions from installed packages
          effects/    performing effects: drive, retries, timeouts, the test effects
          worker, batch, suite, golden   many runs over any executor; golden receipts
          pool        worker processes that ignore Ctrl-C and die with their parent
          signing     Ed25519 over run heads; store/: the SQLite run store
          cli/        the stepfold command; pytest_plugin: golden files in tests

Every name is imported on first use (PEP 562), so `import stepfold` costs
this file alone: the pytest plugin and the console script load only what
they use, and `from stepfold import State` works as always.
"""

from typing import TYPE_CHECKING

from stepfold.version import __version__

if TYPE_CHECKING:  # what mypy and readers see; at run time `__getattr__` imports each name from the same module
    from stepfold.batch import BatchError, CallError, run_as_completed, run_call, run_in_order, run_many
    from stepfold.builder import MissionSpec, build_workflow
    from stepfold.canonical import canonical_json, sha256_json
    from stepfold.effect import Effect, EffectCall, RetryPolicy
    from stepfold.effects.drive import drive
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
    from stepfold.frozen import thaw, values_equal
    from stepfold.golden import GoldenDivergence, compare_golden, golden_document, golden_json
    from stepfold.lineage import Lineage, LineageEntry
    from stepfold.mission_call import MissionCall
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
    from stepfold.suite import Scenario, ScenarioResult, Suite, SuiteResult, check_suite, run_suite
    from stepfold.values import MAX_DEPTH, Params, Value, freeze
    from stepfold.verdict import VERDICTS, Mismatch, Verification
    from stepfold.verification import verify
    from stepfold.workflow import ExecutionContext, StepSpec, WorkflowDefinition

_EXPORTS: dict[str, tuple[str, ...]] = {
    "stepfold.batch": ("BatchError", "CallError", "run_as_completed", "run_call", "run_in_order", "run_many"),
    "stepfold.builder": ("MissionSpec", "build_workflow"),
    "stepfold.canonical": ("canonical_json", "sha256_json"),
    "stepfold.effect": ("Effect", "EffectCall", "RetryPolicy"),
    "stepfold.effects.drive": ("drive",),
    "stepfold.engine": ("Orchestrator", "check_run", "fork", "replay", "resume", "run_workflow"),
    "stepfold.errors": (
        "AlreadyResumedError",
        "AntiFailurePlanningError",
        "AntiFailureViolation",
        "EnvelopeViolation",
        "InvalidDocumentError",
        "InvalidInputError",
        "InvalidValueError",
        "OperationError",
        "RunNotFoundError",
        "StepfoldError",
        "StoreError",
        "TamperedRunError",
        "UnknownMissionError",
    ),
    "stepfold.frozen": ("thaw", "values_equal"),
    "stepfold.golden": ("GoldenDivergence", "compare_golden", "golden_document", "golden_json"),
    "stepfold.lineage": ("Lineage", "LineageEntry"),
    "stepfold.mission_call": ("MissionCall",),
    "stepfold.missions": ("Builder", "Mission"),
    "stepfold.operations": ("DEFAULT_OPERATIONS", "Operation", "Operations"),
    "stepfold.outcome": ("EffectOutcome", "failed_outcome", "ok_outcome", "read_outcome"),
    "stepfold.plugins": ("discover_missions",),
    "stepfold.policy": ("TIER2_POLICY", "Policy"),
    "stepfold.receipt": ("Receipt", "ReceiptLink"),
    "stepfold.registry": ("MISSION_REGISTRY", "mission_operations", "register_mission", "run_mission"),
    "stepfold.result": ("OrchestrationResult",),
    "stepfold.state": ("State", "StateDelta", "state_delta"),
    "stepfold.store": ("RunSummary", "SQLiteStore"),
    "stepfold.suite": ("Scenario", "ScenarioResult", "Suite", "SuiteResult", "check_suite", "run_suite"),
    "stepfold.values": ("MAX_DEPTH", "Params", "Value", "freeze"),
    "stepfold.verdict": ("VERDICTS", "Mismatch", "Verification"),
    "stepfold.verification": ("verify",),
    "stepfold.workflow": ("ExecutionContext", "StepSpec", "WorkflowDefinition"),
}
"""Each module and the public names it defines; tests/test_package.py checks that it matches the imports above."""

_MODULE_OF = {name: module for module, names in _EXPORTS.items() for name in names}

__all__ = [
    "__version__",
    "AlreadyResumedError",
    "AntiFailurePlanningError",
    "AntiFailureViolation",
    "BatchError",
    "Builder",
    "CallError",
    "DEFAULT_OPERATIONS",
    "Effect",
    "EffectCall",
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
    "RetryPolicy",
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
    "drive",
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
    "run_in_order",
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


if not TYPE_CHECKING:  # hidden from mypy, which would otherwise accept any `from stepfold import <typo>`

    def __getattr__(name: str) -> object:
        """Import the module that defines `name` (or the submodule `stepfold.<name>`) on first use."""
        import importlib

        module = _MODULE_OF.get(name)
        if module is None:
            if name.startswith("__"):  # probes such as `__test__` or `__wrapped__` name no submodule
                raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
            try:
                return importlib.import_module(f"{__name__}.{name}")
            except ModuleNotFoundError as missing:
                if missing.name != f"{__name__}.{name}":
                    raise
                raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
        value = getattr(importlib.import_module(module), name)
        globals()[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(set(globals()) | set(__all__))
