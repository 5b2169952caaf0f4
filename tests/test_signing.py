"""Signatures over a run's head (`stepfold.signing`): Ed25519 keys, never overwritten; a signature binds key and head.

The signed message is normative (JCS `["stepfold/signature/1", head]`), so
these tests check signatures with `cryptography` directly as well as with
`signature_valid`.
"""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from hypothesis import given
from hypothesis import strategies as st

from stepfold.signing import (
    ALGORITHM,
    SIGNATURE_TAG,
    Signature,
    SigningError,
    generate_key,
    load_private_key,
    load_public_key,
    public_key_hex,
    sign_head,
    signature_valid,
)
from stepfold.store import SQLiteStore
from tests.test_verification import decided

heads = st.text("0123456789abcdef", min_size=64, max_size=64)


def _make_keys() -> tuple[Ed25519PrivateKey, Ed25519PublicKey]:
    private = Ed25519PrivateKey.generate()
    return private, private.public_key()


_KEYS = _make_keys()
_OTHER_KEYS = _make_keys()


def _keys(folder: Path, name: str = "key") -> tuple[Ed25519PrivateKey, Ed25519PublicKey]:
    private, public = generate_key(folder / name)
    return (
        load_private_key(private.read_bytes(), str(private)),
        load_public_key(public.read_bytes(), str(public)),
    )


def test_generate_key_writes_an_owner_only_private_key_and_its_public_key(tmp_path: Path) -> None:
    private, public = generate_key(tmp_path / "signer")
    assert (private, public) == (tmp_path / "signer", tmp_path / "signer.pub")
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    key = serialization.load_pem_private_key(private.read_bytes(), password=None)
    assert isinstance(key, Ed25519PrivateKey)
    loaded = serialization.load_pem_public_key(public.read_bytes())
    assert isinstance(loaded, Ed25519PublicKey)
    assert public_key_hex(loaded) == public_key_hex(key.public_key())
    assert len(bytes.fromhex(public_key_hex(loaded))) == 32


@pytest.mark.parametrize("existing", ["private", "public", "link"])
def test_generate_key_never_overwrites(tmp_path: Path, existing: str) -> None:
    target = tmp_path / "signer"
    clash = target if existing != "public" else tmp_path / "signer.pub"
    if existing == "link":
        clash.symlink_to(tmp_path / "nowhere")  # a dangling link is something too
    else:
        clash.write_bytes(b"precious")
    with pytest.raises(SigningError, match="already exists; a key is never overwritten"):
        generate_key(target)
    assert sorted(path.name for path in tmp_path.iterdir()) == [clash.name]
    if existing != "link":
        assert clash.read_bytes() == b"precious"


def test_two_keys_differ(tmp_path: Path) -> None:
    (_, first), (_, second) = _keys(tmp_path, "a"), _keys(tmp_path, "b")
    assert public_key_hex(first) != public_key_hex(second)


@given(head=heads, other=heads)
def test_a_signature_is_valid_for_its_key_and_head_only(head: str, other: str) -> None:
    private, public = _KEYS
    _, stranger = _OTHER_KEYS
    signature = sign_head(private, head)
    assert (signature.algorithm, signature.key) == (ALGORITHM, public_key_hex(public))
    assert len(bytes.fromhex(signature.signature)) == 64
    public.verify(bytes.fromhex(signature.signature), f'["{SIGNATURE_TAG}","{head}"]'.encode())  # the normative message
    assert signature_valid(public, head, [signature])
    assert not signature_valid(stranger, head, [signature])
    assert signature_valid(public, other, [signature]) is (other == head)
    assert not signature_valid(public, head, [])
    flipped = f"{int(signature.signature[0], 16) ^ 1:x}{signature.signature[1:]}"
    for damaged in (
        Signature(signature.key, flipped),
        Signature(signature.key, "zz" * 64),
        Signature(signature.key, signature.signature[:-2]),
        Signature(signature.key, signature.signature, "rsa"),
        Signature(public_key_hex(stranger), signature.signature),
    ):
        assert not signature_valid(public, head, [damaged])
        assert signature_valid(public, head, [damaged, signature])  # one valid signature among others is enough


def test_a_signature_round_trips_and_a_bad_one_is_named() -> None:
    signature = sign_head(_KEYS[0], "a" * 64)
    assert Signature.from_dict(signature.to_dict()) == signature
    assert set(signature.to_dict()) == {"algorithm", "key", "signature"}
    bad: object
    for bad in (None, [], {"key": "k"}, {**signature.to_dict(), "extra": 1}, {**signature.to_dict(), "key": 3}):
        with pytest.raises(SigningError, match="signature: expected"):
            Signature.from_dict(bad)


def test_keys_of_the_wrong_kind_are_refused(tmp_path: Path) -> None:
    private, public = generate_key(tmp_path / "signer")
    with pytest.raises(SigningError, match="not an unencrypted PEM private key"):
        load_private_key(public.read_bytes(), "signer.pub")
    with pytest.raises(SigningError, match="signer: not a PEM public key"):
        load_public_key(private.read_bytes(), "signer")
    with pytest.raises(SigningError, match="junk: not a PEM public key"):
        load_public_key(b"junk", "junk")


def test_the_store_keeps_signatures_beside_the_run(tmp_path: Path) -> None:
    result = decided(True)
    with SQLiteStore(tmp_path / "runs.db") as store:
        run_id = store.save(result)
        assert store.signatures(run_id) == []
        first, second = sign_head(_KEYS[0], run_id), sign_head(_OTHER_KEYS[0], run_id)
        store.add_signature(run_id[:8], first)
        store.add_signature(run_id, first)  # the same one twice is kept once
        store.add_signature(run_id, second)
        kept = store.signatures(run_id)
        assert sorted(kept, key=lambda s: s.key) == sorted([first, second], key=lambda s: s.key)
        assert signature_valid(_KEYS[1], run_id, kept) and signature_valid(_OTHER_KEYS[1], run_id, kept)
        assert store.load(run_id).to_dict() == result.to_dict()  # the record itself is untouched
    with SQLiteStore(tmp_path / "runs.db", readonly=True, create=False) as store:
        assert len(store.signatures(run_id)) == 2
