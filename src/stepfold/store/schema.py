"""The store file: its layout, its migrations, and opening it safely (read-only for reading, concurrently for creating).

Layout, schema version 2 (in `PRAGMA user_version`; stepfold's mark in
`PRAGMA application_id`):

- `states(digest, base, depth, body, accumulator)`: states by content
  digest, stored once each, whole (`base` null, with their 2048-byte LtHash
  `accumulator`) or as their difference (`{"set", "removed"}`) from a
  `base` state, chained at most `MAX_DELTA_CHAIN` deep.
- `runs(run_id, seq, workflow_id, status, pending_step_id, steps,
  initial_state, final_state, document, resumed_from, exclusive)`: one row
  per saved result; the document is `to_dict()` without its two states,
  which are references into `states`. `resumed_from` names the suspended
  run a continuation resumed; a unique index lets each run have at most one
  `exclusive` continuation (a resume; forks and fresh re-runs are not).
- `signatures(run_id, algorithm, key, signature)`: signatures over run heads
  (`stepfold run --sign`), kept beside the run, never inside its record.

Any number of processes may create and migrate a new store at once: the
check and the creation are one `BEGIN IMMEDIATE` transaction, retried while
the database is busy. A store opened for reading is opened read-only (and
as immutable where the folder is read-only, so that an auditor can read a
store on read-only media).
"""

from __future__ import annotations

import os
import sqlite3
import stat
import time
import urllib.parse
from collections.abc import Callable
from pathlib import Path

from stepfold.errors import StoreError

__all__ = ["SCHEMA_VERSION", "APPLICATION_ID", "MIGRATIONS", "open_database", "OPEN_TIMEOUT_S"]

SCHEMA_VERSION = 2
"""The store layout this version of stepfold writes; older stores are migrated when opened for writing."""

APPLICATION_ID = 0x53544650  # "STFP"

OPEN_TIMEOUT_S = 30.0
"""How long opening (and each write) waits for another process's lock before giving up."""

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


def _links_and_accumulators_v2(connection: sqlite3.Connection) -> None:
    connection.execute("ALTER TABLE states ADD COLUMN accumulator BLOB")
    connection.execute("ALTER TABLE runs ADD COLUMN resumed_from TEXT")
    connection.execute("ALTER TABLE runs ADD COLUMN exclusive INTEGER NOT NULL DEFAULT 0")
    connection.execute(
        "CREATE UNIQUE INDEX one_continuation ON runs(resumed_from) WHERE resumed_from IS NOT NULL AND exclusive = 1"
    )
    connection.execute(
        "CREATE TABLE signatures (run_id TEXT NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE, "
        "algorithm TEXT NOT NULL, key TEXT NOT NULL, signature TEXT NOT NULL, PRIMARY KEY (run_id, algorithm, key))"
    )


MIGRATIONS: tuple[Callable[[sqlite3.Connection], None], ...] = (_create_v1, _links_and_accumulators_v2)
"""`MIGRATIONS[v]` upgrades a store from version v to v + 1 (version 0 is an empty file)."""


def _check_path(path: Path, *, create: bool) -> None:
    if str(path) in ("", ":memory:") or str(path).startswith("file:"):
        raise StoreError(f"{str(path)!r}: a store is a file that outlives the command; give a file name")
    try:
        info = path.stat()
    except FileNotFoundError:
        if not create:
            raise StoreError(f"{path}: no such store (nothing has been saved here yet)") from None
        return
    except OSError as exc:
        raise StoreError(f"{path}: cannot open the store: {exc.strerror or exc}") from None
    if not stat.S_ISREG(info.st_mode):
        raise StoreError(f"{path}: not a stepfold store (not a regular file)")
    if not info.st_size:
        if not create:
            raise StoreError(f"{path}: no such store (nothing has been saved here yet)")
        return
    with path.open("rb") as handle:
        if handle.read(len(_SQLITE_MAGIC)) != _SQLITE_MAGIC:
            raise StoreError(f"{path}: not a stepfold store (not an SQLite database)")


def _busy(exc: sqlite3.OperationalError) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


def _header(connection: sqlite3.Connection) -> tuple[int, int, int]:
    application_id = connection.execute("PRAGMA application_id").fetchone()[0]
    version = connection.execute("PRAGMA user_version").fetchone()[0]
    tables = connection.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
    return int(application_id), int(version), int(tables)


def _check_header(path: Path, application_id: int, version: int, tables: int) -> None:
    if application_id != APPLICATION_ID and (tables or version):
        raise StoreError(f"{path}: not a stepfold store (an SQLite database of something else)")
    if version == 0 and tables:  # creating one sets its version in the same transaction: this was edited
        raise StoreError(
            f"{path}: the store is damaged: it holds tables but no format version (PRAGMA user_version is 0)"
        )
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"{path}: store format {version} is newer than this stepfold understands ({SCHEMA_VERSION}); "
            "upgrade stepfold to read it"
        )


def _open_for_writing(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(path, isolation_level=None, timeout=OPEN_TIMEOUT_S)
    deadline = time.monotonic() + OPEN_TIMEOUT_S
    pause = 0.01
    while True:
        try:
            connection.execute("BEGIN")  # look before changing anything: never write to someone else's database
            _check_header(path, *_header(connection))
            connection.execute("COMMIT")
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("BEGIN IMMEDIATE")
            try:
                application_id, version, tables = _header(connection)
                _check_header(path, application_id, version, tables)
                for step in range(version, SCHEMA_VERSION):
                    MIGRATIONS[step](connection)
                if version < SCHEMA_VERSION:
                    connection.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                    connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")
            connection.execute("PRAGMA foreign_keys=ON")
            return connection
        except sqlite3.OperationalError as exc:
            if not _busy(exc) or time.monotonic() > deadline:
                connection.close()
                raise
            time.sleep(pause)
            pause = min(pause * 2, 0.5)
        except BaseException:
            connection.close()
            raise


def _open_for_reading(path: Path) -> sqlite3.Connection:
    quoted = urllib.parse.quote(os.path.abspath(path))
    last: sqlite3.Error | None = None
    for mode in ("mode=ro", "immutable=1"):  # immutable: the folder is read-only, so no -wal/-shm can be made
        if mode == "immutable=1":
            _refuse_unread_log(path)
        connection = sqlite3.connect(f"file:{quoted}?{mode}", uri=True, isolation_level=None, timeout=OPEN_TIMEOUT_S)
        try:
            connection.execute("BEGIN")
            application_id, version, tables = _header(connection)
            connection.execute("COMMIT")
        except sqlite3.OperationalError as exc:
            connection.close()
            last = exc
            continue
        except BaseException:
            connection.close()
            raise
        _check_header(path, application_id, version, tables)
        if version < SCHEMA_VERSION:
            connection.close()
            raise StoreError(
                f"{path}: store format {version} is older than this stepfold's ({SCHEMA_VERSION}); "
                "run any command that saves (or open it for writing) once to migrate it"
            )
        return connection
    raise StoreError(f"{path}: cannot open the store for reading: {last}")


def _refuse_unread_log(path: Path) -> None:
    """An immutable reader ignores the write-ahead log: refuse a store whose log may still hold committed runs."""
    log = Path(f"{path}-wal")
    try:
        pending = log.stat().st_size > 0
    except OSError:
        return
    if pending:
        raise StoreError(
            f"{path}: cannot be read here: its write-ahead log {log.name} holds changes not yet in the file, and this "
            "folder is read-only (SQLite cannot read the log without a -shm file); copy the store and its -wal to a "
            "writable folder, or checkpoint it where it was written (sqlite3 FILE 'PRAGMA wal_checkpoint')"
        )


def open_database(path: Path, *, create: bool, readonly: bool) -> sqlite3.Connection:
    """A connection to the store at `path`: created and migrated when `create`, read-only when `readonly`.

    `StoreError` for a path that is not a file (`:memory:`, a device), a
    missing store (unless `create`), a file that is not a stepfold store, or
    one of a newer format.
    """
    _check_path(path, create=create and not readonly)
    try:
        return _open_for_reading(path) if readonly else _open_for_writing(path)
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{path}: cannot open the store: {exc}") from None
