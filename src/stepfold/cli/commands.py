"""The commands that run missions: `missions`, `run`, `resume`, `fork` (each prints for people, or JSON, and returns an exit code)."""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, TextIO

from stepfold.cli.jsonio import UsageError, json_object, parse_inputs, read_bytes, read_state_argument
from stepfold.cli.render import for_people, render_result, short
from stepfold.effects import drive, drive_mission, effects_for
from stepfold.engine import fork, resume
from stepfold.errors import AlreadyResumedError
from stepfold.lineage import COMPLETED, FAILED, SUSPENDED
from stepfold.missions.catalog import MISSION_REGISTRY
from stepfold.registry import lookup_mission, operations_for, run_mission
from stepfold.result import WAITING_EFFECT, OrchestrationResult
from stepfold.signing import load_private_key, sign_head

if TYPE_CHECKING:  # pragma: no cover
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from stepfold.store import SQLiteStore
from stepfold.workflow import ExecutionContext

__all__ = [
    "EXIT_OK",
    "EXIT_FAILED",
    "EXIT_USAGE",
    "EXIT_SUSPENDED",
    "EXIT_UNVERIFIED",
    "EXIT_INTERRUPTED",
    "exit_code",
    "open_store",
    "LazyStore",
    "command_missions",
    "command_run",
    "command_resume",
    "command_fork",
]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_SUSPENDED = 3
EXIT_UNVERIFIED = 4
"""`verify`: the record is intact but did not replay (diverged) or could not be replayed here (unverifiable)."""
EXIT_INTERRUPTED = 130
"""Exit code after Ctrl-C (128 + SIGINT)."""


def exit_code(result: OrchestrationResult) -> int:
    """0 completed, 1 failed, 3 suspended."""
    return {COMPLETED: EXIT_OK, FAILED: EXIT_FAILED, SUSPENDED: EXIT_SUSPENDED}[result.status]


def open_store(args: argparse.Namespace, *, write: bool = False) -> SQLiteStore:
    """The store `--store` names: read-only for reading commands; created when missing with `write`."""
    return SQLiteStore(args.store, create=write, readonly=not write)


class LazyStore:
    """The `--store` file, opened (and created) only when something is saved: a refused run creates nothing."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._store: SQLiteStore | None = None

    @property
    def store(self) -> SQLiteStore:
        """The store, opened for writing on first use."""
        if self._store is None:
            self._store = SQLiteStore(self.path, create=True)
        return self._store

    def save(self, result: OrchestrationResult, *, resumed_from: str | None = None, fork: bool = False) -> str:
        """`SQLiteStore.save`."""
        return self.store.save(result, resumed_from=resumed_from, fork=fork)

    def continuation(self, run_id: str) -> str | None:
        """`SQLiteStore.continuation`."""
        return self.store.continuation(run_id)

    def close(self) -> None:
        """Close the store if it was opened."""
        if self._store is not None:
            self._store.close()


def _signing_key(args: argparse.Namespace) -> Ed25519PrivateKey | None:
    """The `--sign` key, read before anything runs: a key that cannot be used saves nothing."""
    if getattr(args, "sign", None) is None:
        return None
    return load_private_key(read_bytes(args.sign, "--sign"), f"--sign {args.sign}")


def _sign(key: Ed25519PrivateKey | None, store: LazyStore | SQLiteStore, run_id: str) -> None:
    if key is None:
        return
    target = store.store if isinstance(store, LazyStore) else store
    target.add_signature(run_id, sign_head(key, run_id))


def _report(result: OrchestrationResult, args: argparse.Namespace, out: TextIO, saved: bool) -> int:
    if args.json:
        out.write(json.dumps(result.to_dict(), ensure_ascii=False) + "\n")
    else:
        render_result(result, out)
        if saved:
            signed = "; signed" if getattr(args, "sign", None) is not None else ""
            out.write(for_people(f"run      {result.run_id}  (saved in {args.store}{signed})") + "\n")
        else:
            out.write(f"run      {result.run_id}  (not saved)\n")
    return exit_code(result)


def command_missions(args: argparse.Namespace, out: TextIO) -> int:
    """`stepfold missions`: the registered missions with their one-line descriptions."""
    described = {name: lookup_mission(name).description for name in sorted(MISSION_REGISTRY)}
    if args.json:
        out.write(
            json.dumps([{"description": text, "name": name} for name, text in described.items()], ensure_ascii=False)
            + "\n"
        )
        return EXIT_OK
    width = max([13, *map(len, described)])
    for name, text in described.items():
        out.write(for_people(f"{name:<{width}} {text}".rstrip()) + "\n")
    return EXIT_OK


def command_run(args: argparse.Namespace, out: TextIO) -> int:
    """`stepfold run MISSION`: build and run it (performing its effects unless `--no-effects`), save it, report."""
    state = read_state_argument(args.state) if args.state is not None else {}
    params = json_object(args.params, "--params") if args.params is not None else {}
    context = ExecutionContext(initial_state=state, inputs=parse_inputs(args.input))
    if args.no_store:
        if args.sign is not None:
            raise UsageError("--sign: a signature is kept in the store; drop --no-store to sign")
        return _report(_run(args, context, params, None), args, out, saved=False)
    key = _signing_key(args)
    store = LazyStore(args.store)
    try:
        result = _run(args, context, params, store)
        store.save(result)
        _sign(key, store, result.run_id)
    finally:
        store.close()
    return _report(result, args, out, saved=True)


def _run(
    args: argparse.Namespace, context: ExecutionContext, params: Mapping[str, object], store: LazyStore | None
) -> OrchestrationResult:
    if args.no_effects:
        return run_mission(args.mission, context, params)
    return drive_mission(args.mission, context, params, store=store)


def _refuse_second_resume(store: SQLiteStore, run_id: str, args: argparse.Namespace) -> None:
    continuation = store.continuation(run_id)
    if continuation is not None and not args.fork:
        raise AlreadyResumedError(
            f"run {short(run_id)} was already resumed: its continuation is {short(continuation)}; "
            "resume that run instead, or pass --fork to continue this one differently"
        )


def command_resume(args: argparse.Namespace, out: TextIO) -> int:
    """`stepfold resume RUN_ID`: continue a suspended run with `--input`s, performing its effects, and save it."""
    inputs = parse_inputs(args.input)
    key = _signing_key(args)
    with SQLiteStore(args.store, create=False) as store:
        suspended = store.load(args.run_id)
        if suspended.status != SUSPENDED:
            raise UsageError(
                f"resume: run {short(suspended.run_id)} is {suspended.status}; only a suspended run resumes"
            )
        if not inputs and (suspended.waiting_for != WAITING_EFFECT or args.no_effects):
            step = suspended.pending_step_id
            what = "the outcome of its effect" if suspended.waiting_for == WAITING_EFFECT else "the person's input"
            raise UsageError(
                f"resume: run {short(suspended.run_id)} waits at step {step!r}; give {what} with --input {step}=JSON"
            )
        _refuse_second_resume(store, suspended.run_id, args)
        workflow = suspended.workflow
        result = suspended
        if inputs:
            result = resume(suspended, inputs, operations=operations_for(workflow))
            store.save(result, resumed_from=suspended.run_id, fork=args.fork)
        if not args.no_effects:
            result = drive(
                result, effects=effects_for(workflow), operations=operations_for(workflow), store=store, fork=args.fork
            )
        store.save(result)
        _sign(key, store, result.run_id)
    return _report(result, args, out, saved=True)


def command_fork(args: argparse.Namespace, out: TextIO) -> int:
    """`stepfold fork RUN_ID STEP`: the run as it was just before STEP (a human or effect step), saved, suspended there."""
    with SQLiteStore(args.store, create=False) as store:
        original = store.load(args.run_id)
        forked = fork(original, args.step)
        store.save(forked)
        continued = store.continuation(forked.run_id)
    if args.json:
        out.write(json.dumps(forked.to_dict(), ensure_ascii=False) + "\n")
        return EXIT_SUSPENDED
    render_result(forked, out)
    out.write(
        for_people(
            f"run      {forked.run_id}  (forked from {short(original.run_id)} at {args.step}; saved in {args.store})"
        )
        + "\n"
    )
    flag = " --fork" if continued is not None else ""
    how = (
        "--input STEP=JSON"
        if forked.waiting_for != WAITING_EFFECT
        else "(it performs the effect), or --input STEP=OUTCOME"
    )
    out.write(for_people(f"next     stepfold resume {short(forked.run_id)}{flag} {how}") + "\n")
    return EXIT_SUSPENDED
