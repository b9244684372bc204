"""AES-256-GCM for secrets at rest, bound to their owner.

Stored form: ``gcm1.<key id>.<base64url(nonce | ciphertext+tag)>``. The associated
data names the purpose and the user id, so a ciphertext copied to another user's
row (or another column) fails to decrypt: tampering and row swaps fail closed.
"""

from __future__ import annotations

import base64
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from fuzzydice.keys import ServerKey

SCHEME = "gcm1"
NONCE_BYTES = 12


class SecretBoxError(Exception):
    """A stored secret could not be opened (tampered, another owner, or another key)."""


def _aad(purpose: str, user_id: int) -> bytes:
    return f"fuzzydice:{purpose}:user:{user_id}".encode()


def seal(key: ServerKey, plaintext: bytes, *, purpose: str, user_id: int) -> str:
    """Encrypt `plaintext` for `user_id` under a fresh random nonce."""
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(key.material).encrypt(nonce, plaintext, _aad(purpose, user_id))
    return f"{SCHEME}.{key.key_id}.{base64.urlsafe_b64encode(nonce + sealed).decode().rstrip('=')}"


def open_sealed(key: ServerKey, stored: str, *, purpose: str, user_id: int) -> bytes:
    """Decrypt what `seal` made for the same purpose and user.

    Raises:
        SecretBoxError: the text is malformed, was made with another key, or was altered or moved.
    """
    try:
        scheme, key_id, body = stored.split(".", 2)
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except (ValueError, AttributeError) as exc:
        raise SecretBoxError("malformed sealed secret") from exc
    if scheme != SCHEME or key_id != key.key_id or len(raw) <= NONCE_BYTES:
        raise SecretBoxError("sealed with another scheme or key")
    try:
        return AESGCM(key.material).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], _aad(purpose, user_id))
    except InvalidTag as exc:
        raise SecretBoxError("sealed secret failed authentication") from exc
