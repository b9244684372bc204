"""Server keys: the pepper, the AES key and the signing key.

Demo mode generates them into a git-ignored file on first run. Production
refuses to start without them, and every mode refuses a key whose fingerprint
differs from the one recorded in the database (a wrong key would make every
password and second factor fail, silently).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from sqlmodel import Session, select

from fuzzydice.clock import Clock
from fuzzydice.models import KeyFingerprint
from fuzzydice.settings import Settings

KEY_NAMES = ("pepper", "aes_key", "signing_key")
KEY_BYTES = 32


class ServerKeyError(Exception):
    """Base for key problems that stop the app from starting."""


class MissingSecretsError(ServerKeyError):
    """Production mode without its secrets."""


class KeyMismatchError(ServerKeyError):
    """A key differs from the one the database was set up with."""


@dataclass(frozen=True)
class ServerKey:
    """One secret key with a short public id (stored next to what it protects)."""

    name: str
    material: bytes

    @property
    def key_id(self) -> str:
        """Eight hex characters that name this key without revealing it."""
        return hashlib.sha256(b"fuzzydice-key-id:" + self.material).hexdigest()[:8]

    @property
    def fingerprint(self) -> str:
        """A keyed digest recorded in the database to detect a changed key."""
        return hmac.new(self.material, b"fuzzydice-fingerprint", hashlib.sha256).hexdigest()

    def __repr__(self) -> str:  # never show the material
        return f"ServerKey({self.name!r}, id={self.key_id})"


@dataclass(frozen=True)
class ServerKeys:
    """The three server keys."""

    pepper: ServerKey
    aes_key: ServerKey
    signing_key: ServerKey

    def all(self) -> tuple[ServerKey, ...]:
        """Return every key."""
        return (self.pepper, self.aes_key, self.signing_key)


def _decode(name: str, text: str) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(text.strip() + "=" * (-len(text.strip()) % 4))
    except (ValueError, TypeError) as exc:
        raise ServerKeyError(f"FUZZYDICE_{name.upper()} is not base64url") from exc
    if len(raw) != KEY_BYTES:
        raise ServerKeyError(f"FUZZYDICE_{name.upper()} must decode to {KEY_BYTES} bytes")
    return raw


def generate_key_text() -> str:
    """A new random key as base64url text (32 bytes)."""
    return base64.urlsafe_b64encode(secrets.token_bytes(KEY_BYTES)).decode().rstrip("=")


def _demo_secrets(path: Path) -> dict[str, str]:
    """Read the demo secrets file, adding (never replacing) any key it lacks; owner-only permissions."""
    data: dict[str, str] = {}
    if path.exists():
        try:
            data = json.loads(path.read_text())
        except ValueError as exc:
            raise ServerKeyError(f"{path} is not valid JSON: repair it or restore it from a backup") from exc
        if not isinstance(data, dict):
            raise ServerKeyError(f"{path} must hold a JSON object of keys")
    missing = [name for name in KEY_NAMES if name not in data]
    if missing:
        data.update({name: generate_key_text() for name in missing})
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(data, handle)
    os.chmod(path, 0o600)
    return data


def load_keys(settings: Settings) -> ServerKeys:
    """Return the server keys from settings, or (demo mode only) from the generated file.

    Raises:
        MissingSecretsError: production mode and a key is not set.
    """
    given = {name: getattr(settings, name) for name in KEY_NAMES}
    missing = [name for name, value in given.items() if value is None]
    if missing:
        if not settings.is_demo:
            names = ", ".join(f"FUZZYDICE_{name.upper()}" for name in missing)
            raise MissingSecretsError(
                f"Production mode needs its secrets: set {names} "
                "(each 32 random bytes, base64url; `python -m fuzzydice.keys` prints new ones)."
            )
        stored = _demo_secrets(settings.secrets_file)
        texts = {name: (given[name].get_secret_value() if given[name] else stored[name]) for name in KEY_NAMES}
    else:
        texts = {name: value.get_secret_value() for name, value in given.items()}
    return ServerKeys(**{name: ServerKey(name, _decode(name, texts[name])) for name in KEY_NAMES})


def verify_fingerprints(session: Session, keys: ServerKeys, clock: Clock) -> None:
    """Record each key's fingerprint on first use; refuse a key that differs later.

    Raises:
        KeyMismatchError: a key is not the one this database was set up with.
    """
    for key in keys.all():
        row = session.exec(select(KeyFingerprint).where(KeyFingerprint.name == key.name)).first()
        if row is None:
            session.add(
                KeyFingerprint(name=key.name, key_id=key.key_id, fingerprint=key.fingerprint, recorded_at=clock.now())
            )
        elif not hmac.compare_digest(row.fingerprint, key.fingerprint):
            raise KeyMismatchError(
                f"The {key.name} (id {key.key_id}) is not the one this database was set up with "
                f"(id {row.key_id}). Restore the original key; rotation is an explicit admin step."
            )
    session.commit()


if __name__ == "__main__":  # pragma: no cover - operator helper
    for name in KEY_NAMES:
        print(f"FUZZYDICE_{name.upper()}={generate_key_text()}")
