"""The `stepfold` command line: the imperative shell around the core.

Exit codes: 0 completed (or ok), 1 failed, 2 bad usage or bad input (one
line on stderr, never a traceback), 3 suspended, 74 the output cannot be written (a full disk; one line on
stderr), 130 interrupted, 141 closed pipe.
"""

from stepfold.cli.commands import EXIT_FAILED, EXIT_OK, EXIT_SUSPENDED, EXIT_USAGE, exit_code
from stepfold.cli.main import EXIT_CLOSED_PIPE, EXIT_INTERRUPTED, EXIT_OUTPUT_ERROR, console, main
from stepfold.cli.parser import build_parser
from stepfold.cli.render import render_result, render_show

__all__ = [
    "EXIT_CLOSED_PIPE",
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_OUTPUT_ERROR",
    "EXIT_SUSPENDED",
    "EXIT_USAGE",
    "build_parser",
    "console",
    "exit_code",
    "main",
    "render_result",
    "render_show",
]
