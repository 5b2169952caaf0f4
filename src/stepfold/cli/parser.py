"""The argument parser: every subcommand, its options and its exit codes, as `--help` shows them."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import NoReturn, TextIO

from stepfold.cli.audit import command_keygen, command_verify
from stepfold.cli.batch import command_batch
from stepfold.cli.commands import command_fork, command_missions, command_resume, command_run
from stepfold.cli.inspect import command_export, command_runs, command_show
from stepfold.cli.jsonio import UsageError
from stepfold.store import DEFAULT_STORE
from stepfold.version import __version__

__all__ = ["build_parser", "Handler"]

Handler = Callable[[argparse.Namespace, TextIO], int]
"""A subcommand: the parsed arguments and the output stream in, the exit code out."""

_RUN_EXITS = "exit codes: 0 completed, 1 failed, 2 bad usage or input, 3 suspended (waiting for a person or an effect)"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see `{self.prog} --help`)")


def _store_option(parser: argparse.ArgumentParser, default: object) -> None:
    parser.add_argument("--store", default=default, metavar="FILE", help=f"the run store (default: ./{DEFAULT_STORE})")


def _input_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--input",
        action="append",
        default=[],
        metavar="STEP=JSON",
        help="a human step's input, or an effect step's whole outcome (repeatable)",
    )


def _sign_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--sign", metavar="KEYFILE", help="sign the run's head with this private key (`stepfold keygen`)"
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every subcommand."""
    parser = _Parser(
        prog="stepfold",
        description="Run named missions as deterministic, auditable workflows.",
        epilog="Run `stepfold COMMAND --help` for a command's options and exit codes.",
    )
    parser.add_argument("--version", action="version", version=f"stepfold {__version__}")
    _store_option(parser, DEFAULT_STORE)
    parser.add_argument(
        "--load",
        action="append",
        default=[],
        metavar="FILE.py|MODULE",
        help="import a Python file or module first, so that the missions it registers can be run (repeatable)",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)

    def command(name: str, help_text: str, handler: Handler, epilog: str | None = None) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text, epilog=epilog)
        sub.set_defaults(handler=handler)
        _store_option(sub, argparse.SUPPRESS)  # also accepted after the command; the global one is the default
        return sub

    def json_flag(sub: argparse.ArgumentParser, what: str) -> None:
        sub.add_argument("--json", action="store_true", help=f"print {what} as JSON")

    json_flag(command("missions", "list the registered missions", command_missions), "the missions")
    run = command(
        "run",
        "run a mission (performing its effects), save it, print its steps, status and receipt",
        command_run,
        _RUN_EXITS,
    )
    run.add_argument("mission", help="mission name (see `stepfold missions`)")
    run.add_argument("--state", help="initial state: a JSON file, - for standard input, or an inline JSON object")
    run.add_argument("--params", help="mission params as a JSON object")
    _input_option(run)
    json_flag(run, "the result's to_dict() (its run_id included)")
    run.add_argument("--no-store", action="store_true", help="do not save the run")
    run.add_argument(
        "--no-effects", action="store_true", help="perform no effect: stop at the first effect step (exit 3)"
    )
    _sign_option(run)
    again = command(
        "resume",
        "resume a suspended run (with --input, or by performing the effect it waits for) and save it",
        command_resume,
        _RUN_EXITS,
    )
    again.add_argument("run_id", help="run id or a unique prefix (at least 6 characters)")
    _input_option(again)
    json_flag(again, "the result's to_dict() (its run_id included)")
    again.add_argument(
        "--no-effects", action="store_true", help="perform no effect: stop at the next effect step (exit 3)"
    )
    again.add_argument("--fork", action="store_true", help="continue a run that was already resumed, as a fork of it")
    _sign_option(again)
    branch = command(
        "fork",
        "save the run as it was just before STEP (a human or effect step), suspended there: "
        "resume it with another input (time travel)",
        command_fork,
        "exit codes: 3 (the fork waits at STEP), 2 bad usage",
    )
    branch.add_argument("run_id", help="run id or a unique prefix")
    branch.add_argument("step", help="the id of a human or effect step the run reached")
    json_flag(branch, "the forked run's to_dict()")
    show = command("show", "print a run's steps, what each changed, and its receipt", command_show)
    show.add_argument("run_id", help="run id or a unique prefix")
    json_flag(show, "the run's to_dict()")
    check = command(
        "verify",
        "verify a run: its chain, its record, its anchors, and a replay with the code installed here",
        command_verify,
        "exit codes: 0 ok, 1 tampered (or no valid signature by --key), 2 bad usage, 4 diverged or unverifiable",
    )
    check.add_argument(
        "target",
        nargs="?",
        metavar="RUN_ID|FILE.json|-",
        help="a stored run id (or prefix), a to_dict() JSON file, or - for standard input",
    )
    check.add_argument("--all", action="store_true", help="verify every stored run; list each that is not ok")
    check.add_argument(
        "--no-replay", action="store_true", help="check the chain and the record only (no operations needed)"
    )
    check.add_argument(
        "--expect", metavar="HEAD", help="the head you trust (kept or published elsewhere): another is tampered"
    )
    check.add_argument(
        "--key", metavar="PUBFILE", help="require a valid signature by this public key (from `stepfold keygen`)"
    )
    json_flag(check, "the verdict")
    json_flag(
        command("runs", "list the stored runs, with the runs each resumed or was resumed by", command_runs), "the runs"
    )
    export = command("export", "print a run's to_dict() JSON (with its signatures)", command_export)
    export.add_argument("run_id", help="run id or a unique prefix")
    keygen = command(
        "keygen", "make an Ed25519 key pair: PATH (private, readable by you only) and PATH.pub", command_keygen
    )
    keygen.add_argument("path", metavar="PATH", help="where to write the private key (never overwritten)")
    batch = command(
        "batch",
        "run one mission call per line of a JSONL file, save each result as it completes, print a summary",
        command_batch,
        "exit codes: 0 all completed, 1 any failed or bad, 2 bad usage, 3 some suspended",
    )
    batch.add_argument(
        "file",
        metavar="FILE.jsonl|-",
        help='one call per line: {"mission": NAME, "params": {...}, "state": {...}, "inputs": {...}}',
    )
    batch.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="run the calls in a pool of N processes, 1 to 64 (default 1: in this process); effects are performed here",
    )
    batch.add_argument(
        "--no-effects", action="store_true", help="perform no effect: a call stops at its first effect step (suspended)"
    )
    json_flag(batch, 'one JSON object per line of the batch as it is known, then {"summary": ...} (JSON Lines)')
    return parser
