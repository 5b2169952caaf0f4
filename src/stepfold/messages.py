"""Message helpers: `format_path` and `brief_repr`, so every error names its place briefly and safely."""

from __future__ import annotations

import json
import re
import reprlib
import traceback
from collections.abc import Callable, Sequence

__all__ = ["format_path", "brief_repr", "describe_int", "exception_text", "raised_where", "MAX_ERROR_MESSAGE"]

_PATH_ENDS = 8  # a path deeper than 3 * 8 levels shows its first and last 8 segments
_PATH_KEY_CHARS = 64  # a longer key is abbreviated in error paths, so that a message stays short
_BRIEF_INT_BITS = 256  # a longer int is described by its size in messages, never converted to digits

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_encode_str: Callable[[str], str] = json.encoder.encode_basestring  # type: ignore[attr-defined,unused-ignore]


def format_path(root: str, segments: Sequence[str | int]) -> str:
    """Render a path such as `initial_state.tasks[3].due` from a root name and keys/indices.

    A key longer than 64 characters is shown by its first 32 and an ellipsis, and a path deeper
    than 24 levels by its first and last 8 around the count left out, so messages stay short.
    """
    out = [root]
    if len(segments) > 2 * _PATH_ENDS + _PATH_ENDS:
        hidden = len(segments) - 2 * _PATH_ENDS
        head, tail = segments[:_PATH_ENDS], segments[-_PATH_ENDS:]
        return f"{format_path(root, head)}…({hidden} levels)…{format_path('', tail)}"
    for seg in segments:
        if isinstance(seg, int):
            out.append(f"[{seg}]")
        elif len(seg) > _PATH_KEY_CHARS:
            out.append(f'[{_encode_str(seg[:32])[:-1]}…"]')
        elif _IDENTIFIER.match(seg):
            out.append(f".{seg}")
        else:
            out.append(f"[{_encode_str(seg)}]")
    return "".join(out)


class _BriefRepr(reprlib.Repr):
    """`reprlib` with short strings and a size instead of the digits of a huge int."""

    def __init__(self) -> None:
        super().__init__()
        self.maxlevel = 3
        self.maxstring = 40
        self.maxother = 40
        self.maxlong = 40

    def repr_instance(self, x: object, level: int) -> str:
        try:
            text = repr(x)
        except Exception:  # a broken __repr__: name the type, never an address (messages are deterministic)
            return f"<{type(x).__qualname__} object>"
        if len(text) <= self.maxother:
            return text
        head = (self.maxother - 3) // 2
        return text[:head] + "..." + text[len(text) - (self.maxother - 3 - head) :]

    def repr_int(self, x: int, level: int) -> str:
        if x.bit_length() > _BRIEF_INT_BITS:
            return f"<int of {x.bit_length()} bits>"
        return super().repr_int(x, level)


_BRIEF = _BriefRepr()


def brief_repr(obj: object) -> str:
    """A short, safe `repr` for error messages: never raises, never huge, never deeper than 3 levels."""
    try:
        return _BRIEF.repr(obj)
    except Exception:  # a broken __repr__ must not replace the error being reported
        return f"<{type(obj).__qualname__} object>"


def describe_int(n: int) -> str:
    """An int for a message: its digits, or its size when it is longer than 256 bits."""
    # str() of an int past 4300 digits raises ValueError (CPython's guard); name its size instead.
    return str(n) if n.bit_length() <= _BRIEF_INT_BITS else f"of {n.bit_length()} bits"


MAX_ERROR_MESSAGE = 2000
"""The longest exception message a record keeps (an operation's failure, an effect's): the rest is counted."""


def exception_text(exc: BaseException, *, one_line: bool = False) -> str:
    """An exception's message as a record can keep it: never raising (a `__str__` that raises is named), lone
    surrogates escaped (the record is UTF-8 JSON), at most `MAX_ERROR_MESSAGE` characters (the rest counted);
    with `one_line`, its whitespace runs collapsed to single spaces."""
    try:
        text = str(exc)
        if one_line:
            text = " ".join(text.split())
    except Exception:  # an exception whose message cannot be printed still makes a record
        return f"(a {type(exc).__name__} whose message cannot be printed)"
    if one_line and not text:
        text = "(no message)"
    if not text.isascii():
        text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    if len(text) > MAX_ERROR_MESSAGE:
        text = f"{text[:MAX_ERROR_MESSAGE]}… ({len(text) - MAX_ERROR_MESSAGE} more characters)"
    return text


def raised_where(exc: BaseException) -> str:
    """`Type: message (raised at FILE:LINE, in FUNCTION)`: an exception from code that is not stepfold's, in one line
    (the innermost frame of its traceback; without a traceback, only the type and message)."""
    text = f"{type(exc).__name__}: {exception_text(exc, one_line=True)}"
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return text
    last = frames[-1]
    return f"{text} (raised at {last.filename}:{last.lineno}, in {last.name})"
