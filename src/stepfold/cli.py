"""The `stepfold` command line: the imperative shell around the core.

Exit codes: 0 completed (or ok), 1 failed, 3 suspended, 2 bad usage or bad
input (one line on stderr, never a traceback).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import NoReturn, TextIO

from stepfold.builder import MissionSpec, build_workflow
from stepfold.engine import resume, run_workflow
from stepfold.errors import StepfoldError, StoreError
from stepfold.executors import CallError, MissionCall, run_as_completed
from stepfold.lineage import COMPLETED, FAILED, SUSPENDED
from stepfold.missions.base import Mission
from stepfold.missions.catalog import MISSION_REGISTRY
from stepfold.operations import DEFAULT_OPERATIONS, Operation
from stepfold.plugins import discover_missions
from stepfold.registry import mission_operations
from stepfold.result import OrchestrationResult
from stepfold.state import state_delta
from stepfold.store import DEFAULT_STORE, MIN_PREFIX, SQLiteStore
from stepfold.values import MAX_DEPTH, thaw
from stepfold.verification import verify
from stepfold.workflow import ExecutionContext

__all__ = ["main", "EXIT_OK", "EXIT_FAILED", "EXIT_USAGE", "EXIT_SUSPENDED", "exit_code", "render_result", "render_show"]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_SUSPENDED = 3


class UsageError(Exception):
    """Bad arguments or bad input: printed as one line, exit code 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see `{self.prog} --help`)")


def _refuse_constant(name: str) -> object:
    raise ValueError(f"{name} is not allowed in JSON input")


def _unique_object(pairs: list[tuple[str, object]]) -> dict[str, object]:
    out: dict[str, object] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key {key!r}")
        out[key] = value
    return out


def _parse_int(digits: str) -> int:
    if len(digits) > 64:  # never convert thousands of digits: freeze refuses anything past 16 of them anyway
        raise ValueError(f"a number of {len(digits.lstrip('-'))} digits is outside +-(2**53 - 1)")
    return int(digits)


def _decode_json(text: str, *, one_line: bool = False) -> object:
    """Strict JSON: no NaN/Infinity, no duplicate keys; `ValueError` with a one-line reason and the position."""
    try:
        return json.loads(text, parse_constant=_refuse_constant, parse_int=_parse_int, object_pairs_hook=_unique_object)
    except json.JSONDecodeError as exc:
        at = f"column {exc.colno}" if one_line else f"line {exc.lineno} column {exc.colno}"
        raise ValueError(f"invalid JSON at {at}: {exc.msg}") from None
    except RecursionError:
        raise ValueError(f"invalid JSON: nested too deeply to parse (values nest at most {MAX_DEPTH} levels)") from None
    except ValueError as exc:
        raise ValueError(f"invalid JSON: {exc}") from None


def parse_json(text: str, where: str) -> object:
    """Strict JSON: no NaN/Infinity, no duplicate keys; `UsageError` naming `where` and the position."""
    try:
        return _decode_json(text)
    except ValueError as exc:
        raise UsageError(f"{where}: {exc}") from None


def _json_object(text: str, where: str) -> Mapping[str, object]:
    value = parse_json(text, where)
    if not isinstance(value, dict):
        raise UsageError(f"{where}: expected a JSON object, got {type(value).__name__}")
    return value


def read_state_argument(argument: str) -> Mapping[str, object]:
    """`--state` is a path to a JSON file or inline JSON (an object)."""
    stripped = argument.lstrip()
    if stripped.startswith("{"):
        return _json_object(argument, "--state")
    path = Path(argument)
    if not path.is_file():
        raise UsageError(f"--state: {argument!r} is neither a file nor a JSON object")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"--state {argument}: cannot read: {exc}") from None
    return _json_object(text, f"--state {argument}")


def parse_inputs(items: Sequence[str]) -> dict[str, object]:
    """`STEP=JSON` pairs as a dict; `UsageError` naming the malformed one."""
    inputs: dict[str, object] = {}
    for item in items:
        step_id, sep, text = item.partition("=")
        if not sep or not step_id:
            raise UsageError(f"--input {item!r}: expected STEP=JSON, e.g. daily-confirm-priorities='{{\"approved\": true}}'")
        if step_id in inputs:
            raise UsageError(f"--input {step_id}: given twice")
        inputs[step_id] = parse_json(text, f"--input {step_id}")
    return inputs


def exit_code(result: OrchestrationResult) -> int:
    """0 completed, 1 failed, 3 suspended."""
    return {COMPLETED: EXIT_OK, FAILED: EXIT_FAILED, SUSPENDED: EXIT_SUSPENDED}[result.status]


def _short(digest: str) -> str:
    return digest[:12]


def render_result(result: OrchestrationResult, out: TextIO) -> None:
    """The human-readable report: executed steps, then status, pending step and receipt head."""
    rows = [("#", "step", "kind", "status", "state")]
    for index, entry in enumerate(result.lineage.entries, start=1):
        rows.append((str(index), entry.step.id, entry.step.kind, entry.status, _short(entry.state.digest)))
    if result.pending_step_id is not None:
        pending = result.workflow.step(result.pending_step_id)
        rows.append(("-", pending.id, pending.kind, "waiting", ""))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    out.write(f"workflow {result.id}  ({len(result.workflow.steps)} steps)\n")
    for row in rows:
        out.write("  " + "  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() + "\n")
    out.write(f"status   {result.status}\n")
    if result.error_message:
        out.write(f"error    {result.error_message}\n")
    if result.pending_step_id is not None:
        out.write(f"pending  {result.pending_step_id} (needs --input {result.pending_step_id}=JSON)\n")
    out.write(f"state    {result.final_state.digest}\n")
    out.write(f"receipt  {result.receipt.head}\n")


def _command_missions(_args: argparse.Namespace, out: TextIO) -> int:
    for name in sorted(MISSION_REGISTRY):
        builder = MISSION_REGISTRY[name]
        doc = (builder.__doc__ or "").strip().splitlines()
        text = builder.description if isinstance(builder, Mission) else (doc[0] if doc else "")
        out.write(f"{name:<14} {text}".rstrip() + "\n")
    return EXIT_OK


def _open_store(args: argparse.Namespace, *, create: bool) -> SQLiteStore:
    return SQLiteStore(args.store, create=create)


def _operations_for(workflow_metadata: Mapping[str, object]) -> Mapping[str, Operation]:
    """The operations a stored run's mission needs: the defaults plus its own, when it is registered here."""
    mission = workflow_metadata.get("mission")
    if isinstance(mission, str) and mission in MISSION_REGISTRY:
        return mission_operations(mission)
    return DEFAULT_OPERATIONS


def _report(result: OrchestrationResult, args: argparse.Namespace, out: TextIO, run_id: str | None) -> int:
    if args.json:
        out.write(json.dumps(result.to_dict(), ensure_ascii=False) + "\n")
    else:
        render_result(result, out)
        if run_id is not None:
            out.write(f"run      {run_id}  (saved in {args.store})\n")
    return exit_code(result)


def _command_run(args: argparse.Namespace, out: TextIO) -> int:
    state = read_state_argument(args.state) if args.state is not None else {}
    params = _json_object(args.params, "--params") if args.params is not None else {}
    inputs = parse_inputs(args.input)
    workflow = build_workflow(MissionSpec(args.mission, params))
    context = ExecutionContext(initial_state=state, inputs=inputs)
    result = run_workflow(workflow, context, operations=mission_operations(args.mission))
    run_id = None
    if not args.no_store:
        with _open_store(args, create=True) as store:
            run_id = store.save(result)
    return _report(result, args, out, run_id)


def _command_resume(args: argparse.Namespace, out: TextIO) -> int:
    inputs = parse_inputs(args.input)
    if not inputs:
        raise UsageError("resume: give the human input with --input STEP=JSON")
    with _open_store(args, create=False) as store:
        suspended = store.load(args.run_id)
        result = resume(suspended, inputs, operations=_operations_for(suspended.workflow.metadata))
        run_id = store.save(result)
    return _report(result, args, out, run_id)


def _abbreviate(value: object, limit: int = 60) -> str:
    text = json.dumps(thaw(value), ensure_ascii=False, separators=(",", ":"))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def render_show(result: OrchestrationResult, run_id: str, out: TextIO) -> None:
    """Each step with what it changed (+ added, ~ changed, - removed; long values abbreviated), then the receipt."""
    out.write(f"run {run_id}\nworkflow {result.id}  status {result.status}\n")
    previous = result.lineage.initial_state
    out.write(f"initial state  {len(previous)} keys  {_short(previous.digest)}\n")
    for index, entry in enumerate(result.lineage.entries, start=1):
        out.write(f"{index}. {entry.step.id}  [{entry.step.kind}, {entry.status}]  -> {_short(entry.state.digest)}\n")
        if entry.took_input:
            out.write(f"     input  {_abbreviate(entry.input)}\n")
        delta = state_delta(previous, entry.state)
        for key in sorted(delta.set):
            mark = "~" if key in previous else "+"
            out.write(f"     {mark} {key} = {_abbreviate(delta.set[key])}\n")
        for key in delta.removed:
            out.write(f"     - {key}\n")
        if not delta and entry.status == COMPLETED:
            out.write("     (no change)\n")
        previous = entry.state
    if result.error_message:
        out.write(f"error    {result.error_message}\n")
    if result.pending_step_id is not None:
        out.write(f"pending  {result.pending_step_id}\n")
    out.write(f"receipt  genesis {result.receipt.genesis}\n")
    for index, link in enumerate(result.receipt.links, start=1):
        out.write(f"  {index}. {link.hash}  {link.step_id} ({link.status})\n")
    out.write(f"  head  {result.receipt.head}\n")


def _command_show(args: argparse.Namespace, out: TextIO) -> int:
    with _open_store(args, create=False) as store:
        run_id = store.resolve(args.run_id)
        render_show(store.load(run_id), run_id, out)
    return EXIT_OK


def _read_document(argument: str) -> Mapping[str, object]:
    try:
        text = Path(argument).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{argument}: cannot read: {exc}") from None
    return _json_object(text, argument)


def _command_verify(args: argparse.Namespace, out: TextIO) -> int:
    target: OrchestrationResult | Mapping[str, object]
    if Path(args.target).is_file():
        label = args.target
        target = _read_document(args.target)
        workflow = target.get("workflow")
        metadata = workflow.get("metadata") if isinstance(workflow, Mapping) else None
        operations = _operations_for(metadata if isinstance(metadata, Mapping) else {})
    elif _looks_like_run_id(args.target):
        with _open_store(args, create=False) as store:
            label = store.resolve(args.target)
            target = store.load(label)
        operations = _operations_for(target.workflow.metadata)
    else:
        raise UsageError(f"verify: {args.target!r} is neither a JSON file nor a run id")
    verdict = verify(target, operations=operations)
    if verdict.ok:
        out.write(f"ok  {label}: {verdict.reason}\n")
        return EXIT_OK
    where = f" at {verdict.first_mismatch}" if verdict.first_mismatch is not None else ""
    out.write(f"FAILED{where}  {label}: {verdict.reason} ({verdict.checked_steps} steps verified before it)\n")
    return EXIT_FAILED


def _looks_like_run_id(text: str) -> bool:
    return len(text) >= MIN_PREFIX and all(c in "0123456789abcdef" for c in text)


def _command_runs(args: argparse.Namespace, out: TextIO) -> int:
    with _open_store(args, create=False) as store:
        summaries = store.runs()
    rows = [("run", "workflow", "status", "steps", "pending")]
    rows += [(s.run_id[:12], s.workflow_id, s.status, str(s.steps), s.pending_step_id or "") for s in summaries]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        out.write("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() + "\n")
    return EXIT_OK


def _command_export(args: argparse.Namespace, out: TextIO) -> int:
    with _open_store(args, create=False) as store:
        result = store.load(args.run_id)
    out.write(json.dumps(result.to_dict(), ensure_ascii=False, indent=2) + "\n")
    return EXIT_OK


class _Progress:
    """`\\r[#####.....] 5/10` on a terminal; silent otherwise, so logs and pipes stay clean."""

    WIDTH = 30

    def __init__(self, total: int, stream: TextIO) -> None:
        self.total, self.done, self.stream = total, 0, stream
        self.shown = stream.isatty() and total > 0

    def advance(self, count: int = 1) -> None:
        self.done += count
        if self.shown:
            filled = self.WIDTH * self.done // self.total
            self.stream.write(f"\r[{'#' * filled}{'.' * (self.WIDTH - filled)}] {self.done}/{self.total}")
            if self.done >= self.total:
                self.stream.write("\n")
            self.stream.flush()


def _batch_call(text: str) -> tuple[str, MissionCall | str]:
    """One JSONL line as (mission name or "-", the call or a one-line reason it is not one)."""
    try:
        document = _decode_json(text, one_line=True)
    except ValueError as exc:
        return "-", str(exc)
    mission = document.get("mission") if isinstance(document, dict) else None
    name = mission if isinstance(mission, str) and mission else "-"
    try:
        return name, MissionCall.from_dict(document)
    except (StepfoldError, ValueError) as exc:
        return name, " ".join(str(exc).split())


def _command_batch(args: argparse.Namespace, out: TextIO) -> int:
    """Run one mission call per line of a JSONL file, save every result as it completes, print a summary."""
    if args.workers < 1:
        raise UsageError(f"--workers: expected at least 1, got {args.workers}")
    try:
        data = Path(args.file).read_bytes()
    except OSError as exc:
        raise UsageError(f"{args.file}: cannot read: {exc.strerror or exc}") from None
    rows: dict[int, tuple[str, str, str, str]] = {}
    calls: list[MissionCall] = []
    lines: list[int] = []
    for number, raw in enumerate(data.split(b"\n"), start=1):
        if not raw.strip():
            continue
        try:
            name, parsed = _batch_call(raw.decode("utf-8"))
        except UnicodeDecodeError as exc:
            name, parsed = "-", f"not UTF-8 text (byte {exc.start + 1})"
        if isinstance(parsed, MissionCall):
            calls.append(parsed)
            lines.append(number)
        else:
            rows[number] = (name, "error", "-", parsed)
    progress = _Progress(len(calls) + len(rows), sys.stderr)
    progress.advance(len(rows))
    saved = 0
    pool = concurrent.futures.ProcessPoolExecutor(args.workers) if args.workers > 1 and calls else None
    try:
        with _open_store(args, create=True) as store:
            for index, outcome in run_as_completed(calls, pool):
                mission = calls[index].mission
                if isinstance(outcome, CallError):
                    rows[lines[index]] = (mission, "error", "-", f"{outcome.error_type}: {outcome.message}")
                else:
                    try:
                        run_id = store.save(outcome)
                        saved += 1
                    except StoreError as exc:
                        rows[lines[index]] = (mission, "error", "-", f"not saved: {exc}")
                    else:
                        detail = outcome.error_message or (
                            f"waiting for {outcome.pending_step_id}" if outcome.pending_step_id else "")
                        rows[lines[index]] = (mission, outcome.status, run_id[:12], detail)
                progress.advance()
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    table = [("line", "mission", "status", "run", "detail")]
    table += [(str(number), *rows[number]) for number in sorted(rows)]
    widths = [max(len(row[i]) for row in table) for i in range(4)]
    for row in table:
        out.write("  ".join([*(cell.ljust(width) for cell, width in zip(row, widths)), row[4]]).rstrip() + "\n")
    counts = {status: sum(1 for row in rows.values() if row[1] == status) for status in (COMPLETED, SUSPENDED, FAILED, "error")}
    out.write(
        f"{len(rows)} calls: {counts[COMPLETED]} completed, {counts[SUSPENDED]} suspended, {counts[FAILED]} failed, "
        f"{counts['error']} errors; {saved} runs saved in {args.store}\n"
    )
    if counts[FAILED] or counts["error"]:
        return EXIT_FAILED
    return EXIT_SUSPENDED if counts[SUSPENDED] else EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every subcommand."""
    parser = _Parser(prog="stepfold", description="Run named missions as deterministic, auditable workflows.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)

    def command(name: str, help_text: str, handler: object) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.set_defaults(handler=handler)
        if name != "missions":
            sub.add_argument("--store", default=DEFAULT_STORE, metavar="FILE", help=f"run store (default: ./{DEFAULT_STORE})")
        return sub

    command("missions", "list the registered missions", _command_missions)
    run = command("run", "run a mission, save it, print its steps, status and receipt", _command_run)
    run.add_argument("mission", help="mission name (see `stepfold missions`)")
    run.add_argument("--state", help="initial state: a JSON file or an inline JSON object")
    run.add_argument("--params", help="mission params as a JSON object")
    run.add_argument("--input", action="append", default=[], metavar="STEP=JSON", help="a human step's input (repeatable)")
    run.add_argument("--json", action="store_true", help="print the result's to_dict() as JSON")
    run.add_argument("--no-store", action="store_true", help="do not save the run")
    again = command("resume", "resume a suspended run with human input and save the continuation", _command_resume)
    again.add_argument("run_id", help="run id or a unique prefix (at least 6 characters)")
    again.add_argument("--input", action="append", default=[], metavar="STEP=JSON", help="a human step's input (repeatable)")
    again.add_argument("--json", action="store_true", help="print the result's to_dict() as JSON")
    show = command("show", "print a run's steps, what each changed, and its receipt", _command_show)
    show.add_argument("run_id", help="run id or a unique prefix")
    check = command("verify", "verify a run's receipt by replay (exit 0 ok, 1 not)", _command_verify)
    check.add_argument("target", metavar="RUN_ID|FILE.json", help="a stored run id (or prefix), or a to_dict() JSON file")
    command("runs", "list the stored runs", _command_runs)
    export = command("export", "print a run's to_dict() JSON", _command_export)
    export.add_argument("run_id", help="run id or a unique prefix")
    batch = command(
        "batch",
        "run one mission call per line of a JSONL file, save each result as it completes, print a summary "
        "(exit 0 all completed, 1 any failed or bad, 3 some suspended)",
        _command_batch,
    )
    batch.add_argument("file", metavar="FILE.jsonl",
                       help='one call per line: {"mission": NAME, "params": {...}, "state": {...}, "inputs": {...}}')
    batch.add_argument("--workers", type=int, default=1, metavar="N",
                       help="run the calls in a pool of N processes (default 1: in this process)")
    return parser


def main(argv: Sequence[str] | None = None, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Run the command line; returns the exit code (0 ok, 1 failed, 2 bad usage or input, 3 suspended)."""
    stdout = sys.stdout if out is None else out
    stderr = sys.stderr if err is None else err
    try:
        discover_missions()
        try:
            with contextlib.redirect_stdout(stdout):  # --help and --version print to `out`
                args = build_parser().parse_args(argv)
        except SystemExit as done:  # argparse after --help: an exit code, never an exception
            return done.code if isinstance(done.code, int) else EXIT_USAGE
        code: int = args.handler(args, stdout)
        return code
    except (UsageError, StepfoldError, ValueError) as exc:
        # one line, whatever the message quotes (an argument may hold a newline)
        stderr.write("stepfold: error: " + str(exc).replace("\r", "\\r").replace("\n", "\\n") + "\n")
        return EXIT_USAGE


def console() -> NoReturn:
    """Console-script entry point."""
    sys.exit(main())
