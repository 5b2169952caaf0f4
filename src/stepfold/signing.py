"""Signatures over a run's head (the optional `signing` extra, with `cryptography`): Ed25519 keys, sign, check.

A receipt's head commits to everything a run did, so signing the head signs
the run. The signed message is JCS `["stepfold/signature/1", head]`; a
signature is recorded as `{"algorithm": "ed25519", "key": <the 32-byte
public key, hex>, "signature": <64 bytes, hex>}`. Anyone with the public
key can check it with any Ed25519 library.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import attrs

from stepfold.canonical import canonical_json
from stepfold.errors import StepfoldError
from stepfold.messages import brief_repr

if TYPE_CHECKING:  # pragma: no cover
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

__all__ = [
    "Signature",
    "SigningError",
    "SIGNATURE_TAG",
    "ALGORITHM",
    "generate_key",
    "load_private_key",
    "load_public_key",
    "sign_head",
    "signature_valid",
    "public_key_hex",
]

SIGNATURE_TAG = "stepfold/signature/1"
"""The tag signed with the head: the message is JCS `["stepfold/signature/1", head]`."""

ALGORITHM = "ed25519"


class SigningError(StepfoldError):
    """A key that cannot be made, read or used; the message names the file and what to do."""


def _crypto() -> None:
    try:
        import cryptography  # noqa: F401
    except ModuleNotFoundError:
        raise SigningError("signatures need the `signing` extra: pip install 'stepfold[signing]'") from None


@attrs.frozen
class Signature:
    """An Ed25519 signature over a run's head by the public key `key` (hex)."""

    key: str
    signature: str
    algorithm: str = ALGORITHM

    def to_dict(self) -> dict[str, object]:
        """`{"algorithm", "key", "signature"}`."""
        return {"algorithm": self.algorithm, "key": self.key, "signature": self.signature}

    @classmethod
    def from_dict(cls, document: object) -> Signature:
        """The signature a `to_dict()` document describes; `SigningError` naming what is wrong otherwise."""
        if not isinstance(document, Mapping) or set(document) != {"algorithm", "key", "signature"}:
            raise SigningError(f'signature: expected {{"algorithm", "key", "signature"}}, got {brief_repr(document)}')
        fields = {name: document[name] for name in ("algorithm", "key", "signature")}
        if not all(isinstance(value, str) for value in fields.values()):
            raise SigningError(f"signature: expected strings, got {brief_repr(document)}")
        return cls(str(fields["key"]), str(fields["signature"]), str(fields["algorithm"]))


def _message(head: str) -> bytes:
    return canonical_json([SIGNATURE_TAG, head])


def generate_key(path: str | Path) -> tuple[Path, Path]:
    """Write a new private key to `path` (PEM, readable by its owner only) and its public key to `path.pub`.

    Never overwrites: `SigningError` when either file exists.
    """
    _crypto()
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    private_path = Path(path)
    public_path = private_path.with_name(private_path.name + ".pub")
    for existing in (private_path, public_path):
        if existing.exists() or existing.is_symlink():
            raise SigningError(f"{existing}: already exists; a key is never overwritten (choose another path)")
    key = Ed25519PrivateKey.generate()
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    try:
        descriptor = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as exc:
        raise SigningError(f"{private_path}: cannot create the key: {exc.strerror or exc}") from None
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(private_pem)
    try:
        descriptor = os.open(public_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except OSError as exc:
        raise SigningError(f"{public_path}: cannot create the public key: {exc.strerror or exc}") from None
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(public_pem)
    return private_path, public_path


def load_private_key(data: bytes, where: str) -> Ed25519PrivateKey:
    """An Ed25519 private key from PEM bytes; `SigningError` naming `where` otherwise."""
    _crypto()
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise SigningError(f"{where}: not an unencrypted PEM private key ({exc})") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningError(f"{where}: not an Ed25519 private key (make one with `stepfold keygen`)")
    return key


def load_public_key(data: bytes, where: str) -> Ed25519PublicKey:
    """An Ed25519 public key from PEM bytes; `SigningError` naming `where` otherwise."""
    _crypto()
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError) as exc:
        raise SigningError(f"{where}: not a PEM public key ({exc})") from None
    if not isinstance(key, Ed25519PublicKey):
        raise SigningError(f"{where}: not an Ed25519 public key (`stepfold keygen` writes one to KEY.pub)")
    return key


def public_key_hex(key: Ed25519PublicKey) -> str:
    """The raw 32-byte public key, hex: how a `Signature` names its key."""
    from cryptography.hazmat.primitives import serialization

    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()


def sign_head(key: Ed25519PrivateKey, head: str) -> Signature:
    """The signature of `key` over `head`."""
    return Signature(public_key_hex(key.public_key()), key.sign(_message(head)).hex())


def signature_valid(key: Ed25519PublicKey, head: str, signatures: Iterable[Signature]) -> bool:
    """True when one of `signatures` is a valid Ed25519 signature by `key` over `head`."""
    from cryptography.exceptions import InvalidSignature

    wanted = public_key_hex(key)
    for signature in signatures:
        if signature.algorithm != ALGORITHM or signature.key != wanted:
            continue
        try:
            key.verify(bytes.fromhex(signature.signature), _message(head))
        except (InvalidSignature, ValueError):
            continue
        return True
    return False
