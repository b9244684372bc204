"""TOTP (RFC 6238) mechanism: secrets, provisioning URIs, codes and matching within the window."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import datetime

import pyotp

from fuzzydice.settings import Settings

SECRET_BYTES = 20  # 160 bits
ISSUER = "Fuzzy Dice"
_DIGESTS = {"SHA1": hashlib.sha1, "SHA256": hashlib.sha256, "SHA512": hashlib.sha512}


def new_secret() -> str:
    """A fresh 160-bit secret in base32 (what authenticator apps take)."""
    return base64.b32encode(secrets.token_bytes(SECRET_BYTES)).decode().rstrip("=")


def group_for_reading(secret: str) -> str:
    """The secret in groups of four, for typing it by hand."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def _otp(secret: str, settings: Settings) -> pyotp.TOTP:
    return pyotp.TOTP(
        secret,
        digits=settings.totp_digits,
        digest=_DIGESTS[settings.totp_algorithm],
        interval=settings.totp_period,
        issuer=ISSUER,
    )


def provisioning_uri(secret: str, account_name: str, settings: Settings) -> str:
    """The `otpauth://` URI an authenticator app scans."""
    return _otp(secret, settings).provisioning_uri(name=account_name, issuer_name=ISSUER)


def time_step(moment: datetime, settings: Settings) -> int:
    """The RFC 6238 time step of `moment` (T0 = 0)."""
    return int(moment.timestamp()) // settings.totp_period


def code_at_step(secret: str, step: int, settings: Settings) -> str:
    """The code for one time step."""
    return _otp(secret, settings).generate_otp(step)


def matching_step(secret: str, code: str, moment: datetime, settings: Settings) -> int | None:
    """The step within ±window of `moment` whose code is `code`, or None.

    All candidate steps are compared in constant time; the latest match wins.
    """
    code = "".join((code or "").split()).replace("-", "")  # pasted as apps show it: "123 456", "123-456"
    # isdigit() alone lets Unicode digits through, and compare_digest raises on non-ASCII text.
    if len(code) != settings.totp_digits or not (code.isascii() and code.isdigit()):
        return None
    now = time_step(moment, settings)
    window = max(0, min(settings.totp_window, 1))
    found = None
    for step in range(now - window, now + window + 1):
        if hmac.compare_digest(code_at_step(secret, step, settings), code):
            found = step
    return found
