"""The run store (the shell; the core never imports it): `SQLiteStore` on the standard library's sqlite3.

Each save is one transaction; the database runs in WAL mode, so a process
killed mid-save leaves every committed run loadable and no half run.
"""

from stepfold.store.schema import MIGRATIONS, SCHEMA_VERSION
from stepfold.store.sqlite import DEFAULT_STORE, HEX_DIGITS, MIN_PREFIX, RunSummary, SQLiteStore
from stepfold.store.states import MAX_DELTA_CHAIN

__all__ = [
    "DEFAULT_STORE",
    "HEX_DIGITS",
    "MAX_DELTA_CHAIN",
    "MIGRATIONS",
    "MIN_PREFIX",
    "RunSummary",
    "SCHEMA_VERSION",
    "SQLiteStore",
]
