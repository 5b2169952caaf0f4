"""The naive copying baseline the core benchmark compares stepfold against.

A plain-`dict` implementation of the four operations the benchmark workflow
uses (`set`, `increment`, `merge`, `append`), with the same semantics as
stepfold's built-ins. Each run `copy.deepcopy`s the whole state, and after
every step hashes the whole state: SHA-256 of its RFC 8785 encoding (the same
`stepfold.canonical.canonical_json` encoder stepfold uses, so the comparison is
like for like), chained into a head hash the way stepfold's receipt chains
its links.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Callable, Mapping, Sequence
from typing import Final

from stepfold.canonical import canonical_json

__all__ = ["NAIVE_FORMAT", "NaiveStep", "OPERATIONS", "PlainState", "naive_run", "sha256_json"]

NAIVE_FORMAT: Final = "bench/naive/1"
"""The tag hashed into the genesis of a naive chain."""

PlainState = dict[str, object]
NaiveStep = tuple[str, Mapping[str, object]]
"""One step: the operation name and its arguments (plain data)."""


def sha256_json(value: object) -> str:
    """SHA-256 (hex) of the canonical (RFC 8785) JSON of plain data."""
    return hashlib.sha256(canonical_json(value)).hexdigest()


def _set(state: PlainState, args: Mapping[str, object]) -> None:
    key = args["key"]
    assert isinstance(key, str)
    state[key] = copy.deepcopy(args["value"])


def _increment(state: PlainState, args: Mapping[str, object]) -> None:
    key = args["key"]
    by = args.get("by", 1)
    assert isinstance(key, str) and isinstance(by, (int, float)) and not isinstance(by, bool)
    current = state.get(key, 0)
    if not isinstance(current, (int, float)) or isinstance(current, bool):
        raise TypeError(f"state[{key!r}] is not a number")
    state[key] = current + by


def _merge(state: PlainState, args: Mapping[str, object]) -> None:
    values = args["values"]
    assert isinstance(values, Mapping)
    for key, value in values.items():
        assert isinstance(key, str)
        state[key] = copy.deepcopy(value)


def _append(state: PlainState, args: Mapping[str, object]) -> None:
    key = args["key"]
    assert isinstance(key, str)
    current = state.setdefault(key, [])
    if not isinstance(current, list):
        raise TypeError(f"state[{key!r}] is not a list")
    current.append(copy.deepcopy(args["value"]))


OPERATIONS: Final[Mapping[str, Callable[[PlainState, Mapping[str, object]], None]]] = {
    "set": _set,
    "increment": _increment,
    "merge": _merge,
    "append": _append,
}
"""The naive operations by name; each mutates the run's private copy of the state in place."""


def naive_run(
    initial_state: PlainState,
    steps: Sequence[NaiveStep],
    *,
    initial_digest: str = "",
) -> tuple[str, PlainState]:
    """Run `steps` over a deep copy of `initial_state`; return the head hash and the final state.

    After every step the whole state is hashed (SHA-256 of its canonical
    JSON); the head chains `[previous, step digest, state digest]` from a
    genesis over the format tag and `initial_digest` (computed once, outside
    the run, as stepfold's context computes its initial digest once).
    """
    state = copy.deepcopy(initial_state)
    head = sha256_json([NAIVE_FORMAT, initial_digest])
    for name, args in steps:
        OPERATIONS[name](state, args)
        step_digest = sha256_json([name, args])
        head = sha256_json([head, step_digest, sha256_json(state)])
    return head, state
