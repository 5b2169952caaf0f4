"""The hash-chained receipt: a genesis bound to the workflow and initial state, then one link per executed step.

Normative encodings (see docs/receipt-format.md): step digest = SHA-256 of
JCS `{"id", "kind", "payload"}` of the step as defined; input digest =
SHA-256 of JCS of the input, `""` for a step that took none; genesis =
SHA-256 of JCS `["stepfold/receipt/1", workflow_digest,
initial_state_digest]`; link = SHA-256 of JCS `[previous, step_digest,
input_digest, state_digest, status]`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import attrs
from pyrsistent import PVector, pvector

from stepfold.values import canonical_json

__all__ = [
    "RECEIPT_FORMAT",
    "Receipt",
    "ReceiptLink",
    "sha256_json",
    "input_digest",
    "genesis_hash",
    "link_hash",
]

RECEIPT_FORMAT = "stepfold/receipt/1"
"""The format tag hashed into every genesis."""


def sha256_json(value: object) -> str:
    """SHA-256 (hex) of the RFC 8785 encoding of a value."""
    return hashlib.sha256(canonical_json(value)).hexdigest()


def input_digest(value: object, *, given: bool) -> str:
    """The receipt's input digest: SHA-256 of JCS of the input, or `""` when the step took none."""
    return sha256_json(value) if given else ""


def genesis_hash(workflow_digest: str, initial_state_digest: str) -> str:
    """SHA-256 of JCS `["stepfold/receipt/1", workflow_digest, initial_state_digest]`."""
    return sha256_json([RECEIPT_FORMAT, workflow_digest, initial_state_digest])


def link_hash(previous: str, step_digest: str, input_digest: str, state_digest: str, status: str) -> str:
    """SHA-256 of JCS `[previous, step_digest, input_digest, state_digest, status]`."""
    return sha256_json([previous, step_digest, input_digest, state_digest, status])


@attrs.frozen
class ReceiptLink:
    """One executed step's link: what was hashed and the resulting `hash`."""

    step_id: str
    step_digest: str
    input_digest: str
    state_digest: str
    status: str
    hash: str

    def to_dict(self) -> dict[str, object]:
        """Plain JSON data with sorted keys."""
        return {
            "hash": self.hash,
            "input_digest": self.input_digest,
            "state_digest": self.state_digest,
            "status": self.status,
            "step_digest": self.step_digest,
            "step_id": self.step_id,
        }


def _links(value: Iterable[ReceiptLink]) -> PVector[ReceiptLink]:
    return value if isinstance(value, PVector) else pvector(value)


@attrs.frozen
class Receipt:
    """A hash chain over a run: `genesis`, then `links`; `head` is the last link (or the genesis)."""

    id: str
    workflow_digest: str
    initial_state_digest: str
    links: PVector[ReceiptLink] = attrs.field(factory=pvector, converter=_links)

    @property
    def genesis(self) -> str:
        """The chain's first hash, binding the workflow and the initial state."""
        return genesis_hash(self.workflow_digest, self.initial_state_digest)

    @property
    def head(self) -> str:
        """The last link's hash; the genesis when no step has run."""
        return self.links[-1].hash if self.links else self.genesis

    @property
    def steps(self) -> tuple[str, ...]:
        """The executed step ids, in order."""
        return tuple(link.step_id for link in self.links)

    def extend(self, step_id: str, step_digest: str, input_digest: str, state_digest: str, status: str) -> Receipt:
        """A receipt with one more link chained onto `head`; O(log n)."""
        link = ReceiptLink(
            step_id, step_digest, input_digest, state_digest, status,
            link_hash(self.head, step_digest, input_digest, state_digest, status),
        )
        return Receipt(self.id, self.workflow_digest, self.initial_state_digest, self.links.append(link))

    def to_dict(self) -> dict[str, object]:
        """Plain JSON data with sorted keys, `head` and `steps` included."""
        return {
            "genesis": self.genesis,
            "head": self.head,
            "id": self.id,
            "initial_state_digest": self.initial_state_digest,
            "links": [link.to_dict() for link in self.links],
            "steps": list(self.steps),
            "workflow_digest": self.workflow_digest,
        }
