"""`StateDelta`: what one state changed relative to another, and its plain-JSON form `{"removed", "set"}`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import attrs
from pyrsistent import PMap, pmap

from stepfold.errors import InvalidValueError
from stepfold.frozen import thaw
from stepfold.messages import brief_repr
from stepfold.values import Value, freeze

__all__ = ["StateDelta"]


def _freeze_delta_set(value: object) -> PMap[str, Value]:
    frozen = freeze(value, path="delta.set")
    if not isinstance(frozen, PMap):
        raise InvalidValueError("delta.set: expected a mapping of keys to new values")
    return frozen


def _freeze_removed(value: object) -> tuple[str, ...]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise InvalidValueError("delta.removed: expected a list of keys")
    keys = tuple(value)
    seen: set[str] = set()
    for index, key in enumerate(keys):
        if not isinstance(key, str):
            raise InvalidValueError(f"delta.removed[{index}]: expected a string key, got {brief_repr(key)}")
        if key in seen:
            raise InvalidValueError(f"delta.removed[{index}]: key {brief_repr(key)} is listed twice")
        seen.add(key)
    return tuple(sorted(keys))


@attrs.frozen
class StateDelta:
    """What one state changed relative to another: entries written and keys removed."""

    set: PMap[str, Value] = attrs.field(factory=pmap, converter=_freeze_delta_set)
    removed: tuple[str, ...] = attrs.field(default=(), converter=_freeze_removed)

    def __attrs_post_init__(self) -> None:
        both = sorted(key for key in self.removed if key in self.set)
        if both:
            raise InvalidValueError(
                f"delta: key {brief_repr(both[0])} is both set and removed; a change does one or the other"
            )

    def __bool__(self) -> bool:
        return bool(self.set) or bool(self.removed)

    def to_dict(self) -> dict[str, object]:
        """Plain JSON data `{"removed": [keys, sorted], "set": {key: value}}`: how documents and stores record a change."""
        return {"removed": list(self.removed), "set": thaw(self.set)}

    @classmethod
    def from_dict(cls, document: object, where: str = "delta") -> StateDelta:
        """The delta a `to_dict()` document describes; `InvalidValueError` naming `where` otherwise."""
        if not isinstance(document, Mapping) or set(document) != {"removed", "set"}:
            shown = sorted(map(brief_repr, document)) if isinstance(document, Mapping) else type(document).__name__
            raise InvalidValueError(f'{where}: expected {{"removed": [...], "set": {{...}}}}, got {shown}')
        try:
            return cls(document["set"], document["removed"])
        except InvalidValueError as exc:  # every refusal of the constructor starts `delta`: named from `where`, once
            raise InvalidValueError(where + str(exc)[len("delta") :]) from None
