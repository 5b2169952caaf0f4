"""Reading documents field by field: each reader names the path of the first thing wrong, as `InvalidDocumentError`.

The result reader, the golden-file reader and `MissionCall.from_dict` read
their plain-JSON documents with these, so every document error reads alike:
`result.lineage.entries[2].status: expected 'completed' or 'failed', got 'ok'`.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from typing import TypeVar

from stepfold.errors import InvalidDocumentError, InvalidValueError
from stepfold.messages import brief_repr
from stepfold.values import Value, freeze

__all__ = [
    "building",
    "read_record",
    "read_mapping",
    "read_sequence",
    "read_field",
    "read_value",
    "read_text",
    "read_digest",
]

T = TypeVar("T")


def building(where: str, make: Callable[[], T]) -> T:
    """`make()`, with a refusal from inside it (a value, a constructor) reported as `InvalidDocumentError` at `where`."""
    try:
        return make()
    except InvalidDocumentError:
        raise
    except (InvalidValueError, ValueError, TypeError, KeyError) as exc:
        raise InvalidDocumentError(f"{where}: {exc}") from None


def read_mapping(value: object, where: str) -> Mapping[str, object]:
    """An object; `InvalidDocumentError` at `where` for anything else."""
    if not isinstance(value, Mapping):
        raise InvalidDocumentError(f"{where}: expected an object, got {type(value).__name__}")
    return value


def read_record(value: object, where: str, keys: Collection[str]) -> Mapping[str, object]:
    """An object with no keys beyond `keys`: anything extra in a verified document is refused."""
    mapping = read_mapping(value, where)
    extra = sorted(brief_repr(key) for key in mapping if key not in keys)
    if extra:
        raise InvalidDocumentError(f"{where}: unexpected keys [{', '.join(extra)}]; expected only {sorted(keys)}")
    return mapping


def read_sequence(value: object, where: str) -> Sequence[object]:
    """An array; `InvalidDocumentError` at `where` for anything else."""
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise InvalidDocumentError(f"{where}: expected an array, got {type(value).__name__}")
    return value


def read_field(mapping: Mapping[str, object], where: str, key: str) -> object:
    """`mapping[key]`; `InvalidDocumentError` at `where.key` when it is missing."""
    if key not in mapping:
        raise InvalidDocumentError(f"{where}.{key}: missing")
    return mapping[key]


def read_value(value: object, where: str) -> Value:
    """A field holding a value: frozen, or refused naming `where` (once)."""
    try:
        return freeze(value, path=where)
    except InvalidValueError as exc:  # the message already names `where`
        raise InvalidDocumentError(str(exc)) from None


def read_text(value: object, where: str) -> str:
    """A string field: a str that is in the value domain (no lone surrogates)."""
    if not isinstance(value, str):
        raise InvalidDocumentError(f"{where}: expected a string, got {type(value).__name__} {brief_repr(value)}")
    return str(read_value(value, where))


def read_digest(value: object, where: str, *, may_be_empty: bool = False) -> str:
    """A digest field: 64 lowercase hex digits, as every digest stepfold writes (`""` where `may_be_empty`)."""
    text = read_text(value, where)
    if text == "" and may_be_empty:
        return text
    if len(text) != 64 or text.strip("0123456789abcdef"):
        raise InvalidDocumentError(f"{where}: expected 64 lowercase hex digits, got {brief_repr(text)}")
    return text
