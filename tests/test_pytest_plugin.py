"""The pytest plugin, run for real with pytester: `stepfold_golden` and `--stepfold-update-golden`."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from tests.helpers import user_mypy

pytest_plugins = ["pytester"]

CONFTEST = """
import pytest
from stepfold import MISSION_REGISTRY, Mission, StepSpec, WorkflowDefinition

STEP_SIZE = {step_size}


def bump(state, step):
    return state.set("count", state.get("count", 0) + STEP_SIZE)


def build(params):
    return WorkflowDefinition(id="counter", steps=[
        StepSpec("counter-start", "runtime", {{"operation": "set", "key": "started", "value": True}}),
        StepSpec("counter-bump", "runtime", {{"operation": "counter.bump"}}),
        StepSpec("counter-note", "runtime", {{"operation": "append", "key": "notes", "value": "bumped"}}),
    ])


@pytest.fixture(autouse=True)
def counter_mission(monkeypatch):
    monkeypatch.setitem(MISSION_REGISTRY, "counter", Mission(build, operations={{"counter.bump": bump}}))
"""

TEST_MODULE = """
from stepfold.suite import Scenario, Suite, run_suite

SUITE = Suite("counting", [
    Scenario("twice", {"count": 0}, ["counter", "counter"]),
    Scenario("echo", {"x": 1}, [("echo", {"payload_key": "x"})]),
])


def test_counting(stepfold_golden):
    result = stepfold_golden.check(SUITE)
    assert result.scenario("twice").final_state["notes"] == ["bumped", "bumped"]


def test_a_result_and_an_explicit_path(stepfold_golden):
    stepfold_golden.check(run_suite(SUITE), path="golden/explicit.json")
"""


def plugin_arguments() -> list[str]:
    """Load the plugin by name unless the installed `pytest11` entry point already does."""
    installed = any(point.value == "stepfold.pytest_plugin" for point in entry_points(group="pytest11"))
    return [] if installed else ["-p", "stepfold.pytest_plugin"]


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    """A user's project: a conftest registering the `counter` mission and a test module checking a suite."""
    pytester.makeconftest(CONFTEST.format(step_size=1))
    pytester.makepyfile(test_golden=TEST_MODULE)
    return pytester


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest(*plugin_arguments(), *args)


def test_a_missing_golden_file_fails_and_says_how_to_create_it(project: pytest.Pytester) -> None:
    result = run(project)
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(
        [
            "*golden file tests/golden/counting.json does not exist; run `pytest --stepfold-update-golden` to create it*",
            "*golden file golden/explicit.json does not exist*",
        ]
    )
    assert not (project.path / "tests").exists()


def test_update_writes_the_golden_files_and_the_next_run_passes(project: pytest.Pytester) -> None:
    result = run(project, "--stepfold-update-golden")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(
        ["*stepfold golden receipts*", "created tests/golden/counting.json", "created golden/explicit.json"]
    )
    golden = json.loads((project.path / "tests" / "golden" / "counting.json").read_text(encoding="utf-8"))
    assert golden["format"] == "stepfold/golden/1" and golden["suite"] == "counting"
    assert list(golden["scenarios"]) == ["twice", "echo"]
    assert list(golden["scenarios"]["twice"]) == ["0:counter", "1:counter"]
    assert [link["step"] for link in golden["scenarios"]["twice"]["1:counter"]["links"]] == [
        "counter-start",
        "counter-bump",
        "counter-note",
    ]
    assert (project.path / "golden" / "explicit.json").read_text(encoding="utf-8") == (
        project.path / "tests" / "golden" / "counting.json"
    ).read_text(encoding="utf-8")
    run(project).assert_outcomes(passed=2)
    again = run(project, "--stepfold-update-golden")
    again.stdout.fnmatch_lines(["unchanged tests/golden/counting.json"])


def test_a_changed_operation_fails_naming_the_scenario_the_mission_and_the_first_divergent_step(
    project: pytest.Pytester,
) -> None:
    run(project, "--stepfold-update-golden").assert_outcomes(passed=2)
    project.makeconftest(CONFTEST.format(step_size=2))
    result = run(project, "-k", "test_counting")
    result.assert_outcomes(failed=1, deselected=1)
    result.stdout.fnmatch_lines(
        [
            "*golden receipts of suite 'counting' differ from tests/golden/counting.json:",
            "*scenario 'twice', mission '0:counter': first divergent step 'counter-bump' (index 1): its link differs: "
            "its operation now produces a different state (and 1 later mission(s) of this scenario differ)",
            "*rewrite the file with `pytest --stepfold-update-golden` and review its diff*",
        ]
    )
    assert "echo" not in result.stdout.str().split("differ from", 1)[1].split("If the change")[0]
    assert "Traceback" not in result.stdout.str()
    run(project, "--stepfold-update-golden").assert_outcomes(passed=2)
    run(project).assert_outcomes(passed=2)


def test_a_corrupt_golden_file_fails_with_a_rewrite_hint(project: pytest.Pytester) -> None:
    golden = project.path / "tests" / "golden"
    golden.mkdir(parents=True)
    (golden / "counting.json").write_text(
        textwrap.dedent('{"format": "stepfold/golden/1", "scenarios": []}'), encoding="utf-8"
    )
    result = run(project, "-k", "test_counting")
    result.stdout.fnmatch_lines(
        [
            "*golden file tests/golden/counting.json is not a stepfold golden file (golden.scenarios: expected an object, "
            "got list); rewrite it with `pytest --stepfold-update-golden`*",
        ]
    )


def test_the_option_is_in_pytest_help(pytester: pytest.Pytester) -> None:
    result = run(pytester, "--help")
    result.stdout.fnmatch_lines(["*--stepfold-update-golden*"])


def test_importing_the_plugin_imports_nothing_of_stepfolds_core() -> None:
    probe = "import sys, stepfold.pytest_plugin\nprint(sorted(m for m in sys.modules if m.split('.')[0] == 'stepfold'))"
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=False, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["['stepfold',", "'stepfold.pytest_plugin',", "'stepfold.version']"]


def test_an_unrelated_projects_test_run_never_imports_stepfolds_core(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_other="""
        import sys

        def test_only_the_plugin_is_loaded():
            loaded = sorted(m for m in sys.modules if m.split(".")[0] == "stepfold")
            assert loaded == ["stepfold", "stepfold.pytest_plugin", "stepfold.version"], loaded
        """
    )
    result = pytester.runpytest_subprocess(*plugin_arguments(), "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


GOLDEN_USER_TEST = """
from stepfold.pytest_plugin import GoldenReceipts
from stepfold.suite import Scenario, Suite, SuiteResult

SUITE = Suite("echoes", [Scenario("echo", {"x": 1}, [("echo", {"payload_key": "x"})])])


def test_echoes(stepfold_golden: GoldenReceipts) -> None:
    result: SuiteResult = stepfold_golden.check(SUITE)
    assert result.scenario("echo").final_state["echo"] == 1


def test_a_typo(stepfold_golden: GoldenReceipts) -> None:
    stepfold_golden.chek(SUITE)
"""


def test_the_documented_fixture_annotation_passes_mypy_strict(tmp_path: Path) -> None:
    found = user_mypy(tmp_path, GOLDEN_USER_TEST)
    typo = GOLDEN_USER_TEST.splitlines().index("    stepfold_golden.chek(SUITE)") + 1
    assert list(found) == [typo], found  # the documented use passes; the fixture is typed, not Any
    assert found[typo].startswith('"GoldenReceipts" has no attribute "chek"')
