"""The package surface: documented modules export their names, and everything in `__all__` imports."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

import stepfold
import stepfold.builder
import stepfold.engine
import stepfold.registry


@pytest.mark.parametrize(
    ("module", "names"),
    [
        (
            "stepfold.engine",
            [
                "Orchestrator",
                "run_workflow",
                "resume",
                "DEFAULT_OPERATIONS",
                "TIER2_POLICY",
                "Policy",
                "StepSpec",
                "WorkflowDefinition",
                "ExecutionContext",
                "OrchestrationResult",
            ],
        ),
        ("stepfold.builder", ["MissionSpec", "build_workflow"]),
        ("stepfold.registry", ["MISSION_REGISTRY", "run_mission", "UnknownMissionError"]),
    ],
)
def test_documented_modules_export_their_names(module: str, names: list[str]) -> None:
    loaded = importlib.import_module(module)
    for name in names:
        assert hasattr(loaded, name), f"{module}.{name}"
        assert getattr(loaded, name) is getattr(stepfold, name), f"{module}.{name} is not stepfold.{name}"
        exported = getattr(loaded, "__all__", None)
        if exported is not None:
            assert name in exported, f"{name} missing from {module}.__all__"


def test_everything_in_all_is_importable() -> None:
    assert stepfold.__all__
    assert len(set(stepfold.__all__)) == len(stepfold.__all__)
    for name in stepfold.__all__:
        namespace: dict[str, object] = {}
        exec(f"from stepfold import {name}", namespace)
        assert namespace[name] is getattr(stepfold, name)


LAYERS: list[list[str]] = [
    ["errors", "messages", "collector", "values", "canonical", "lthash", "delta", "state"],
    ["workflow", "policy", "outcome", "effect", "operations", "lineage", "receipt", "result", "fields", "reader"],
    ["engine", "verdict", "verification"],
    ["missions", "builder", "registry", "mission_call"],
    ["testing"],
    ["plugins", "effects", "worker", "batch", "suite", "golden", "signing", "store", "cli", "pytest_plugin"],
]
"""stepfold's rooms, from the bottom up (as the package docstring shows them): each imports only its own layer and those below."""


def _stepfold_imports(path: Path) -> set[str]:
    """The first component after `stepfold.` of every stepfold module a file imports (at any depth in the file)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("stepfold."):
            found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            found.update(a.name.split(".")[1] for a in node.names if a.name.startswith("stepfold."))
    return found


def test_imports_point_down_the_layers() -> None:
    package = Path(stepfold.__file__).parent
    layer_of = {room: index for index, rooms in enumerate(LAYERS) for room in rooms}
    rooms = {p.stem for p in package.glob("*.py")} | {p.name for p in package.iterdir() if (p / "__init__.py").exists()}
    assert rooms - {"__init__", "__main__", "version"} == set(layer_of), "a new room must be placed in LAYERS"
    upward = []
    for path in sorted(package.rglob("*.py")):
        room = path.relative_to(package).parts[0].removesuffix(".py")
        if room in ("__init__", "__main__"):
            continue
        for imported in _stepfold_imports(path) - {room, "version"}:
            if layer_of[imported] > layer_of[room]:
                upward.append(f"{path.relative_to(package)} imports stepfold.{imported}")
    assert upward == []
