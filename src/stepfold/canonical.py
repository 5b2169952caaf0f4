"""Canonical JSON (RFC 8785, JCS): `canonical_json` and `sha256_json`, the encodings every digest hashes."""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Mapping

from pyrsistent import PMap, PVector, pvector

from stepfold.errors import InvalidValueError
from stepfold.values import WALK_DEPTH, freeze, too_deep

__all__ = ["canonical_json", "sha256_json"]

_PVECTOR_TYPE: type = type(pvector())  # the concrete (C) class; `PVector` itself is an ABC, slower to test against
_encode_str: Callable[[str], str] = json.encoder.encode_basestring  # type: ignore[attr-defined,unused-ignore]


def _utf16_order(key: str) -> bytes:
    return key.encode("utf-16-be", "surrogatepass")


def _sorted_keys(mapping: Mapping[str, object]) -> list[str]:
    keys = list(mapping)
    if all(key.isascii() for key in keys):
        keys.sort()
    else:
        # RFC 8785 section 3.2.3: order by UTF-16 code units, not code points.
        keys.sort(key=_utf16_order)
    return keys


def _encode_float(x: float) -> str:
    if x == 0:
        return "0"
    if not math.isfinite(x):  # RFC 8785 section 3.2.2.3: NaN and Infinity are errors, never `nan` or `inf` text
        raise InvalidValueError(f"value: {x} is not allowed (only finite numbers)")
    if x.is_integer() and abs(x) < 2**53:  # exact below 2**53; above it JCS wants the shortest digits
        return str(int(x))
    text = repr(abs(x))
    sign = "-" if x < 0 else ""
    if "e" in text:
        mantissa, _, exp_text = text.partition("e")
        exponent = int(exp_text)
    else:
        mantissa, exponent = text, 0
    whole, _, fraction = mantissa.partition(".")
    digits = whole + fraction
    point = len(whole) + exponent
    stripped = digits.lstrip("0")
    point -= len(digits) - len(stripped)
    digits = stripped.rstrip("0")
    k = len(digits)
    n = point
    # ECMAScript Number::toString, which RFC 8785 section 3.2.2.3 adopts.
    if k <= n <= 21:
        body = digits + "0" * (n - k)
    elif 0 < n <= 21:
        body = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        body = "0." + "0" * (-n) + digits
    else:
        e = n - 1
        exp = ("+" if e >= 0 else "-") + str(abs(e))
        body = (digits if k == 1 else digits[0] + "." + digits[1:]) + "e" + exp
    return sign + body


def _encode(value: object, depth: int) -> str:
    t = type(value)
    if t is str:
        return _encode_str(value)  # type: ignore[arg-type]
    if t is int:
        return int.__repr__(value)
    if t is PMap or t is dict:
        if depth >= WALK_DEPTH:
            raise too_deep()
        depth += 1
        return (
            "{"
            + ",".join(
                _encode_str(key) + ":" + _encode(value[key], depth)  # type: ignore[index]
                for key in _sorted_keys(value)  # type: ignore[arg-type]
            )
            + "}"
        )
    if t is _PVECTOR_TYPE or t is list or t is tuple:
        if depth >= WALK_DEPTH:
            raise too_deep()
        depth += 1
        return "[" + ",".join([_encode(item, depth) for item in value]) + "]"  # type: ignore[attr-defined]
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, float) and t is float:
        return _encode_float(value)
    if isinstance(value, Mapping):
        if depth >= WALK_DEPTH:
            raise too_deep()
        depth += 1
        return "{" + ",".join(_encode_str(key) + ":" + _encode(value[key], depth) for key in _sorted_keys(value)) + "}"
    if isinstance(value, (PVector, list, tuple)):
        if depth >= WALK_DEPTH:
            raise too_deep()
        depth += 1
        return "[" + ",".join([_encode(item, depth) for item in value]) + "]"
    if isinstance(value, (bool, int, float, str)):
        return _encode(freeze(value), depth)
    raise InvalidValueError(f"value: cannot encode {type(value).__name__} as canonical JSON")


def canonical_json(value: object) -> bytes:
    """The RFC 8785 (JCS) encoding of a value, as UTF-8 bytes.

    Pass frozen values (or plain data already in the domain); it does not
    re-validate number ranges, which `freeze` guarantees. What it cannot
    encode (an object, nesting deeper than `MAX_DEPTH`, an int too long to
    print, NaN or an infinity, a lone surrogate, a key that is not a string)
    raises `InvalidValueError`.
    """
    try:
        return _encode(value, 0).encode("utf-8")
    except InvalidValueError:
        raise
    except (ValueError, TypeError, AttributeError) as exc:
        # int digits past CPython's limit, a lone surrogate (UnicodeEncodeError), a key that is not a str
        raise InvalidValueError(f"value: cannot encode as canonical JSON: {exc}") from None


def sha256_json(value: object) -> str:
    """SHA-256 (hex) of the RFC 8785 encoding of a value: every digest of the receipt format."""
    return hashlib.sha256(canonical_json(value)).hexdigest()
