"""The package surface: documented modules export their names, and everything in `__all__` imports."""

from __future__ import annotations

import ast
import importlib
import re
import subprocess
import sys
from pathlib import Path

import pytest

import stepfold
import stepfold.builder
import stepfold.engine
import stepfold.registry
from tests.helpers import ROOT, installed_stubs, user_mypy


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
                "AntiFailureViolation",
                "EnvelopeViolation",
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
    [
        "errors",
        "messages",
        "collector",
        "values",
        "frozen",
        "canonical",
        "lthash",
        "content",
        "delta",
        "state",
        "rehash",
        "version",
    ],
    [
        "workflow",
        "policy",
        "outcome",
        "failure",
        "effect",
        "operations",
        "lineage",
        "receipt",
        "result",
        "fields",
        "reader",
    ],
    ["engine", "verdict", "divergence", "verification", "transfer"],
    ["missions", "builder", "registry", "mission_call"],
    ["testing"],
    ["plugins", "effects", "worker", "pool", "batch", "suite", "golden", "signing", "store", "cli", "pytest_plugin"],
]
"""stepfold's rooms, from the bottom up (as the package docstring shows them): each imports only its own layer and those below."""


def _rooms() -> set[str]:
    """Every module and subpackage of src/stepfold, by name."""
    package = Path(stepfold.__file__).parent
    return {
        path.stem if path.is_file() else path.name
        for path in package.iterdir()
        if (path.suffix == ".py" and path.stem not in ("__init__", "__main__")) or (path / "__init__.py").is_file()
    }


def test_every_room_is_named_in_the_package_docstring_and_the_readmes_layout() -> None:
    assert stepfold.__doc__ is not None
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    layout = readme[readme.index("## Layout") : readme.index("## Documentation")]
    for room in sorted(_rooms()):
        assert re.search(rf"\b{room}\b", stepfold.__doc__), f"{room}: not in stepfold's docstring"
        assert re.search(rf"\b{room}\b", layout), f"{room}: not in the README's Layout"


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
    assert _rooms() == set(layer_of), "a new room must be placed in LAYERS"
    upward = []
    for path in sorted(package.rglob("*.py")):
        room = path.relative_to(package).parts[0].removesuffix(".py")
        if room in ("__init__", "__main__"):
            continue
        for imported in _stepfold_imports(path) - {room, "version"}:
            if layer_of[imported] > layer_of[room]:
                upward.append(f"{path.relative_to(package)} imports stepfold.{imported}")
    assert upward == []


def test_the_lazy_exports_are_the_imports_mypy_sees() -> None:
    """`stepfold/__init__.py` imports each name on first use; its table matches the imports under TYPE_CHECKING."""
    tree = ast.parse(Path(stepfold.__file__).read_text(encoding="utf-8"))
    guarded = next(
        node
        for node in tree.body
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"
    )
    imported = {
        (node.module, alias.name) for node in guarded.body if isinstance(node, ast.ImportFrom) for alias in node.names
    }
    table = stepfold._EXPORTS
    assert imported == {(module, name) for module, names in table.items() for name in names}
    assert {name for _, name in imported} | {"__version__"} == set(stepfold.__all__)


def _stepfold_modules_after(code: str) -> list[str]:
    """The stepfold modules a fresh interpreter has imported after running `code`."""
    probe = f"{code}\nimport sys\nprint(sorted(m for m in sys.modules if m.split('.')[0] == 'stepfold'))"
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=False, timeout=60)
    assert proc.returncode == 0, proc.stderr
    listed: list[str] = ast.literal_eval(proc.stdout.strip())
    return listed


def test_importing_stepfold_imports_only_what_is_used() -> None:
    assert _stepfold_modules_after("import stepfold") == ["stepfold", "stepfold.version"]
    loaded = _stepfold_modules_after("from stepfold import canonical_json")
    assert "stepfold.canonical" in loaded and "stepfold.cli" not in loaded and "stepfold.store" not in loaded
    assert "stepfold.engine" in _stepfold_modules_after("import stepfold; stepfold.run_workflow")


def test_a_name_stepfold_does_not_have_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="module 'stepfold' has no attribute 'Stat'"):
        stepfold.Stat  # type: ignore[attr-defined]  # noqa: B018
    with pytest.raises(ImportError, match="cannot import name 'Stat'"):
        exec("from stepfold import Stat", {})
    assert stepfold.state is importlib.import_module("stepfold.state")  # a submodule is an attribute, as always
    assert set(stepfold.__all__) <= set(dir(stepfold))


def test_the_testing_harness_without_hypothesis_says_what_to_install() -> None:
    code = "import sys; sys.modules['hypothesis'] = None; import stepfold.testing"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=60)
    assert proc.returncode == 1
    assert proc.stderr.splitlines()[-1] == (
        "ModuleNotFoundError: stepfold.testing needs hypothesis: install it with `pip install 'stepfold[testing]'`"
    )


# what users' mypy sees -------------------------------------------------------------------------------------

USER_CODE = """
from pyrsistent import PMap, PRecord, field, pmap
from stepfold import State


class Point(PRecord):
    x = field(type=int)


state = State({"tasks": {"a": 1}})
tasks = state["tasks"]
if isinstance(tasks, PMap):
    more = tasks.update({"b": 2})
    count: int = more.anything
    wrong: int = tasks.update({"c": 3})
    same: bool = tasks == {"a": 1} and state == {"tasks": {"a": 1}}
state.anything
ok: int = Point(x=1).x + len(pmap({"a": 1}).set("b", 2))
"""


def test_users_mypy_reads_stepfolds_values_with_the_shipped_pyrsistent_stubs(tmp_path: Path) -> None:
    """`State.anything`, `PMap.anything` and an `update` result used as an int are errors for a user's mypy too."""
    stubs = installed_stubs()
    if stubs is not None and (ROOT / "typings" / "pyrsistent").is_dir():  # installed: the stubs are typings/'s
        for stub in stubs.glob("*.pyi"):
            assert stub.read_bytes() == (ROOT / "typings" / "pyrsistent" / stub.name).read_bytes(), stub.name
    found = user_mypy(tmp_path, USER_CODE)
    lines = USER_CODE.splitlines()
    misspelt, misused, unknown = (
        lines.index(text) + 1
        for text in ("    count: int = more.anything", '    wrong: int = tasks.update({"c": 3})', "state.anything")
    )
    assert sorted(found) == [misspelt, misused, unknown], found  # PRecord fields, PMap use, == dict still pass
    assert found[unknown] == '"State" has no attribute "anything"  [attr-defined]'
    assert found[misspelt].startswith('"PMap[str, ') and 'has no attribute "anything"' in found[misspelt]
    assert found[misused].startswith('Incompatible types in assignment (expression has type "PMap[str, ')


SHARED_DESIGN = ROOT.parent / "shared" / "DESIGN.md"
"""The design the project is built to, beside the checkout (absent in an unpacked sdist or a user's clone)."""


def test_the_contract_in_docs_is_the_design_word_for_word() -> None:
    contract = (ROOT / "docs" / "design.md").read_text(encoding="utf-8")
    header, blank, body = contract.split("\n", 2)
    assert header.startswith("> This is stepfold's contract") and blank == ""
    if not SHARED_DESIGN.is_file():
        pytest.skip(f"{SHARED_DESIGN} is absent: nothing to compare docs/design.md with")
    assert body == SHARED_DESIGN.read_text(encoding="utf-8"), "copy ../shared/DESIGN.md into docs/design.md again"
