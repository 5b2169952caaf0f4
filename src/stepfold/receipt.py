"""The hash-chained receipt: a genesis bound to the workflow, the initial state and the policy, then one link per executed step.

Normative encodings (see docs/receipt-format.md): step digest = SHA-256 of
JCS `{"id", "kind", "payload"}` of the step as defined; input digest =
SHA-256 of JCS of the input, `""` for a step that took none; genesis
(format 2, current) = SHA-256 of JCS `["stepfold/receipt/2",
workflow_digest, initial_state_digest, policy_digest]`, or for format 1
(read, never written) `["stepfold/receipt/1", workflow_digest,
initial_state_digest]`; link = SHA-256 of JCS `[previous, step_digest,
input_digest, state_digest, status]`.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Iterable

import attrs
from pyrsistent import PVector, pvector

from stepfold.canonical import sha256_json
from stepfold.collector import untrack_record

__all__ = [
    "RECEIPT_FORMAT",
    "RECEIPT_FORMAT_1",
    "Receipt",
    "ReceiptLink",
    "input_digest",
    "genesis_hash",
    "link_hash",
]

RECEIPT_FORMAT = "stepfold/receipt/2"
"""The format tag of the receipts stepfold writes: the genesis binds the policy."""

RECEIPT_FORMAT_1 = "stepfold/receipt/1"
"""The format tag of stepfold 0.1's receipts (no policy bound); such documents still verify."""


def input_digest(value: object, *, given: bool) -> str:
    """The receipt's input digest: SHA-256 of JCS of the input, or `""` when the step took none."""
    return sha256_json(value) if given else ""


_PLAIN = re.compile(r"[ !#-\[\]-~]*\Z")  # printable ASCII but `"` and `\`: JCS writes such a string as it is


def _plain_sha256(*parts: str) -> str | None:
    """SHA-256 of JCS of an array of strings none of which needs escaping (digests, tags, statuses), or None."""
    if not _PLAIN.match("".join(parts)):
        return None
    return hashlib.sha256(('["' + '","'.join(parts) + '"]').encode("ascii")).hexdigest()


def genesis_hash(workflow_digest: str, initial_state_digest: str, policy_digest: str | None = None) -> str:
    """SHA-256 of JCS `["stepfold/receipt/2", workflow_digest, initial_state_digest, policy_digest]`.

    With `policy_digest=None`, the format-1 genesis `["stepfold/receipt/1", workflow_digest, initial_state_digest]`.
    """
    if policy_digest is None:
        parts = [RECEIPT_FORMAT_1, workflow_digest, initial_state_digest]
    else:
        parts = [RECEIPT_FORMAT, workflow_digest, initial_state_digest, policy_digest]
    return _plain_sha256(*parts) or sha256_json(parts)


def link_hash(previous: str, step_digest: str, input_digest: str, state_digest: str, status: str) -> str:
    """SHA-256 of JCS `[previous, step_digest, input_digest, state_digest, status]`."""
    fast = _plain_sha256(previous, step_digest, input_digest, state_digest, status)
    return fast if fast is not None else sha256_json([previous, step_digest, input_digest, state_digest, status])


@attrs.frozen
class ReceiptLink:
    """One executed step's link: what was hashed and the resulting `hash`."""

    step_id: str
    step_digest: str
    input_digest: str
    state_digest: str
    status: str
    hash: str

    def __attrs_post_init__(self) -> None:
        untrack_record(self, ReceiptLink)  # strings only: nothing for the collector to walk (stepfold.collector)

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
    """A hash chain over a run: `genesis`, then `links`; `head` is the last link (or the genesis).

    `policy_digest` is the SHA-256 of the JCS of the policy the run was made
    under (format 2); None for a format-1 receipt, which binds no policy.
    """

    id: str
    workflow_digest: str
    initial_state_digest: str
    links: PVector[ReceiptLink] = attrs.field(factory=pvector, converter=_links)
    policy_digest: str | None = attrs.field(default=None, kw_only=True)
    """(A result untracks its receipt and these links once, not each receipt a fold makes on the way.)"""

    @functools.cached_property
    def genesis(self) -> str:
        """The chain's first hash, binding the workflow, the initial state and (format 2) the policy."""
        return genesis_hash(self.workflow_digest, self.initial_state_digest, self.policy_digest)

    @property
    def format(self) -> str:
        """`"stepfold/receipt/2"`, or `"stepfold/receipt/1"` for a receipt that binds no policy."""
        return RECEIPT_FORMAT_1 if self.policy_digest is None else RECEIPT_FORMAT

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
            step_id,
            step_digest,
            input_digest,
            state_digest,
            status,
            link_hash(self.head, step_digest, input_digest, state_digest, status),
        )
        return Receipt(
            self.id,
            self.workflow_digest,
            self.initial_state_digest,
            self.links.append(link),
            policy_digest=self.policy_digest,
        )

    def truncated(self, count: int) -> Receipt:
        """The receipt of the first `count` links only (a run forked before its step `count`)."""
        return attrs.evolve(self, links=self.links[:count])

    def to_dict(self) -> dict[str, object]:
        """Plain JSON data with sorted keys, `head` and `steps` included (`format` and `policy_digest` for format 2)."""
        document: dict[str, object] = {
            "genesis": self.genesis,
            "head": self.head,
            "id": self.id,
            "initial_state_digest": self.initial_state_digest,
            "links": [link.to_dict() for link in self.links],
            "steps": list(self.steps),
            "workflow_digest": self.workflow_digest,
        }
        if self.policy_digest is not None:
            document["format"] = RECEIPT_FORMAT
            document["policy_digest"] = self.policy_digest
        return dict(sorted(document.items()))
