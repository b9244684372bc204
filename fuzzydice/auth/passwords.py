"""Password rules and hashing.

Hashing is bcrypt over an HMAC-SHA-384 pre-hash keyed with the server pepper:
the pre-hash is 64 base64 characters, so any password length works with no
72-byte error and no truncation, and a stolen database alone cannot be cracked.
Stored form: ``fd1$<pepper key id>$<bcrypt hash>``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import unicodedata
from dataclasses import dataclass

import bcrypt
from zxcvbn import zxcvbn

from fuzzydice.keys import ServerKey
from fuzzydice.settings import Settings

HASH_SCHEME = "fd1"


@dataclass(frozen=True)
class PasswordProblem:
    """Why a new password is refused, in plain words."""

    message: str


def normalize_password(password: str) -> str:
    """NFC-normalize so the same text typed on two keyboards hashes the same."""
    return unicodedata.normalize("NFC", password)


def check_new_password(password: str, settings: Settings, context: tuple[str, ...] = ()) -> PasswordProblem | None:
    """Return why `password` may not be used, or None when it is fine.

    Args:
        password: The candidate, as typed.
        settings: Length bounds, minimum score and estimator cap.
        context: Words the password must not lean on (name, email, product name).
    """
    length = len(normalize_password(password))
    if length < settings.password_min_length:
        return PasswordProblem(f"Use at least {settings.password_min_length} characters.")
    if length > settings.password_max_length:
        return PasswordProblem(f"Use at most {settings.password_max_length} characters.")
    words = [word for word in context if word] + ["fuzzydice", "fuzzy", "dice"]
    cap = settings.password_estimator_cap
    # zxcvbn raises on input longer than its `max_length` (72 by default): pass the cap.
    result = zxcvbn(password[:cap], user_inputs=words, max_length=cap)
    if result["score"] >= settings.password_min_score:
        return None
    feedback = result.get("feedback") or {}
    reason = feedback.get("warning") or "This password is easy to guess."
    hints = " ".join(feedback.get("suggestions") or [])
    return PasswordProblem(f"{reason} {hints}".strip())


class PasswordHasher:
    """Hashes and checks passwords with the peppered bcrypt scheme."""

    def __init__(self, pepper: ServerKey, cost: int) -> None:
        self._pepper = pepper
        self._cost = cost
        self._dummy: str | None = None

    def _prehash(self, password: str) -> bytes:
        digest = hmac.new(self._pepper.material, normalize_password(password).encode("utf-8"), hashlib.sha384)
        return base64.b64encode(digest.digest())

    def hash(self, password: str) -> str:
        """Return the stored form of `password`."""
        hashed = bcrypt.hashpw(self._prehash(password), bcrypt.gensalt(self._cost)).decode("ascii")
        return f"{HASH_SCHEME}${self._pepper.key_id}${hashed}"

    def verify(self, password: str, stored: str | None) -> bool:
        """Check `password` against `stored`; with no stored hash, do the same work and fail.

        Unknown users are checked against a dummy hash so that the answer takes as
        long as for a real account.
        """
        if stored is None:
            self._check(password, self.dummy_hash())
            return False
        return self._check(password, stored)

    def _check(self, password: str, stored: str) -> bool:
        try:
            scheme, key_id, hashed = stored.split("$", 2)
        except ValueError:
            return False
        if scheme != HASH_SCHEME or key_id != self._pepper.key_id:
            # A hash made under another pepper cannot be checked with this one.
            bcrypt.checkpw(self._prehash(password), self.dummy_hash().split("$", 2)[2].encode())
            return False
        try:
            return bcrypt.checkpw(self._prehash(password), hashed.encode("ascii"))
        except ValueError:  # a corrupt stored hash fails closed, not with an error
            return False

    def dummy_hash(self) -> str:
        """A valid hash of a random password, made once, for the unknown-user path."""
        if self._dummy is None:
            self._dummy = self.hash(secrets.token_urlsafe(24))
        return self._dummy
