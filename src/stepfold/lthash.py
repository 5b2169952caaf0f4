"""LtHash, the homomorphic multiset hash of a state's entries (Lewi et al. 2019), with DESIGN.md's normative parameters.

Each entry `[key, value]` is encoded as RFC 8785 JSON and read through
SHAKE-256 into 2048 bytes = 1024 little-endian 16-bit lanes (its element);
a state's accumulator is the lane-wise sum mod 2**16 of its entries'
elements; its digest is the SHA-256 (hex) of the 2048-byte little-endian
accumulator. Accumulators are Python ints (the 2048 bytes, little-endian),
so a lane-wise add is a few big-int operations (SWAR), not 1024 additions.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterable
from typing import Final

from stepfold.canonical import canonical_json, plain_json
from stepfold.values import Value

__all__ = [
    "ELEMENT_BYTES",
    "entry_element",
    "plain_entry_element",
    "lane_add",
    "lane_sub",
    "accumulate",
    "digest_of",
    "accumulator_digest",
    "EMPTY_DIGEST",
]

ELEMENT_BYTES: Final = 2048
"""Bytes in an LtHash element and in the accumulator: 1024 lanes of 16 bits."""

_BITS = ELEMENT_BYTES * 8
_FULL = (1 << _BITS) - 1
_HIGH = int.from_bytes(b"\x00\x80" * (ELEMENT_BYTES // 2), "little")  # top bit of every lane
_LOW = _FULL ^ _HIGH
_EVEN = int.from_bytes(b"\xff\xff\x00\x00" * (ELEMENT_BYTES // 4), "little")  # lanes 0, 2, 4, ...
_CHUNK = 65535  # per-slot sums of this many 16-bit lanes still fit in 32 bits


ELEMENT_CACHE = 4096
"""How many entries' elements `entry_element` remembers, by the exact bytes it hashes (~9 MiB when full)."""


@functools.lru_cache(maxsize=ELEMENT_CACHE)
def _element_of(encoded: bytes) -> int:
    return int.from_bytes(hashlib.shake_256(encoded).digest(ELEMENT_BYTES), "little")


def entry_element(key: str, value: Value) -> int:
    """The LtHash element of one entry: SHAKE-256 of JCS `[key, value]`, 2048 bytes little-endian.

    Remembered by content: the cache key is the canonical encoding itself, so
    equal bytes give the same element and different bytes never share one
    (an entry replaced or removed later needs its element again).
    """
    return _element_of(canonical_json([key, value]))


def plain_entry_element(key: str, value: object) -> int:
    """`entry_element(key, freeze(value))` for a plain value (one `values.freeze_entry` reported plain), its
    encoding written by the C JSON encoder: the same bytes, so the same element."""
    return _element_of(plain_json([key, value]))


def lane_add(a: int, b: int) -> int:
    """The lane-wise sum mod 2**16 of two accumulators (or elements)."""
    # SWAR: add the low 15 bits of each lane, then fix each lane's top bit without a carry out.
    return ((a & _LOW) + (b & _LOW)) ^ ((a ^ b) & _HIGH)


def lane_sub(a: int, b: int) -> int:
    """The lane-wise difference mod 2**16: `lane_sub(lane_add(a, b), b) == a`."""
    return ((a | _HIGH) - (b & _LOW)) ^ ((a ^ b ^ _FULL) & _HIGH)


def _fold_chunk(total: int, even: int) -> int:
    # total = sum of whole elements, even = sum of their even lanes (each in a 32-bit slot);
    # the odd lanes' sums are total - even, shifted into the same slots.
    odd = (total - even) >> 16
    return (even & _EVEN) | ((odd & _EVEN) << 16)


def accumulate(elements: Iterable[int]) -> int:
    """Lane-wise sum mod 2**16 of many elements, with two big-int additions per element."""
    acc = total = even = count = 0
    for element in elements:
        total += element
        even += element & _EVEN
        count += 1
        if count == _CHUNK:
            acc = lane_add(acc, _fold_chunk(total, even))
            total = even = count = 0
    return lane_add(acc, _fold_chunk(total, even)) if count else acc


def digest_of(acc: int) -> str:
    """The state digest of an accumulator: SHA-256 (hex) of its 2048 little-endian bytes."""
    return accumulator_digest(acc.to_bytes(ELEMENT_BYTES, "little"))


_HALF = ELEMENT_BYTES // 2


def accumulator_digest(accumulator: bytes) -> str:
    """SHA-256 (hex) of an accumulator's bytes, fed in two halves.

    hashlib releases the GIL for a buffer of 2048 bytes or more; an
    accumulator is exactly that, and a digest takes about a microsecond, so
    releasing it only lets another thread (an executor's result thread) take
    the interpreter for a whole switch interval. Two halves keep it: the
    same digest, without the wait.
    """
    digest = hashlib.sha256(accumulator[:_HALF])
    digest.update(accumulator[_HALF:])
    return digest.hexdigest()


EMPTY_DIGEST: Final = digest_of(0)
"""The digest of the empty state: SHA-256 of 2048 zero bytes."""
