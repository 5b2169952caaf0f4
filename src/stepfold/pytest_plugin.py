"""The stepfold pytest plugin: the `stepfold_golden` fixture and the `--stepfold-update-golden` option.

Registered through the `pytest11` entry point, so installing stepfold is
enough; it imports stepfold's core only when a test uses the fixture, so
other projects' test runs pay nothing for it. In a test::

    from stepfold.pytest_plugin import GoldenReceipts

    def test_daily_suite(stepfold_golden: GoldenReceipts) -> None:
        stepfold_golden.check(DAILY_SUITE)   # runs it, compares with tests/golden/daily.json

`check` compares each mission's receipt with the golden file kept in your
repository (relative paths are from pytest's rootdir). A missing file fails
and says how to create it; a difference fails naming the scenario, the
mission and the first divergent step. `pytest --stepfold-update-golden`
writes the files instead of comparing (a file whose content would not
change is left untouched), and the run's summary lists what was written.
"""

from __future__ import annotations

import concurrent.futures
import json
import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:  # the core is imported when a check runs, never when pytest starts
    from stepfold.policy import Policy
    from stepfold.suite import Suite, SuiteResult

__all__ = ["GoldenReceipts", "UPDATE_OPTION", "DEFAULT_GOLDEN_DIR", "stepfold_golden"]

UPDATE_OPTION = "--stepfold-update-golden"
"""The command-line flag that rewrites golden files instead of comparing with them."""

DEFAULT_GOLDEN_DIR = "tests/golden"
"""Where `check` keeps a suite's golden file by default: `<rootdir>/tests/golden/<suite name>.json`."""

_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*\Z")
_WRITTEN = pytest.StashKey[list[str]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    """Add `--stepfold-update-golden`."""
    group = parser.getgroup("stepfold", "stepfold golden receipts")
    group.addoption(
        UPDATE_OPTION,
        action="store_true",
        default=False,
        help="rewrite stepfold golden receipt files from this run instead of comparing with them",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Prepare the list of golden files this session writes."""
    config.stash[_WRITTEN] = []


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    """List the golden files written with `--stepfold-update-golden`."""
    written = config.stash.get(_WRITTEN, [])
    if written:
        terminalreporter.ensure_newline()
        terminalreporter.section("stepfold golden receipts")
        for line in written:
            terminalreporter.write_line(line)


class GoldenReceipts:
    """Compares suites with golden files under `root` (or rewrites them when `update`); what `stepfold_golden` returns.

    `written` is the session's list of golden files written, which the run's summary prints.
    """

    def __init__(self, root: Path, update: bool, written: list[str]) -> None:
        self.root = root
        self.update = update
        self.written = written

    def path_for(self, suite_name: str) -> Path:
        """The default golden file of a suite: `<root>/tests/golden/<suite name>.json`."""
        if not _SAFE_NAME.match(suite_name):
            raise ValueError(f"suite name {suite_name!r} is not a safe file name; pass path= to stepfold_golden.check")
        return self.root / DEFAULT_GOLDEN_DIR / f"{suite_name}.json"

    def check(
        self,
        target: Suite | SuiteResult,
        path: str | Path | None = None,
        *,
        executor: concurrent.futures.Executor | None = None,
        policy: Policy | None = None,
    ) -> SuiteResult:
        """Run `target` (a Suite; a SuiteResult is used as is) and compare it with its golden file; returns the result.

        Fails the test when the file is missing or unreadable, or when a
        receipt differs (naming scenario, mission and first divergent step).
        With `--stepfold-update-golden`, writes the file instead.
        """
        from stepfold.errors import InvalidDocumentError
        from stepfold.golden import compare_golden, golden_document, golden_json
        from stepfold.policy import TIER2_POLICY
        from stepfold.suite import SuiteResult, run_suite

        if isinstance(target, SuiteResult):
            result = target
        else:
            result = run_suite(target, executor, policy=TIER2_POLICY if policy is None else policy)
        file = self.path_for(result.suite.name) if path is None else Path(path)
        if not file.is_absolute():
            file = self.root / file
        shown = _shown(file, self.root)
        if self.update:
            self._write(file, shown, golden_json(golden_document(result)))
            return result
        if not file.is_file():
            pytest.fail(
                f"golden file {shown} does not exist; run `pytest {UPDATE_OPTION}` to create it from this run",
                pytrace=False,
            )
        try:
            recorded = json.loads(file.read_text(encoding="utf-8"))
            divergences = compare_golden(recorded, result)
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            reason = str(exc) if isinstance(exc, InvalidDocumentError) else f"{type(exc).__name__}: {exc}"
            pytest.fail(
                f"golden file {shown} is not a stepfold golden file ({reason}); "
                f"rewrite it with `pytest {UPDATE_OPTION}`",
                pytrace=False,
            )
        if divergences:
            lines = [f"golden receipts of suite {result.suite.name!r} differ from {shown}:"]
            lines += [f"  {divergence}" for divergence in divergences]
            lines.append(
                f"If the change is intended, rewrite the file with `pytest {UPDATE_OPTION}` and review its diff."
            )
            pytest.fail("\n".join(lines), pytrace=False)
        return result

    def _write(self, file: Path, shown: str, text: str) -> None:
        if file.is_file() and file.read_text(encoding="utf-8") == text:
            self.written.append(f"unchanged {shown}")
            return
        verb = "updated" if file.exists() else "created"
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(text, encoding="utf-8")
        self.written.append(f"{verb} {shown}")


def _shown(file: Path, root: Path) -> str:
    try:
        return str(file.relative_to(root))
    except ValueError:
        return str(file)


@pytest.fixture
def stepfold_golden(request: pytest.FixtureRequest) -> GoldenReceipts:
    """Check suites against golden receipt files (`.check(suite)`); `--stepfold-update-golden` rewrites them."""
    config = request.config
    return GoldenReceipts(
        Path(config.rootpath),
        bool(config.getoption(UPDATE_OPTION)),
        config.stash.setdefault(_WRITTEN, []),
    )
