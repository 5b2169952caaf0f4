"""Canonical JSON (RFC 8785, JCS): `canonical_json` and `sha256_json`, the encodings every digest hashes."""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Mapping

from pyrsistent import PMap, PVector, pvector

from stepfold.errors import InvalidValueError
from stepfold.values import WALK_DEPTH, Value, entries, freeze, too_deep

__all__ = ["canonical_json", "sha256_json", "plain_json"]

_PVECTOR_TYPE: type = type(pvector())  # the concrete (C) class; `PVector` itself is an ABC, slower to test against
_encode_str: Callable[[str], str] = json.encoder.encode_basestring  # type: ignore[attr-defined,unused-ignore]


def _utf16_order(item: tuple[str, Value]) -> bytes:
    return item[0].encode("utf-16-be", "surrogatepass")


def _sorted_items(mapping: Mapping[str, Value]) -> list[tuple[str, Value]]:
    """The entries in RFC 8785 order: by the UTF-16 code units of the keys (code point order when all are ASCII)."""
    items = entries(mapping)
    if all([key.isascii() for key, _ in items]):
        items.sort()  # keys are unique, so tuples never compare their values
    else:
        items.sort(key=_utf16_order)  # RFC 8785 section 3.2.3
    return items


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


def _encode(value: object, out: list[str], depth: int) -> None:
    """Append the JCS text of `value` to `out` (one list for the whole value: no string built per level)."""
    t = type(value)
    if t is str:
        out.append(_encode_str(value))  # type: ignore[arg-type]
    elif t is int:
        out.append(int.__repr__(value))
    elif t is PMap or t is dict or (t is not str and isinstance(value, Mapping)):
        if depth >= WALK_DEPTH:
            raise too_deep()
        out.append("{")
        first = True
        for key, item in _sorted_items(value):  # type: ignore[arg-type]
            if first:
                first = False
            else:
                out.append(",")
            out.append(_encode_str(key))
            out.append(":")
            _encode(item, out, depth + 1)
        out.append("}")
    elif t is _PVECTOR_TYPE or t is list or t is tuple or isinstance(value, (PVector, list, tuple)):
        if depth >= WALK_DEPTH:
            raise too_deep()
        out.append("[")
        first = True
        for item in value:  # type: ignore[attr-defined]
            if first:
                first = False
            else:
                out.append(",")
            _encode(item, out, depth + 1)
        out.append("]")
    elif value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif t is float:
        out.append(_encode_float(value))  # type: ignore[arg-type]
    elif isinstance(value, (bool, int, float, str)):
        _encode(freeze(value), out, depth)
    else:
        raise InvalidValueError(f"value: cannot encode {type(value).__name__} as canonical JSON")


def canonical_json(value: object) -> bytes:
    """The RFC 8785 (JCS) encoding of a value, as UTF-8 bytes.

    Pass frozen values (or plain data already in the domain); it does not
    re-validate number ranges, which `freeze` guarantees. What it cannot
    encode (an object, nesting deeper than `MAX_DEPTH`, an int too long to
    print, NaN or an infinity, a lone surrogate, a key that is not a string)
    raises `InvalidValueError`.
    """
    out: list[str] = []
    try:
        _encode(value, out, 0)
        return "".join(out).encode("utf-8")
    except InvalidValueError:
        raise
    except (ValueError, TypeError, AttributeError) as exc:
        # int digits past CPython's limit, a lone surrogate (UnicodeEncodeError), a key that is not a str
        raise InvalidValueError(f"value: cannot encode as canonical JSON: {exc}") from None


def _plain_encoder() -> Callable[[object], str]:
    """The C JSON encoder, set to write RFC 8785's separators and key order (`sort_keys` orders ASCII keys as JCS
    does), when this interpreter has the one `json` itself uses; `json.JSONEncoder(...).encode` otherwise."""
    encoder = json.JSONEncoder(
        ensure_ascii=False, separators=(",", ":"), sort_keys=True, allow_nan=False, check_circular=False
    )
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is not None:
        try:
            direct = make(None, None, _encode_str, None, ":", ",", True, False, False)
            probe: object = {"b": [1, "\u00e9\n", None], "a": {"y": 0.5, "x": True}}
            if "".join(direct(probe, 0)) == encoder.encode(probe):
                return lambda value: "".join(direct(value, 0))
        except (TypeError, ValueError):  # pragma: no cover - another signature: the public encoder
            pass
    return encoder.encode  # pragma: no cover - CPython has the C encoder


_plain_encode = _plain_encoder()


def plain_json(value: object) -> bytes:
    """`canonical_json(freeze(value))` for plain data, computed by the C JSON encoder: only for a value that
    `values.freeze_entry` reported plain (exact dicts, lists and tuples with ASCII keys, strings, ints within
    I-JSON, bools, None, and floats `repr` writes as JCS does), for which both are the same bytes."""
    return _plain_encode(value).encode("utf-8")


def sha256_json(value: object) -> str:
    """SHA-256 (hex) of the RFC 8785 encoding of a value: every digest of the receipt format."""
    return hashlib.sha256(canonical_json(value)).hexdigest()
