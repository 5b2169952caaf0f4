"""`DEFAULT_OPERATIONS`: every built-in operation by name, as a persistent map."""

from __future__ import annotations

from pyrsistent import pmap

from stepfold.operations import builtin, daily, testplan, testrun
from stepfold.operations.base import Operation, Operations
from stepfold.policy import RECORD

__all__ = ["DEFAULT_OPERATIONS"]

_TABLE: dict[str, Operation] = {
    "noop": builtin.noop,
    "fail": builtin.fail,
    "set": builtin.set_value,
    "delete": builtin.delete,
    "merge": builtin.merge,
    "increment": builtin.increment,
    "append": builtin.append,
    "copy": builtin.copy,
    RECORD: builtin.record,
    "daily.summarise": daily.summarise_yesterday,
    "daily.prioritise": daily.generate_priorities,
    "daily.confirm": daily.confirm_priorities,
    "daily.log": daily.log_summary,
    "tests.discovered": testrun.record_discovery,
    "tests.ran": testrun.record_run,
    "tests.verdict": testrun.report_run,
    # stepfold 0.1's run_tests planned a run without performing it; kept so that its stored runs still replay.
    "tests.discover": testplan.discover_tests,
    "tests.execute": testplan.plan_test_execution,
    "tests.report": testplan.report_tests,
}

DEFAULT_OPERATIONS: Operations = pmap(_TABLE)
"""The built-in operations; extend with `DEFAULT_OPERATIONS.set(name, fn)` or `+ pmap({...})`."""
