"""The distributions: the sdist holds everything its test suite needs; the wheel ships py.typed, the pyrsistent stubs
and every module; the metadata names the licence and publishes no developer tool as an extra.

Both are built offline (`python -m build --no-isolation`, with the `build` and `setuptools` of the dev group) from
a copy of the project's files, so the checkout is left untouched. The file-list checks need the git checkout and
skip in an unpacked sdist; everything skips when the build tooling is absent.
"""

from __future__ import annotations

import email.parser
import importlib.metadata
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from tests.helpers import ROOT

STUBS = ROOT / "typings" / "pyrsistent"
PROJECT_FILES = ["LICENSE", "README.md", "CHANGELOG.md", "Makefile", "pyproject.toml", "MANIFEST.in"]
"""The project's own files at the top level, each in the sdist when it exists."""
COPY_IGNORED = shutil.ignore_patterns(
    ".git", ".venv", "*.egg-info", "build", "dist", "__pycache__", ".*_cache", ".hypothesis", "mutants"
)


def _project_files() -> list[str] | None:
    """The files git would commit (tracked, or new and not ignored) that exist; None outside a git checkout."""
    if not (ROOT / ".git").exists() or shutil.which("git") is None:
        return None
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT,
        capture_output=True,
        check=False,
        timeout=60,
    )
    if listed.returncode != 0:
        return None
    return sorted(name for name in listed.stdout.decode("utf-8").split("\0") if name and (ROOT / name).is_file())


def _build_tooling() -> None:
    """Skip unless `build` and a setuptools that reads PEP 639 licence fields (>= 77) are installed."""
    pytest.importorskip("build")
    try:
        major = int(importlib.metadata.version("setuptools").split(".")[0])
    except importlib.metadata.PackageNotFoundError:
        pytest.skip("setuptools is not installed (the dev group brings it)")
    if major < 77:
        pytest.skip("setuptools >= 77 is needed to build offline (the dev group brings it)")


class Built:
    """The names in the sdist (relative to its top folder) and in the wheel built from it, and the wheel's METADATA."""

    def __init__(self, sdist: Path, wheel: Path) -> None:
        with tarfile.open(sdist) as archive:
            self.sdist = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
        with zipfile.ZipFile(wheel) as archive:
            self.wheel = set(archive.namelist())
            self.stubs = {
                name.split("/", 1)[1]: archive.read(name) for name in self.wheel if name.startswith("pyrsistent-stubs/")
            }
            metadata = next(name for name in self.wheel if name.endswith(".dist-info/METADATA"))
            self.metadata = email.parser.BytesParser().parsebytes(archive.read(metadata))


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    _build_tooling()
    source = tmp_path_factory.mktemp("source") / "stepfold"
    files = _project_files()
    if files is None:  # an unpacked sdist: all of it
        shutil.copytree(ROOT, source, ignore=COPY_IGNORED)
    else:
        for name in files:
            target = source / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, target)
    out = tmp_path_factory.mktemp("dist")
    proc = subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(source)],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    (sdist,) = out.glob("*.tar.gz")
    (wheel,) = out.glob("*.whl")
    return Built(sdist, wheel)


def test_the_sdist_holds_every_test_file_and_every_file_the_tests_read(built: Built) -> None:
    files = _project_files()
    if files is None:
        pytest.skip("needs the git checkout, to know which files the project has")
    needed = {
        name for name in files if name.split("/")[0] in {"tests", "examples", "docs", "scripts", "typings", "src"}
    }
    needed |= {name for name in PROJECT_FILES if (ROOT / name).is_file()}
    assert {"tests/conftest.py", "tests/helpers.py", "tests/strategies.py", "tests/bad_input_catalogue.py"} <= needed
    assert sorted(needed - built.sdist) == []


def test_the_sdist_holds_the_licence_the_readme_and_the_stubs(built: Built) -> None:
    assert {"LICENSE", "README.md", "Makefile", "typings/pyrsistent/__init__.pyi"} <= built.sdist
    assert {f"typings/pyrsistent/{stub.name}" for stub in STUBS.glob("*.pyi")} <= built.sdist
    if (ROOT / "CHANGELOG.md").is_file():
        assert "CHANGELOG.md" in built.sdist
    assert not [name for name in built.sdist if "__pycache__" in name or name.endswith(".pyc")]


def test_the_wheel_ships_every_module_py_typed_and_the_pyrsistent_stubs(built: Built) -> None:
    package = ROOT / "src" / "stepfold"
    modules = {f"stepfold/{path.relative_to(package).as_posix()}" for path in package.rglob("*.py")}
    assert sorted(modules - built.wheel) == []  # a new subpackage must be listed in [tool.setuptools] packages
    assert "stepfold/py.typed" in built.wheel
    assert built.stubs == {stub.name: stub.read_bytes() for stub in STUBS.glob("*.pyi")}
    assert {"__init__.pyi", "typing.pyi"} <= set(built.stubs)
    assert not [name for name in built.wheel if name.startswith(("tests/", "typings/", "examples/", "bench/"))]


def test_the_metadata_names_the_licence_and_publishes_no_developer_tools(built: Built) -> None:
    metadata = built.metadata
    assert metadata["License-Expression"] == "MIT"
    assert metadata.get_all("License-File") == ["LICENSE"]
    assert any(name.endswith(".dist-info/licenses/LICENSE") for name in built.wheel)
    assert sorted(metadata.get_all("Provides-Extra") or []) == ["dask", "signing", "testing"]
    classifiers = set(metadata.get_all("Classifier") or [])
    assert {
        "Typing :: Typed",
        "Operating System :: OS Independent",
        "Programming Language :: Python :: 3.11",
        "Programming Language :: Python :: 3.12",
        "Programming Language :: Python :: 3.13",
    } <= classifiers
    assert any(name.startswith("Development Status :: ") for name in classifiers)
    urls = dict(url.split(", ", 1) for url in metadata.get_all("Project-URL") or [])
    assert {"Homepage", "Documentation", "Changelog"} <= set(urls)
    assert all(url.startswith("https://github.com/stepfold/stepfold") for url in urls.values())
    assert metadata["Author"] == "stepfold developers"
    assert "Copyright (c) 2026 stepfold developers" in (ROOT / "LICENSE").read_text(encoding="utf-8")
