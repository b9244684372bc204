"""Backup codes mechanism: generation (80 bits each), display format, normalization, keyed hashing."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from fuzzydice.keys import ServerKey

CODE_CHARS = 16  # base32: 80 bits
_ALPHABET = set("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
# People misread these; base32 has no 0, 1 or 8, so map them to what was meant.
_CONFUSABLES = str.maketrans({"0": "O", "1": "I", "8": "B"})


def new_codes(count: int) -> list[str]:
    """`count` fresh codes, each 16 base32 characters (80 bits)."""
    return [base64.b32encode(secrets.token_bytes(10)).decode() for _ in range(count)]


def display(code: str) -> str:
    """`XXXX-XXXX-XXXX-XXXX`."""
    return "-".join(code[i : i + 4] for i in range(0, CODE_CHARS, 4))


def normalize(typed: str) -> str | None:
    """The canonical code from what a person typed (case, spaces, dashes ignored), or None."""
    code = "".join((typed or "").split()).replace("-", "").upper().translate(_CONFUSABLES)
    if len(code) != CODE_CHARS or not set(code) <= _ALPHABET:
        return None
    return code


def code_hash(key: ServerKey, code: str) -> str:
    """Keyed hash stored in place of a code: `<key id>:<hmac-sha256 hex>`."""
    return f"{key.key_id}:{hmac.new(key.material, code.encode(), hashlib.sha256).hexdigest()}"


def download_text(codes: list[str]) -> str:
    """The contents of `fuzzydice-backup-codes.txt`."""
    lines = [
        "Fuzzy Dice backup codes",
        "Each code works once. Keep them somewhere safe, away from your phone.",
        "",
        *(display(code) for code in codes),
        "",
    ]
    return "\n".join(lines)
