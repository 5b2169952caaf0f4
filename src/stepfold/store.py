"""`SQLiteStore`: an embedded run store on the standard library's sqlite3 (the shell; the core never imports it).

Layout (schema version in `PRAGMA user_version`, stepfold's mark in
`PRAGMA application_id`):

- `states(digest, base, depth, body)`: states by content digest, stored
  once each. A state is kept whole, or as its difference (`{"set",
  "removed"}`) from a `base` state, chained at most `MAX_DELTA_CHAIN` deep.
- `runs(run_id, seq, workflow_id, status, pending_step_id, steps,
  initial_state, final_state, document)`: one row per saved result; the
  document is `to_dict()` without its two states, which are references into
  `states` (so a thousand runs over one 100k-entry state store it once).

Each save is one transaction; the database runs in WAL mode, so a process
killed mid-save leaves every committed run loadable and no half run.
"""

from __future__ import annotations

import functools
import json
import sqlite3
import zlib
from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import Concatenate, ParamSpec, TypeVar
from contextlib import contextmanager
from pathlib import Path

import attrs

from stepfold.errors import InvalidDocumentError, RunNotFoundError, StoreError
from stepfold.result import OrchestrationResult, read_result
from stepfold.state import State, StateDelta, state_delta
from stepfold.values import thaw

__all__ = ["SQLiteStore", "RunSummary", "SCHEMA_VERSION", "MAX_DELTA_CHAIN", "MIN_PREFIX", "DEFAULT_STORE"]

SCHEMA_VERSION = 1
"""The store layout this version of stepfold writes; older stores are migrated on open."""

APPLICATION_ID = 0x53544650  # "STFP"
MAX_DELTA_CHAIN = 16
"""A state stored as a difference is at most this many differences away from a whole state."""

MIN_PREFIX = 6
"""The shortest run-id prefix `resolve` accepts."""

DEFAULT_STORE = "stepfold.db"
"""The CLI's store file, in the current folder."""

_SQLITE_MAGIC = b"SQLite format 3\x00"


def _create_v1(connection: sqlite3.Connection) -> None:
    connection.execute(
        "CREATE TABLE states (digest TEXT PRIMARY KEY, base TEXT REFERENCES states(digest), "
        "depth INTEGER NOT NULL, body BLOB NOT NULL)"
    )
    connection.execute(
        "CREATE TABLE runs (run_id TEXT PRIMARY KEY, seq INTEGER NOT NULL UNIQUE, workflow_id TEXT NOT NULL, "
        "status TEXT NOT NULL, pending_step_id TEXT, steps INTEGER NOT NULL, "
        "initial_state TEXT NOT NULL REFERENCES states(digest), final_state TEXT NOT NULL REFERENCES states(digest), "
        "document BLOB NOT NULL)"
    )


MIGRATIONS: tuple[Callable[[sqlite3.Connection], None], ...] = (_create_v1,)
"""`MIGRATIONS[v]` upgrades a store from version v to v + 1 (version 0 is an empty file)."""


@attrs.frozen
class RunSummary:
    """One line of `runs()`: id, workflow id, status, pending step and number of executed steps."""

    run_id: str
    workflow_id: str
    status: str
    pending_step_id: str | None
    steps: int


def _pack(value: object) -> bytes:
    return zlib.compress(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8"), 6)


def _unpack(blob: bytes, where: str) -> object:
    try:
        return json.loads(zlib.decompress(blob).decode("utf-8"))
    except (zlib.error, UnicodeDecodeError, ValueError) as exc:
        raise StoreError(f"{where}: stored data is corrupt ({exc})") from None


P = ParamSpec("P")
R = TypeVar("R")


def _translated(method: Callable[Concatenate[SQLiteStore, P], R]) -> Callable[Concatenate[SQLiteStore, P], R]:
    """Turn an SQLite failure inside a store method into a `StoreError` naming the file."""

    @functools.wraps(method)
    def wrapper(self: SQLiteStore, /, *args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(self, *args, **kwargs)
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path}: the store is damaged or unreadable ({exc})") from None

    return wrapper


class SQLiteStore:
    """A file of saved runs: `save`, `load`, `runs`, `delete`, `resolve`; see the module doc for the layout."""

    def __init__(self, path: str | Path, *, create: bool = True) -> None:
        """Open (and, when `create`, create) the store; `StoreError` for a missing, foreign or newer file."""
        self.path = Path(path)
        if not create and (not self.path.is_file() or not self.path.stat().st_size):
            raise StoreError(f"{self.path}: no such store (nothing has been saved here yet)")
        if self.path.is_file() and self.path.stat().st_size:
            with self.path.open("rb") as handle:
                if handle.read(len(_SQLITE_MAGIC)) != _SQLITE_MAGIC:
                    raise StoreError(f"{self.path}: not a stepfold store (not an SQLite database)")
        try:
            self._connection = sqlite3.connect(self.path, isolation_level=None, timeout=30)
            self._open()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path}: cannot open the store: {exc}") from None
        self._states: OrderedDict[str, State] = OrderedDict()

    def _open(self) -> None:
        connection = self._connection
        application_id = connection.execute("PRAGMA application_id").fetchone()[0]
        version = connection.execute("PRAGMA user_version").fetchone()[0]
        tables = connection.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        if application_id != APPLICATION_ID and (tables or version):
            raise StoreError(f"{self.path}: not a stepfold store (an SQLite database of something else)")
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path}: store format {version} is newer than this stepfold understands ({SCHEMA_VERSION}); "
                "upgrade stepfold to read it"
            )
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA foreign_keys=ON")
        if version < SCHEMA_VERSION:
            with self._transaction():
                for step in range(version, SCHEMA_VERSION):
                    MIGRATIONS[step](connection)
                connection.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

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

    # States -----------------------------------------------------------------

    def _has_state(self, digest: str) -> tuple[int] | None:
        row = self._connection.execute("SELECT depth FROM states WHERE digest = ?", (digest,)).fetchone()
        return None if row is None else (int(row[0]),)

    def _put_state(self, state: State, base: State | None) -> None:
        if self._has_state(state.digest) is not None:
            return
        based = None if base is None else self._has_state(base.digest)
        if base is not None and based is not None and based[0] < MAX_DELTA_CHAIN:
            delta = state_delta(base, state)
            body = _pack({"removed": list(delta.removed), "set": thaw(delta.set)})
            row: tuple[str, str | None, int, bytes] = (state.digest, base.digest, based[0] + 1, body)
        else:
            row = (state.digest, None, 0, _pack(state.to_dict()))
        self._connection.execute("INSERT INTO states (digest, base, depth, body) VALUES (?, ?, ?, ?)", row)

    @_translated
    def load_state(self, digest: str) -> State:
        """The stored state with this digest, rebuilt from its whole ancestor and differences, and re-checked."""
        cached = self._states.get(digest)
        if cached is not None:
            self._states.move_to_end(digest)
            return cached
        chain: list[object] = []
        cursor: str | None = digest
        known: State | None = None
        while cursor is not None:
            known = self._states.get(cursor)
            if known is not None:
                break
            row = self._connection.execute("SELECT base, body FROM states WHERE digest = ?", (cursor,)).fetchone()
            if row is None:
                raise StoreError(f"{self.path}: state {cursor[:12]} is missing (the store is damaged)")
            chain.append(_unpack(row[1], f"{self.path}: state {cursor[:12]}"))
            cursor = row[0]
            if len(chain) > MAX_DELTA_CHAIN + 1:
                raise StoreError(f"{self.path}: state {digest[:12]} has a broken difference chain")
        try:
            state = known if known is not None else State(chain.pop())  # type: ignore[arg-type]
            while chain:
                change = chain.pop()
                assert isinstance(change, dict)
                state = state.apply(StateDelta(change["set"], change["removed"]))
        except (ValueError, KeyError, AssertionError, TypeError) as exc:
            raise StoreError(f"{self.path}: state {digest[:12]} is corrupt ({exc})") from None
        if state.digest != digest:
            raise StoreError(f"{self.path}: state {digest[:12]} does not hash to its digest (the store is damaged)")
        self._states[digest] = state
        if len(self._states) > 8:
            self._states.popitem(last=False)
        return state

    # Runs -------------------------------------------------------------------

    @_translated
    def save(self, result: OrchestrationResult) -> str:
        """Save a result in one transaction and return its run id (the receipt head, in full).

        Saving the same result again is a no-op; a different result with the same head is refused.
        """
        if not isinstance(result, OrchestrationResult):
            raise StoreError(f"save: expected an OrchestrationResult, got {type(result).__name__}")
        run_id = result.receipt.head
        packed = _pack(result.to_dict(include_states=False))
        with self._transaction():
            existing = self._connection.execute("SELECT document FROM runs WHERE run_id = ?", (run_id,)).fetchone()
            if existing is not None:
                if _unpack(existing[0], run_id) != _unpack(packed, run_id):
                    raise StoreError(
                        f"run {run_id[:12]}: a different result with the same receipt head is already stored "
                        "(same steps and states, different pending inputs)"
                    )
                return run_id
            self._put_state(result.lineage.initial_state, None)
            self._put_state(result.final_state, result.lineage.initial_state)
            seq = self._connection.execute("SELECT coalesce(max(seq), 0) + 1 FROM runs").fetchone()[0]
            self._connection.execute(
                "INSERT INTO runs (run_id, seq, workflow_id, status, pending_step_id, steps, initial_state, "
                "final_state, document) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    run_id, seq, result.id, result.status, result.pending_step_id, len(result.executed_steps),
                    result.lineage.initial_state.digest, result.final_state.digest, packed,
                ),
            )
        return run_id

    @_translated
    def resolve(self, run_id: str) -> str:
        """The full id of the run `run_id` names: the id itself or a unique prefix of at least 6 characters."""
        if not isinstance(run_id, str) or len(run_id) < MIN_PREFIX or not all(c in "0123456789abcdef" for c in run_id):
            raise RunNotFoundError(
                f"run id {run_id!r}: give the id or a unique prefix of at least {MIN_PREFIX} hex characters"
            )
        rows = self._connection.execute(
            "SELECT run_id FROM runs WHERE run_id >= ? AND run_id < ? ORDER BY run_id LIMIT 2",
            (run_id, run_id + "g"),
        ).fetchall()
        if not rows:
            raise RunNotFoundError(f"run {run_id!r}: no such run in {self.path}")
        if len(rows) > 1:
            raise RunNotFoundError(f"run {run_id!r}: the prefix matches more than one run; give more characters")
        return str(rows[0][0])

    @_translated
    def load(self, run_id: str) -> OrchestrationResult:
        """The saved result with this id (or unique prefix); `RunNotFoundError` naming it when there is none."""
        full = self.resolve(run_id)
        row = self._connection.execute(
            "SELECT document, initial_state, final_state FROM runs WHERE run_id = ?", (full,)
        ).fetchone()
        document = _unpack(row[0], f"{self.path}: run {full[:12]}")
        if not isinstance(document, dict) or not isinstance(document.get("lineage"), dict):
            raise StoreError(f"{self.path}: run {full[:12]} is corrupt")
        initial, final = self.load_state(row[1]), self.load_state(row[2])
        try:
            result, _ = read_result(document, states=(initial, final))
        except InvalidDocumentError as exc:
            raise StoreError(f"{self.path}: run {full[:12]} is corrupt: {exc}") from None
        if result.final_state != final:
            raise StoreError(f"{self.path}: run {full[:12]} is corrupt: its steps do not lead to its final state")
        return result

    @_translated
    def runs(self) -> list[RunSummary]:
        """Every saved run, oldest first."""
        rows = self._connection.execute(
            "SELECT run_id, workflow_id, status, pending_step_id, steps FROM runs ORDER BY seq"
        ).fetchall()
        return [RunSummary(str(r[0]), str(r[1]), str(r[2]), r[3], int(r[4])) for r in rows]

    @_translated
    def delete(self, run_id: str) -> str:
        """Delete a run (id or unique prefix), and the states no other run needs; returns the full id."""
        full = self.resolve(run_id)
        with self._transaction():
            self._connection.execute("DELETE FROM runs WHERE run_id = ?", (full,))
            while self._connection.execute(
                "DELETE FROM states WHERE digest NOT IN (SELECT initial_state FROM runs) "
                "AND digest NOT IN (SELECT final_state FROM runs) "
                "AND digest NOT IN (SELECT base FROM states WHERE base IS NOT NULL)"
            ).rowcount:
                pass
        self._states.clear()
        return full
