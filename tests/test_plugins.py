"""Missions from other installed packages, found through the entry-point group `stepfold.missions`.

Each test package is written into a temporary folder and installed for real
with `pip install --no-deps --no-build-isolation --no-index --target SITE`,
then the console script runs with `PYTHONPATH=SITE`.

Building needs no network and no build tool beyond pip: the venv's
setuptools (65.x) cannot build a wheel without the separate `wheel` package
("invalid command 'bdist_wheel'"), so each package carries a tiny in-tree
PEP 517 backend (`backend-path`) that reads `[project]` and
`[project.entry-points]` from its pyproject.toml with `tomllib` and writes a
pure-Python wheel. pip then installs that wheel like any other.

No custom marker: `make test` runs every test, and these need no network.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Mapping
from pathlib import Path

import attrs
import pytest

from tests.helpers import run_cli

Proc = subprocess.CompletedProcess[str]

# A minimal PEP 517 backend, shipped inside each test package (no setuptools, no wheel, no network).
BACKEND = r'''
"""In-tree PEP 517 backend for the test packages: a pure-Python wheel from pyproject.toml."""
import base64
import hashlib
import tomllib
import zipfile
from pathlib import Path


def _digest(data):
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode("ascii")


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    project = tomllib.loads(Path("pyproject.toml").read_text(encoding="utf-8"))["project"]
    name, version = project["name"].replace("-", "_"), project["version"]
    info = f"{name}-{version}.dist-info"
    contents = {module.name: module.read_bytes() for module in sorted(Path(".").glob("*.py"))}
    contents[f"{info}/METADATA"] = f"Metadata-Version: 2.1\nName: {project['name']}\nVersion: {version}\n".encode()
    contents[f"{info}/WHEEL"] = b"Wheel-Version: 1.0\nGenerator: stepfold-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    groups = project.get("entry-points", {})
    contents[f"{info}/entry_points.txt"] = "".join(
        f"[{group}]\n" + "".join(f"{key} = {value}\n" for key, value in points.items()) + "\n"
        for group, points in groups.items()
    ).encode()
    record = "".join(f"{path},{_digest(data)},{len(data)}\n" for path, data in contents.items())
    contents[f"{info}/RECORD"] = (record + f"{info}/RECORD,,\n").encode()
    wheel = f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(Path(wheel_directory) / wheel, "w") as archive:
        for path, data in contents.items():
            archive.writestr(path, data)
    return wheel
'''

GREET_MODULE = '''
"""A third-party mission with its own operation, `greet.hello`."""
from stepfold import Mission, Params, State, StepSpec, WorkflowDefinition


def hello(state: State, step: StepSpec) -> State:
    return state.set("greeting", "{salutation}, " + str(step.payload.get("name", "world")))


def build(params: Params) -> WorkflowDefinition:
    name = params.get("name", "world")
    return WorkflowDefinition(
        id="greet", steps=[StepSpec("greet-hello", "runtime", {{"operation": "greet.hello", "name": name}})]
    )


GREET = Mission(build, operations={{"greet.hello": hello}}, description="Greet someone (a plugin mission).")
'''


def write_package(folder: Path, name: str, modules: Mapping[str, str], entry_points: Mapping[str, str]) -> Path:
    """A source tree: pyproject.toml declaring the entry points, the modules, and the in-tree backend."""
    folder.mkdir(parents=True)
    points = "".join(f"{key} = {json.dumps(value)}\n" for key, value in entry_points.items())
    (folder / "pyproject.toml").write_text(
        textwrap.dedent(
            f"""\
            [build-system]
            requires = []
            build-backend = "backend"
            backend-path = ["_build"]

            [project]
            name = "{name}"
            version = "0.1.0"

            [project.entry-points."stepfold.missions"]
            """
        )
        + points,
        encoding="utf-8",
    )
    for module, source in modules.items():
        (folder / f"{module}.py").write_text(textwrap.dedent(source).lstrip(), encoding="utf-8")
    (folder / "_build").mkdir()
    (folder / "_build" / "backend.py").write_text(BACKEND.lstrip(), encoding="utf-8")
    return folder


def pip_install(package: Path, site: Path) -> None:
    """Install for real into `site`, offline."""
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "--disable-pip-version-check",
            "--no-cache-dir",
            "--target",
            str(site),
            str(package),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        env={**os.environ, "PIP_NO_INPUT": "1"},
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def cli(cwd: Path, *args: str, site: Path | None = None) -> Proc:
    """The console script in `cwd`, with `site` (the installed plugin) on PYTHONPATH, or without any plugin."""
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    if site is not None:
        env["PYTHONPATH"] = str(site)
    return run_cli(cwd, *args, env=env)


def one_error_line(proc: Proc) -> str:
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("stepfold: error: "), proc.stderr
    assert proc.stdout == ""
    return proc.stderr.rstrip("\n")


@attrs.frozen
class Installed:
    site: Path
    work: Path


@pytest.fixture(scope="module")
def greet(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """The `greet` package (and an `echo` entry point that must not shadow the built-in), installed once."""
    root = tmp_path_factory.mktemp("greet")
    package = write_package(
        root / "greet-mission",
        "greet-mission",
        {"greet_mission": GREET_MODULE.format(salutation="hello")},
        {"greet": "greet_mission:GREET", "echo": "greet_mission:GREET"},
    )
    pip_install(package, root / "site")
    assert (root / "site" / "greet_mission.py").is_file()
    assert (root / "site" / "greet_mission-0.1.0.dist-info" / "entry_points.txt").is_file()
    (root / "work").mkdir()
    return Installed(root / "site", root / "work")


def test_missions_lists_the_plugin(greet: Installed) -> None:
    proc = cli(greet.work, "missions", site=greet.site)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert [line.split()[0] for line in lines] == ["daily_loop", "echo", "greet", "run_tests"]
    assert "Greet someone (a plugin mission)." in lines[2]
    without = cli(greet.work, "missions")
    assert "greet" not in without.stdout.split()


def test_run_the_plugin_without_a_store(greet: Installed, tmp_path: Path) -> None:
    proc = cli(tmp_path, "run", "greet", "--no-store", "--json", site=greet.site)
    assert proc.returncode == 0, proc.stderr
    document = json.loads(proc.stdout)
    assert document["status"] == "completed"
    assert document["final_state"] == {"greeting": "hello, world"}
    assert [step["id"] for step in document["executed_steps"]] == ["greet-hello"]
    assert document["executed_steps"][0]["payload"]["operation"] == "greet.hello"
    proc = cli(
        tmp_path,
        "run",
        "greet",
        "--params",
        '{"name": "Ada"}',
        "--state",
        '{"x": 1}',
        "--no-store",
        "--json",
        site=greet.site,
    )
    assert json.loads(proc.stdout)["final_state"] == {"x": 1, "greeting": "hello, Ada"}
    assert list(tmp_path.iterdir()) == []


def test_a_plugin_cannot_shadow_a_builtin_mission(greet: Installed, tmp_path: Path) -> None:
    proc = cli(tmp_path, "run", "echo", "--params", '{"a": 1}', "--no-store", "--json", site=greet.site)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["final_state"] == {"echo": {"a": 1}}


def test_a_stored_plugin_run_verifies_with_the_plugins_operation(greet: Installed, tmp_path: Path) -> None:
    proc = cli(tmp_path, "run", "greet", "--params", '{"name": "Grace"}', site=greet.site)
    assert proc.returncode == 0, proc.stderr
    (run_line,) = [line for line in proc.stdout.splitlines() if line.startswith("run      ")]
    run_id = run_line.split()[1]
    verdict = cli(tmp_path, "verify", run_id, site=greet.site)
    assert verdict.returncode == 0, verdict.stdout + verdict.stderr
    assert verdict.stdout.startswith("ok")
    exported = cli(tmp_path, "export", run_id[:6], site=greet.site)
    assert json.loads(exported.stdout)["final_state"] == {"greeting": "hello, Grace"}
    (tmp_path / "greet.json").write_text(exported.stdout, encoding="utf-8")
    from_file = cli(tmp_path, "verify", "greet.json", site=greet.site)
    assert from_file.returncode == 0, from_file.stdout + from_file.stderr
    # Without the plugin the record is still readable and intact, but it cannot be replayed: unverifiable, not tampered.
    shown = cli(tmp_path, "show", run_id)
    assert shown.returncode == 0 and '+ greeting = "hello, Grace"' in shown.stdout
    unverifiable = cli(tmp_path, "verify", run_id)
    assert unverifiable.returncode == 4, unverifiable.stdout + unverifiable.stderr
    assert unverifiable.stdout.startswith("UNVERIFIABLE") and "unknown operation 'greet.hello'" in unverifiable.stdout
    chain_only = cli(tmp_path, "verify", run_id, "--no-replay")
    assert chain_only.returncode == 0 and chain_only.stdout.startswith("ok"), chain_only.stdout


def test_verify_replays_the_installed_operation(greet: Installed, tmp_path: Path) -> None:
    """A different version of the plugin (same operation name, other behaviour) is named at its step."""
    proc = cli(tmp_path, "run", "greet", site=greet.site)
    run_id = proc.stdout.split("run      ", 1)[1].split()[0]
    changed = write_package(
        tmp_path / "greet-mission-2",
        "greet-mission",
        {"greet_mission": GREET_MODULE.format(salutation="howdy")},
        {"greet": "greet_mission:GREET"},
    )
    pip_install(changed, tmp_path / "site2")
    rerun = cli(tmp_path, "run", "greet", "--no-store", "--json", site=tmp_path / "site2")
    assert json.loads(rerun.stdout)["final_state"] == {"greeting": "howdy, world"}
    verdict = cli(tmp_path, "verify", run_id, site=tmp_path / "site2")
    assert verdict.returncode == 4, verdict.stdout + verdict.stderr
    assert verdict.stdout.startswith("DIVERGED at step 1 ('greet-hello')"), verdict.stdout


BROKEN: list[tuple[str, str, str]] = [
    ("import stepfold_no_such_dependency\n", "broken_mission:BROKEN", "ModuleNotFoundError"),
    ("raise RuntimeError('the plugin is misconfigured')\n", "broken_mission:BROKEN", "the plugin is misconfigured"),
    ("OTHER = 1\n", "broken_mission:BROKEN", "AttributeError"),
    ("BROKEN = 42\n", "broken_mission:BROKEN", "is not a Mission or a builder function"),
]


@pytest.mark.parametrize(
    ("source", "target", "reason"), BROKEN, ids=["missing-import", "raises", "no-attribute", "not-callable"]
)
def test_a_plugin_that_fails_to_load_exits_two_naming_the_mission(
    tmp_path: Path, source: str, target: str, reason: str
) -> None:
    package = write_package(tmp_path / "broken", "broken-mission", {"broken_mission": source}, {"broken": target})
    pip_install(package, tmp_path / "site")
    (tmp_path / "work").mkdir()
    line = one_error_line(cli(tmp_path / "work", "run", "broken", site=tmp_path / "site"))
    assert "mission 'broken'" in line and reason in line
    assert list((tmp_path / "work").iterdir()) == []
