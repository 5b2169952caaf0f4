"""Real output in README.md and docs/ is a copy of a fresh run, the README's Python runs, and its links stay inside.

Every block between `<!-- begin output: NAME -->` and `<!-- end output -->`
is what `scripts/make_docs.py` prints for NAME; regenerate them with `make
docs` after a change that alters what a command prints.
"""

from __future__ import annotations

import doctest
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent
MAKE_DOCS = ROOT / "scripts" / "make_docs.py"
README = ROOT / "README.md"
LINK = re.compile(r"\]\(([^)\s]+)\)")


def _make_docs() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_docs", MAKE_DOCS)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _documents() -> list[Path]:
    documents: list[Path] = _make_docs().DOCUMENTS
    return [path for path in documents if path.exists()]


def _block_names() -> dict[str, list[str]]:
    """Each block name with the documents that hold it."""
    make_docs = _make_docs()
    found: dict[str, list[str]] = {}
    for path in _documents():
        for name, _ in make_docs.blocks(path):
            found.setdefault(name, []).append(str(path.relative_to(ROOT)))
    return found


def test_every_block_of_real_output_matches_a_fresh_run() -> None:
    # Run as on a CI machine (where pytest, for one, prints differently) wherever the suite runs.
    done = subprocess.run(
        [sys.executable, str(MAKE_DOCS), "--check"],
        cwd=ROOT,
        env={**os.environ, "CI": "true"},
        capture_output=True,
        text=True,
        encoding="utf-8",
        check=False,
        timeout=900,
    )
    drifted = [line for line in done.stderr.splitlines() if line.strip()]
    assert done.returncode == 0, "blocks that differ from a fresh run (regenerate with `make docs`):\n" + "\n".join(
        drifted
    )


def test_every_block_has_a_producer_and_every_producer_a_block() -> None:
    producers = set(_make_docs().PRODUCERS)
    names = _block_names()
    assert sorted(set(names) - producers) == [], "blocks without a producer in scripts/make_docs.py"
    assert sorted(producers - set(names)) == [], "producers that no document shows"


def test_every_block_is_filled() -> None:
    make_docs = _make_docs()
    empty = [
        f"{path.relative_to(ROOT)}: {name}"
        for path in _documents()
        for name, body in make_docs.blocks(path)
        if not body
    ]
    assert empty == [], "empty blocks (run `make docs`)"


def test_the_readme_does_not_link_outside_the_repository() -> None:
    text = README.read_text(encoding="utf-8")
    assert "../shared" not in text
    assert [target for target in LINK.findall(text) if target.startswith("..")] == []


def test_the_relative_links_of_the_readme_and_docs_lead_to_files_that_exist() -> None:
    missing = []
    for path in [README, *sorted((ROOT / "docs").glob("*.md"))]:
        for target in LINK.findall(path.read_text(encoding="utf-8")):
            if re.match(r"[a-z]+:", target) or target.startswith("#"):
                continue
            file = (path.parent / target.split("#")[0]).resolve()
            if not file.exists():
                missing.append(f"{path.relative_to(ROOT)}: {target}")
    assert missing == []


def test_the_python_examples_of_the_readme_run() -> None:
    outcome = doctest.testfile(str(README), module_relative=False, optionflags=doctest.ELLIPSIS)
    assert outcome.attempted > 0, "README.md has no >>> examples"
    assert outcome.failed == 0
