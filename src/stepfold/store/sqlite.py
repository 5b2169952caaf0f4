"""`SQLiteStore`: saved runs by id (their receipt head), each load checked to be the run its id names."""

from __future__ import annotations

import functools
import os
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Concatenate, ParamSpec, TypeVar

import attrs

from stepfold.errors import AlreadyResumedError, InvalidDocumentError, RunNotFoundError, StoreError, TamperedRunError
from stepfold.frozen import thaw
from stepfold.messages import brief_repr
from stepfold.reader import read_result
from stepfold.result import OrchestrationResult
from stepfold.signing import Signature
from stepfold.state import State
from stepfold.store.schema import open_database
from stepfold.store.states import StateTable, pack, unpack
from stepfold.verification import verify

__all__ = ["SQLiteStore", "RunSummary", "MIN_PREFIX", "HEX_DIGITS", "DEFAULT_STORE"]

MIN_PREFIX = 6
"""The shortest run-id prefix `resolve` accepts."""

DEFAULT_STORE = "stepfold.db"
"""The CLI's store file, in the current folder."""


@attrs.frozen
class RunSummary:
    """One line of `runs()`: id, workflow id, status, pending step, executed steps, and its links to other runs.

    `resumed_from` is the suspended run this one continues (None for a fresh
    run); `continued_by` is the run that resumed this one (a suspended run
    has at most one), or None.
    """

    run_id: str
    workflow_id: str
    status: str
    pending_step_id: str | None
    steps: int
    resumed_from: str | None = None
    continued_by: str | None = None
    forked: bool = False

    @property
    def resumed(self) -> bool:
        """True for a suspended run that has been resumed (its continuation is `continued_by`)."""
        return self.continued_by is not None


HEX_DIGITS = frozenset("0123456789abcdefABCDEF")
"""What a run id or its prefix is written in: a head's hex digits, in either case."""

P = ParamSpec("P")
R = TypeVar("R")


def _translated(method: Callable[Concatenate[SQLiteStore, P], R]) -> Callable[Concatenate[SQLiteStore, P], R]:
    """Turn an SQLite failure inside a store method into a `StoreError` naming the file."""

    @functools.wraps(method)
    def wrapper(self: SQLiteStore, /, *args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(self, *args, **kwargs)
        except sqlite3.ProgrammingError as exc:
            if "closed" in str(exc).lower():  # the caller's handle, not the file
                raise StoreError(f"{self.path}: the store was closed; open it again to use it") from None
            raise StoreError(f"{self.path}: the store is damaged or unreadable ({exc})") from None
        except sqlite3.DatabaseError as exc:
            if "readonly" in str(exc).replace(" ", "").lower():
                raise StoreError(f"{self.path}: the store was opened read-only; nothing can be saved") from None
            raise StoreError(f"{self.path}: the store is damaged or unreadable ({exc})") from None

    return wrapper


class SQLiteStore:
    """A file of saved runs: `save`, `load`, `runs`, `continuation`, `delete`, `resolve` (layout in `stepfold.store.schema`).

    A run's id is its receipt head; `load` returns a run only when its
    receipt ends at that id and its record is intact (`TamperedRunError`
    otherwise). `readonly=True` opens the file read-only (for reading
    commands and auditors); `create=False` refuses a missing store.
    """

    def __init__(self, path: str | Path, *, create: bool = True, readonly: bool = False) -> None:
        """Open (and, when `create`, create) the store; `StoreError` for a missing, foreign or newer file."""
        if not isinstance(path, (str, os.PathLike)) or "\0" in str(path):
            raise StoreError(f"store path: expected a file name, got {brief_repr(path)}")
        self.path = Path(path)
        self.readonly = readonly
        self._connection = open_database(self.path, create=create, readonly=readonly)
        self._states = StateTable(self._connection, self.path)

    def close(self) -> None:
        """Close the connection; the store object is unusable afterwards."""
        self._connection.close()

    def __enter__(self) -> SQLiteStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        self._connection.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._connection.execute("ROLLBACK")
            raise
        self._connection.execute("COMMIT")

    @_translated
    def load_state(self, digest: str) -> State:
        """The stored state with this digest; its digest is checked."""
        if not isinstance(digest, str) or len(digest) != 64 or digest.strip("0123456789abcdef"):
            raise StoreError(f"load_state: expected a state digest (64 hex digits), got {brief_repr(digest)}")
        return self._states.load(digest)

    @_translated
    def save(self, result: OrchestrationResult, *, resumed_from: str | None = None, fork: bool = False) -> str:
        """Save a result in one transaction and return its run id (the receipt head, in full).

        `resumed_from` names the suspended run this result continues; unless
        `fork`, that run may have only this one continuation
        (`AlreadyResumedError` naming the other otherwise, also when two
        processes race to save different continuations). Saving the same
        result again is a no-op; a different result with the same head is refused.
        """
        if not isinstance(result, OrchestrationResult):
            raise StoreError(f"save: expected an OrchestrationResult, got {type(result).__name__}")
        if resumed_from is not None and not isinstance(resumed_from, str):
            raise StoreError(f"resumed_from: expected a run id or None, got {brief_repr(resumed_from)}")
        run_id = result.run_id
        packed = pack(result.to_dict(include_states=False))
        exclusive = resumed_from is not None and not fork
        with self._transaction():
            existing = self._connection.execute("SELECT document FROM runs WHERE run_id = ?", (run_id,)).fetchone()
            if existing is not None:
                stored, record = unpack(existing[0], run_id), unpack(packed, run_id)
                if stored != record:
                    raise StoreError(_same_head(run_id, stored, record, result))
                return run_id
            if resumed_from is not None:
                self._check_continues(result, resumed_from)
            if exclusive:
                other = self._continuation(resumed_from)  # type: ignore[arg-type]
                if other is not None:
                    raise _already_resumed(resumed_from, other)  # type: ignore[arg-type]
            self._states.put(result.lineage.initial_state, None)
            self._states.put(result.final_state, result.lineage.initial_state)
            seq = self._connection.execute("SELECT coalesce(max(seq), 0) + 1 FROM runs").fetchone()[0]
            try:
                self._connection.execute(
                    "INSERT INTO runs (run_id, seq, workflow_id, status, pending_step_id, steps, initial_state, "
                    "final_state, document, resumed_from, exclusive) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        run_id,
                        seq,
                        result.id,
                        result.status,
                        result.pending_step_id,
                        len(result.executed_steps),
                        result.lineage.initial_state.digest,
                        result.final_state.digest,
                        packed,
                        resumed_from,
                        int(exclusive),
                    ),
                )
            except sqlite3.IntegrityError:  # the unique continuation index: another process won the race
                other = self._continuation(str(resumed_from))
                raise _already_resumed(str(resumed_from), other or "(another run)") from None
        return run_id

    def _check_continues(self, result: OrchestrationResult, resumed_from: str) -> None:
        """`result` continues the stored suspended run `resumed_from`: that run's head is in its chain, where it stopped."""
        row = self._connection.execute("SELECT status, steps FROM runs WHERE run_id = ?", (resumed_from,)).fetchone()
        if row is None:
            raise StoreError(f"resumed_from: no run {resumed_from[:12]!r} in {self.path} to continue")
        status, steps = str(row[0]), int(row[1])
        links = result.receipt.links
        head_there = result.receipt.genesis if steps == 0 else (links[steps - 1].hash if steps <= len(links) else None)
        if status != "suspended" or head_there != resumed_from or len(links) < steps:
            raise StoreError(
                f"run {result.run_id[:12]} does not continue run {resumed_from[:12]} "
                f"({'its chain does not pass through that run' if status == 'suspended' else 'that run is ' + status})"
            )

    def _continuation(self, run_id: str) -> str | None:
        row = self._connection.execute(
            "SELECT run_id FROM runs WHERE resumed_from = ? AND exclusive = 1", (run_id,)
        ).fetchone()
        return None if row is None else str(row[0])

    @_translated
    def continuation(self, run_id: str) -> str | None:
        """The id of the run that resumed the run `run_id` (id or unique prefix), or None when it was not resumed."""
        return self._continuation(self.resolve(run_id))

    @_translated
    def resolve(self, run_id: str) -> str:
        """The full id of the run `run_id` names: the id itself or a unique prefix of at least 6 hex digits (either case)."""
        if not isinstance(run_id, str) or len(run_id) < MIN_PREFIX or not all(c in HEX_DIGITS for c in run_id):
            raise RunNotFoundError(
                f"run id {brief_repr(run_id)}: give the id or a unique prefix of at least {MIN_PREFIX} hex characters"
            )
        prefix = run_id.lower()  # ids are written in lower case; a head copied from elsewhere may not be
        rows = self._connection.execute(
            "SELECT run_id FROM runs WHERE run_id >= ? AND run_id < ? ORDER BY run_id LIMIT 2",
            (prefix, prefix + "g"),
        ).fetchall()
        if not rows:
            raise RunNotFoundError(f"run {run_id!r}: no such run in {self.path}")
        if len(rows) > 1:
            raise RunNotFoundError(f"run {run_id!r}: the prefix matches more than one run; give more characters")
        return str(rows[0][0])

    @_translated
    def load(self, run_id: str) -> OrchestrationResult:
        """The saved run with this id (or unique prefix): only if it is the run its id names.

        The row's receipt must end at the id, its chain must hash, and its
        record (workflow, states, inputs, statuses, policy) must be the one
        its receipt binds, and its index columns (workflow id, status, pending
        step, steps, the run it resumed) must agree with that record; anything
        else raises `TamperedRunError`, never returns. Entries' states are rebuilt from the stored differences and
        hashed; a whole state's accumulator is read, not recomputed (`verify`
        recomputes everything). `RunNotFoundError` when there is no such run.
        """
        full = self.resolve(run_id)
        row = self._connection.execute(
            "SELECT document, initial_state, final_state, workflow_id, status, pending_step_id, steps, resumed_from "
            "FROM runs WHERE run_id = ?",
            (full,),
        ).fetchone()
        document = unpack(row[0], f"{self.path}: run {full[:12]}")
        if not isinstance(document, dict) or not isinstance(document.get("lineage"), dict):
            raise StoreError(f"{self.path}: run {full[:12]} is corrupt")
        initial, final = self._states.load(str(row[1])), self._states.load(str(row[2]))
        try:
            result, _ = read_result(document, states=(initial, final))
        except InvalidDocumentError as exc:
            raise TamperedRunError(f"{self.path}: run {full[:12]} is not the run its id names: {exc}") from None
        if result.final_state.digest != final.digest:
            raise TamperedRunError(
                f"{self.path}: run {full[:12]} is not the run its id names: its steps do not lead to its final state"
            )
        verdict = verify(result, replay=False, expect_head=full, trust_accumulators=True)  # rows it wrote
        if not verdict.ok:
            raise TamperedRunError(f"{self.path}: run {full[:12]} is not the run its id names: {verdict.reason}")
        column = _index_disagreeing(result, row[3:])
        if column is not None:
            raise TamperedRunError(f"{self.path}: run {full[:12]}'s index disagrees with its record: {column}")
        return result

    @_translated
    def run_ids(self) -> list[str]:
        """The id of every saved run, oldest first (what `verify --all` loads one by one, whatever its index says)."""
        return [str(r[0]) for r in self._connection.execute("SELECT run_id FROM runs ORDER BY seq")]

    @_translated
    def runs(self) -> list[RunSummary]:
        """Every saved run, oldest first, with its links to the runs it resumed and that resumed it."""
        rows = self._connection.execute(
            "SELECT r.run_id, r.workflow_id, r.status, r.pending_step_id, r.steps, r.resumed_from, r.exclusive, "
            "(SELECT c.run_id FROM runs c WHERE c.resumed_from = r.run_id AND c.exclusive = 1) "
            "FROM runs r ORDER BY r.seq"
        ).fetchall()
        for r in rows:
            if type(r[4]) is not int or not all(isinstance(v, str) for v in (r[0], r[1], r[2])):
                raise StoreError(
                    f"{self.path}: run {str(r[0])[:12]}'s index is corrupt (steps {r[4]!r}, status {r[2]!r}): "
                    "stepfold verify --all says which runs are damaged"
                )
        return [RunSummary(r[0], r[1], r[2], r[3], r[4], r[5], r[7], r[5] is not None and not r[6]) for r in rows]

    @_translated
    def add_signature(self, run_id: str, signature: Signature) -> None:
        """Keep a signature over the run `run_id` (id or unique prefix); the same one twice is kept once."""
        full = self.resolve(run_id)
        with self._transaction():
            self._connection.execute(
                "INSERT OR REPLACE INTO signatures (run_id, algorithm, key, signature) VALUES (?, ?, ?, ?)",
                (full, signature.algorithm, signature.key, signature.signature),
            )

    @_translated
    def signatures(self, run_id: str) -> list[Signature]:
        """The signatures kept for the run `run_id` (id or unique prefix), by key."""
        full = self.resolve(run_id)
        rows = self._connection.execute(
            "SELECT key, signature, algorithm FROM signatures WHERE run_id = ? ORDER BY algorithm, key", (full,)
        ).fetchall()
        return [Signature(str(r[0]), str(r[1]), str(r[2])) for r in rows]

    @_translated
    def delete(self, run_id: str) -> str:
        """Delete a run (id or unique prefix), and the states no other run needs; returns the full id."""
        full = self.resolve(run_id)
        with self._transaction():
            self._connection.execute("DELETE FROM signatures WHERE run_id = ?", (full,))
            self._connection.execute("DELETE FROM runs WHERE run_id = ?", (full,))
            while self._connection.execute(
                "DELETE FROM states WHERE digest NOT IN (SELECT initial_state FROM runs) "
                "AND digest NOT IN (SELECT final_state FROM runs) "
                "AND digest NOT IN (SELECT base FROM states WHERE base IS NOT NULL)"
            ).rowcount:
                pass
        self._states.clear_cache()
        return full


def _same_head(run_id: str, stored: object, new: object, result: OrchestrationResult) -> str:
    """Why a second record with a saved run's head is refused: what differs, which the receipt does not bind."""
    record = stored if isinstance(stored, dict) else {}
    recorded = record.get("context", {}).get("inputs", {})
    differing = sorted(
        key
        for key in set(recorded) | set(result.context.inputs)
        if key not in recorded or key not in result.context.inputs or recorded[key] != thaw(result.context.inputs[key])
    )
    if differing:
        what = f"inputs given ahead for steps not run yet {differing}"
    else:
        document = new if isinstance(new, dict) else {}
        fields = sorted(key for key in set(record) | set(document) if record.get(key) != document.get(key))
        what = f"{', '.join(fields) or 'nothing a reader sees'}, which the receipt does not bind"
    return (
        f"run {run_id[:12]}: a different result with the same receipt head is already stored; they differ only in "
        f"{what} (a store keeps one record per run id)"
    )


def _already_resumed(run_id: str, continuation: str) -> AlreadyResumedError:
    return AlreadyResumedError(
        f"run {run_id[:12]} was already resumed: its continuation is {continuation[:12]}; "
        "resume that run instead, or fork this one (--fork) to continue it differently"
    )


def _index_disagreeing(result: OrchestrationResult, columns: tuple[object, ...]) -> str | None:
    """Which of a row's index columns (what `runs` lists, what a resume checks) its record contradicts, if any."""
    workflow_id, status, pending, steps, resumed_from = columns
    expected = {
        "workflow_id": result.id,
        "status": result.status,
        "pending_step_id": result.pending_step_id,
        "steps": len(result.executed_steps),
    }
    for name, value in zip(expected, (workflow_id, status, pending, steps)):
        if value != expected[name] or type(value) is not type(expected[name]):
            return f"{name} {value!r} where the record gives {expected[name]!r}"
    if resumed_from is not None:
        chain = {result.receipt.genesis, *(link.hash for link in result.receipt.links[:-1])}
        if resumed_from not in chain:
            return f"resumed_from {str(resumed_from)[:12]!r} is not a run its chain passes through"
    return None
