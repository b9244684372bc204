"""AES-256-GCM sealing of secrets at rest: bound to purpose and user, failing closed."""

from __future__ import annotations

import base64
import os

import pytest

from fuzzydice.keys import ServerKey
from fuzzydice.mfa.secret_box import NONCE_BYTES, SCHEME, SecretBoxError, open_sealed, seal

PLAINTEXT = b"JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
PURPOSE = "totp-secret"


@pytest.fixture
def key() -> ServerKey:
    return ServerKey("aes_key", os.urandom(32))


def parts(stored: str) -> tuple[str, str, bytes]:
    scheme, key_id, body = stored.split(".", 2)
    return scheme, key_id, base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))


def build(scheme: str, key_id: str, raw: bytes) -> str:
    return f"{scheme}.{key_id}.{base64.urlsafe_b64encode(raw).decode().rstrip('=')}"


def test_round_trip(key: ServerKey) -> None:
    stored = seal(key, PLAINTEXT, purpose=PURPOSE, user_id=7)
    assert open_sealed(key, stored, purpose=PURPOSE, user_id=7) == PLAINTEXT


def test_empty_plaintext_round_trips(key: ServerKey) -> None:
    assert open_sealed(key, seal(key, b"", purpose=PURPOSE, user_id=1), purpose=PURPOSE, user_id=1) == b""


def test_stored_form_names_scheme_and_key_and_hides_the_plaintext(key: ServerKey) -> None:
    stored = seal(key, PLAINTEXT, purpose=PURPOSE, user_id=7)
    scheme, key_id, raw = parts(stored)
    assert scheme == SCHEME == "gcm1"
    assert key_id == key.key_id
    assert len(raw) == NONCE_BYTES + len(PLAINTEXT) + 16  # nonce, ciphertext, 128-bit GCM tag
    assert PLAINTEXT not in raw and PLAINTEXT.decode() not in stored
    assert key.material not in raw


def test_nonce_is_random(key: ServerKey) -> None:
    first = seal(key, PLAINTEXT, purpose=PURPOSE, user_id=7)
    second = seal(key, PLAINTEXT, purpose=PURPOSE, user_id=7)
    assert first != second
    assert parts(first)[2][:NONCE_BYTES] != parts(second)[2][:NONCE_BYTES]
    nonces = {parts(seal(key, PLAINTEXT, purpose=PURPOSE, user_id=7))[2][:NONCE_BYTES] for _ in range(100)}
    assert len(nonces) == 100


@pytest.mark.parametrize("position", [0, NONCE_BYTES - 1, NONCE_BYTES, NONCE_BYTES + 5, -16, -1], ids=lambda p: f"byte{p}")
def test_a_flipped_byte_fails_closed(key: ServerKey, position: int) -> None:
    scheme, key_id, raw = parts(seal(key, PLAINTEXT, purpose=PURPOSE, user_id=7))
    tampered = bytearray(raw)
    tampered[position] ^= 0x01
    with pytest.raises(SecretBoxError):
        open_sealed(key, build(scheme, key_id, bytes(tampered)), purpose=PURPOSE, user_id=7)


def test_a_truncated_body_fails_closed(key: ServerKey) -> None:
    scheme, key_id, raw = parts(seal(key, PLAINTEXT, purpose=PURPOSE, user_id=7))
    for cut in (1, 16, len(raw) - NONCE_BYTES):
        with pytest.raises(SecretBoxError):
            open_sealed(key, build(scheme, key_id, raw[:-cut]), purpose=PURPOSE, user_id=7)


def test_row_swap_to_another_user_fails(key: ServerKey) -> None:
    stored = seal(key, PLAINTEXT, purpose=PURPOSE, user_id=1)
    with pytest.raises(SecretBoxError):
        open_sealed(key, stored, purpose=PURPOSE, user_id=2)
    # The user id is not a prefix match: 1 and 11 are different owners.
    with pytest.raises(SecretBoxError):
        open_sealed(key, stored, purpose=PURPOSE, user_id=11)


def test_another_purpose_fails(key: ServerKey) -> None:
    stored = seal(key, PLAINTEXT, purpose=PURPOSE, user_id=1)
    with pytest.raises(SecretBoxError):
        open_sealed(key, stored, purpose="backup-codes-to-show", user_id=1)


def test_another_key_fails(key: ServerKey) -> None:
    other = ServerKey("aes_key", os.urandom(32))
    stored = seal(key, PLAINTEXT, purpose=PURPOSE, user_id=1)
    with pytest.raises(SecretBoxError):
        open_sealed(other, stored, purpose=PURPOSE, user_id=1)


def test_another_key_fails_even_with_its_key_id_written_in(key: ServerKey) -> None:
    other = ServerKey("aes_key", os.urandom(32))
    scheme, _, raw = parts(seal(key, PLAINTEXT, purpose=PURPOSE, user_id=1))
    with pytest.raises(SecretBoxError):
        open_sealed(other, build(scheme, other.key_id, raw), purpose=PURPOSE, user_id=1)


def test_another_scheme_is_refused(key: ServerKey) -> None:
    _, key_id, raw = parts(seal(key, PLAINTEXT, purpose=PURPOSE, user_id=1))
    with pytest.raises(SecretBoxError):
        open_sealed(key, build("gcm2", key_id, raw), purpose=PURPOSE, user_id=1)


@pytest.mark.parametrize(
    "stored",
    [
        "",
        "gcm1",
        "gcm1.",
        "gcm1.{kid}",
        "gcm1.{kid}.",
        "gcm1.{kid}.AAAA",  # shorter than a nonce
        "gcm1.{kid}.AAAAA",  # impossible base64 length
        "gcm1.{kid}.!!!!!!!!",
        "gcm1.{kid}.é",
        "gcm1.{kid}." + "A" * 40,  # nonce and a body too short for a tag
        "gcm1.{kid}." + "A" * 80,  # well-formed, wrong bytes
        "plain text secret",
        None,
    ],
)
def test_malformed_text_raises_secret_box_error_only(key: ServerKey, stored: str | None) -> None:
    text = stored.replace("{kid}", key.key_id) if stored is not None else None
    with pytest.raises(SecretBoxError):
        open_sealed(key, text, purpose=PURPOSE, user_id=1)  # type: ignore[arg-type]
