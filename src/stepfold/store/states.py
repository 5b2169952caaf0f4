"""States by content digest: each stored once, whole (with its accumulator) or as a short chain of differences."""

from __future__ import annotations

import json
import sqlite3
import zlib
from collections import OrderedDict
from pathlib import Path

from stepfold.delta import StateDelta
from stepfold.errors import InvalidValueError, StoreError
from stepfold.lthash import ELEMENT_BYTES
from stepfold.state import State, state_delta

__all__ = ["StateTable", "MAX_DELTA_CHAIN", "pack", "unpack"]

MAX_DELTA_CHAIN = 16
"""A state stored as a difference is at most this many differences away from a whole state."""

_CACHED = 8


def pack(value: object) -> bytes:
    """Compact JSON, zlib-compressed: how the store keeps documents and state bodies."""
    return zlib.compress(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8"), 6)


def unpack(blob: bytes, where: str) -> object:
    """The JSON value `pack` stored; `StoreError` naming `where` when it is corrupt."""
    if not isinstance(blob, bytes):  # a column edited to TEXT or a number
        raise StoreError(f"{where}: stored data is corrupt (a {type(blob).__name__}, not the compressed bytes written)")
    try:
        return json.loads(zlib.decompress(blob).decode("utf-8"))
    except (zlib.error, UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise StoreError(f"{where}: stored data is corrupt ({exc})") from None


class StateTable:
    """The `states` table of one store connection, with a small cache of recently loaded states."""

    def __init__(self, connection: sqlite3.Connection, path: Path) -> None:
        self._connection = connection
        self._path = path
        self._cache: OrderedDict[str, State] = OrderedDict()

    def _depth(self, digest: str) -> int | None:
        row = self._connection.execute("SELECT depth FROM states WHERE digest = ?", (digest,)).fetchone()
        return None if row is None else int(row[0])

    def put(self, state: State, base: State | None) -> None:
        """Store `state` unless it is stored already: as its difference from `base` when that is short, else whole."""
        if self._depth(state.digest) is not None:
            return
        depth = None if base is None else self._depth(base.digest)
        if base is not None and depth is not None and depth < MAX_DELTA_CHAIN:
            row: tuple[str, str | None, int, bytes, bytes | None] = (
                state.digest,
                base.digest,
                depth + 1,
                pack(state_delta(base, state).to_dict()),
                None,
            )
        else:
            row = (state.digest, None, 0, pack(state.to_dict()), state.accumulator)
        self._connection.execute(
            "INSERT INTO states (digest, base, depth, body, accumulator) VALUES (?, ?, ?, ?, ?)", row
        )

    def load(self, digest: str) -> State:
        """The stored state with this digest, rebuilt from its whole ancestor and differences.

        A whole state is rebuilt from its stored accumulator (checked: it must
        hash to the digest) rather than by hashing every entry again; each
        difference applied on top is hashed as usual, and the result must
        hash to `digest`.
        """
        cached = self._cache.get(digest)
        if cached is not None:
            self._cache.move_to_end(digest)
            return cached
        chain: list[object] = []
        cursor: str | None = digest
        known: State | None = None
        whole: tuple[object, bytes | None, str] | None = None
        while cursor is not None:
            known = self._cache.get(cursor)
            if known is not None:
                break
            row = self._connection.execute(
                "SELECT base, body, accumulator FROM states WHERE digest = ?", (cursor,)
            ).fetchone()
            if row is None:
                raise StoreError(f"{self._path}: state {cursor[:12]} is missing (the store is damaged)")
            body = unpack(row[1], f"{self._path}: state {cursor[:12]}")
            if row[0] is None:
                whole = (body, row[2], cursor)
            else:
                chain.append(body)
            cursor = row[0]
            if len(chain) > MAX_DELTA_CHAIN:
                raise StoreError(f"{self._path}: state {digest[:12]} has a broken difference chain")
        try:
            state = known if known is not None else self._whole(whole)
            for index, change in enumerate(reversed(chain)):
                state = state.apply(StateDelta.from_dict(change, f"difference {index}"))
        except InvalidValueError as exc:
            raise StoreError(f"{self._path}: state {digest[:12]} is corrupt ({exc})") from None
        if state.digest != digest:
            raise StoreError(f"{self._path}: state {digest[:12]} does not hash to its digest (the store is damaged)")
        self._cache[digest] = state
        if len(self._cache) > _CACHED:
            self._cache.popitem(last=False)
        return state

    def _whole(self, whole: tuple[object, bytes | None, str] | None) -> State:
        if whole is None:
            raise StoreError(f"{self._path}: a state chain ends without a whole state (the store is damaged)")
        body, accumulator, digest = whole
        if not isinstance(body, dict):
            raise StoreError(f"{self._path}: state {digest[:12]} is corrupt (not an object)")
        if accumulator is not None and len(accumulator) == ELEMENT_BYTES:
            return State.from_accumulator(body, accumulator)
        return State(body)  # a store of format 1 kept no accumulator: hash every entry

    def clear_cache(self) -> None:
        """Forget the cached states (after deleting)."""
        self._cache.clear()
