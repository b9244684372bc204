"""Password rules and hashing.

Hashing is bcrypt over an HMAC-SHA-384 pre-hash keyed with the server pepper:
the pre-hash is 64 base64 characters, so any password length works with no
72-byte error and no truncation, and a stolen database alone cannot be cracked.
Stored form: ``fd1$<pepper key id>$<bcrypt hash>``.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import os
import secrets
import threading
import unicodedata
from collections.abc import Iterator
from datetime import datetime, timedelta

import bcrypt
from zxcvbn import zxcvbn

from fuzzydice.keys import ServerKey
from fuzzydice.outcome import Code, Failure, Problem, fail
from fuzzydice.settings import Settings

HASH_SCHEME = "fd1"


def normalize_password(password: str) -> str:
    """NFC-normalize so the same text typed on two keyboards hashes the same."""
    return unicodedata.normalize("NFC", password)


def check_new_password(password: str, settings: Settings, context: tuple[str, ...] = ()) -> Problem | None:
    """Return why `password` may not be used (`too_short`, `too_long`, `password_weak`), or None when it is fine.

    Args:
        password: The candidate, as typed.
        settings: Length bounds, minimum score and estimator cap.
        context: Words the password must not lean on (name, email, product name).
    """
    length = len(normalize_password(password))
    if length < settings.password_min_length:
        return Problem("too_short", {"min": settings.password_min_length})
    if length > settings.password_max_length:
        return Problem("too_long", {"max": settings.password_max_length})
    words = [word for word in context if word] + ["fuzzydice", "fuzzy", "dice"]
    cap = settings.password_estimator_cap
    # zxcvbn raises on input longer than its `max_length` (72 by default): pass the cap.
    result = zxcvbn(password[:cap], user_inputs=words, max_length=cap)
    if result["score"] >= settings.password_min_score:
        return None
    feedback = result.get("feedback") or {}
    # zxcvbn's own feedback, as data: the UI puts it into words.
    return Problem(
        "password_weak",
        {"warning": feedback.get("warning") or "", "suggestions": " ".join(feedback.get("suggestions") or [])},
    )


def hashing_busy(settings: Settings, now: datetime) -> Failure:
    """The answer when every hashing slot stayed taken: `busy`, worth retrying after `hash_wait`."""
    return fail(Code.BUSY, retry_at=now + max(settings.hash_wait, timedelta(seconds=1)))


class HashingBusy(Exception):
    """Every hashing slot stayed taken for the whole bounded wait: answer "busy", do not queue."""


class PasswordHasher:
    """Hashes and checks passwords with the peppered bcrypt scheme, a bounded number at once.

    At most `concurrency` bcrypt operations run at once in the process (more would only
    queue for the same cores); a caller waits at most `wait` seconds for a slot and then
    gets `HashingBusy`. A flow that must do work under the slot before hashing (reserve an
    attempt) takes it with `slot()`; hashing inside it does not take a second one.
    """

    def __init__(self, pepper: ServerKey, cost: int, *, concurrency: int | None = None, wait: float = 3.0) -> None:
        self._pepper = pepper
        self._cost = cost
        self._dummy: str | None = None
        self._slots = threading.BoundedSemaphore(concurrency or os.cpu_count() or 1)
        self._wait = wait
        self._held = threading.local()

    @contextlib.contextmanager
    def slot(self) -> Iterator[None]:
        """Hold one hashing slot (re-entrant within a thread).

        Raises:
            HashingBusy: no slot came free within the bounded wait.
        """
        depth = getattr(self._held, "depth", 0)
        if depth == 0 and not self._slots.acquire(timeout=self._wait):
            raise HashingBusy
        self._held.depth = depth + 1
        try:
            yield
        finally:
            self._held.depth = depth
            if depth == 0:
                self._slots.release()

    def _prehash(self, password: str) -> bytes:
        digest = hmac.new(self._pepper.material, normalize_password(password).encode("utf-8"), hashlib.sha384)
        return base64.b64encode(digest.digest())

    def hash(self, password: str) -> str:
        """Return the stored form of `password`."""
        with self.slot():
            hashed = bcrypt.hashpw(self._prehash(password), bcrypt.gensalt(self._cost)).decode("ascii")
        return f"{HASH_SCHEME}${self._pepper.key_id}${hashed}"

    def verify(self, password: str, stored: str | None) -> bool:
        """Check `password` against `stored`; with no stored hash, do the same work and fail.

        Unknown users are checked against a dummy hash so that the answer takes as
        long as for a real account.

        Raises:
            HashingBusy: no hashing slot came free within the bounded wait.
        """
        with self.slot():
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
