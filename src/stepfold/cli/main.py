"""`main` and the console script: parse, dispatch, and turn every refusal into one line and an exit code.

Exit codes: 0 completed (or ok), 1 failed (also when a mission's own code,
its builder say, raises: one line naming the exception and the line that
raised it), 2 bad usage or bad input (one line on stderr, never a
traceback), 3 suspended, 130 interrupted (Ctrl-C), 141
when the reader of our output went away (a closed pipe, as Unix tools do).

Standard output is UTF-8 whatever the locale says (JSON exchanged between
systems is UTF-8, RFC 8259 section 8.1, and an exported document's bytes must
not depend on the terminal it was made in); standard error keeps the locale's
encoding, with anything it cannot show escaped.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import io
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn, TextIO

from stepfold.cli.commands import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_USAGE
from stepfold.cli.jsonio import UsageError
from stepfold.cli.parser import build_parser
from stepfold.cli.render import cut, for_people
from stepfold.errors import StepfoldError
from stepfold.messages import raised_where
from stepfold.plugins import discover_missions

__all__ = ["main", "console", "EXIT_INTERRUPTED", "EXIT_CLOSED_PIPE", "EXIT_OUTPUT_ERROR"]

EXIT_CLOSED_PIPE = 141
"""Exit code when our standard output was closed under us (128 + SIGPIPE)."""

EXIT_OUTPUT_ERROR = 74
"""Exit code when the output cannot be written (a full disk, `/dev/full`, an I/O error): sysexits.h's EX_IOERR."""


def _load(target: str) -> None:
    """Import a Python file (by path) or a module (by name), so that the missions it registers exist."""
    try:
        if target.endswith(".py") or os.sep in target:
            path = Path(target)
            spec = importlib.util.spec_from_file_location(f"stepfold_loaded_{path.stem}", path)
            if spec is None or spec.loader is None or not path.is_file():
                raise UsageError(f"--load {cut(target)}: no such Python file")
            module = importlib.util.module_from_spec(spec)
            sys.modules[spec.name] = module
            spec.loader.exec_module(module)
        else:
            importlib.import_module(target)
    except UsageError:
        raise
    except Exception as exc:  # the user's module failed: say which, in one line
        raise UsageError(f"--load {cut(target)}: cannot import it: {type(exc).__name__}: {cut(str(exc))}") from None


def main(argv: Sequence[str] | None = None, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Run the command line; returns the exit code (0 ok, 1 failed, 2 bad usage or input, 3 suspended)."""
    stdout = _utf8(sys.stdout) if out is None else out
    stderr = sys.stderr if err is None else err
    try:
        printed = io.StringIO()  # argparse drops a failed write of --help or --version: write it here instead
        try:
            with contextlib.redirect_stdout(printed):
                args = build_parser().parse_args(argv)
        except SystemExit as done:  # argparse after --help: an exit code, never an exception
            stdout.write(printed.getvalue())
            stdout.flush()
            return done.code if isinstance(done.code, int) else EXIT_USAGE
        for target in args.load:
            _load(target)
        discover_missions()
        code: int = args.handler(args, stdout)
        stdout.flush()
        return code
    except (UsageError, StepfoldError, ValueError) as exc:
        # one line, whatever the message quotes (an argument may hold a newline or an escape sequence)
        stderr.write("stepfold: error: " + for_people(str(exc)) + "\n")
        return EXIT_USAGE
    except BrokenPipeError:
        _detach(stdout)
        return EXIT_CLOSED_PIPE
    except OSError as exc:  # with no file named, the output's: files and the store are read behind UsageError
        if exc.filename is not None:  # a file the command opened, e.g. an unreadable store
            stderr.write("stepfold: error: " + for_people(f"{cut(str(exc.filename))}: {exc.strerror or exc}") + "\n")
            return EXIT_USAGE
        return _unwritable(exc, stdout, stderr)
    except KeyboardInterrupt:
        stderr.write("stepfold: interrupted\n")
        return EXIT_INTERRUPTED
    except Exception as exc:  # a mission's own code raised (its builder, say): what, and where, in one line
        stderr.write("stepfold: error: " + for_people(raised_where(exc)) + "\n")
        return EXIT_FAILED


def _utf8(stream: TextIO) -> TextIO:
    """The standard output, writing UTF-8 (a lone surrogate from a file name escaped, never an encoding error)."""
    if isinstance(stream, io.TextIOWrapper) and (stream.encoding.lower().replace("_", "-"), stream.errors) != (
        "utf-8",
        "backslashreplace",
    ):
        with contextlib.suppress(OSError, ValueError):
            stream.reconfigure(encoding="utf-8", errors="backslashreplace")
    return stream


def _unwritable(exc: OSError, stdout: TextIO, stderr: TextIO) -> int:
    """Say in one line that the output cannot be written (standard error may be on the same full disk)."""
    _detach(stdout)
    reason = exc.strerror or str(exc) or type(exc).__name__
    with contextlib.suppress(OSError, ValueError):
        stderr.write("stepfold: error: " + for_people(f"cannot write the output: {reason} (errno {exc.errno})") + "\n")
    return EXIT_OUTPUT_ERROR


def _detach(stream: TextIO) -> None:
    """Point a closed standard output at /dev/null, so that the interpreter's last flush is quiet."""
    if stream is sys.stdout:
        with contextlib.suppress(OSError, ValueError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())


def console() -> NoReturn:
    """Console-script entry point."""
    code = main()
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        _detach(sys.stdout)
        code = EXIT_CLOSED_PIPE
    except OSError as exc:
        code = _unwritable(exc, sys.stdout, sys.stderr)
    sys.exit(code)
