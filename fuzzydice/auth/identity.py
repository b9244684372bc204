"""Normalizing and checking what people type: names, emails, phone numbers.

Problems are codes with parameters; the UI words them (`fuzzydice.ui.messages.field_message`).
"""

from __future__ import annotations

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from fuzzydice.outcome import Problem

NAME_MAX = 200


def normalize_email(raw: str) -> str | None:
    """Return the canonical (lower-cased) form of an email address, or None if malformed."""
    try:
        result = validate_email((raw or "").strip(), check_deliverability=False)
    except EmailNotValidError:
        return None
    return result.normalized.lower()


def email_problem(raw: str) -> Problem | None:
    """Why the email address is unusable (`email_required`, `email_invalid` with the validator's `reason`), or None."""
    if not (raw or "").strip():
        return Problem("email_required")
    try:
        validate_email(raw.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        return Problem("email_invalid", {"reason": str(exc)})
    return None


def name_problem(raw: str) -> Problem | None:
    """Why the display name is unusable (`name_required`, `too_long` with `max`), or None."""
    name = (raw or "").strip()
    if not name:
        return Problem("name_required")
    if len(name) > NAME_MAX:
        return Problem("too_long", {"max": NAME_MAX})
    return None


def normalize_phone(raw: str) -> tuple[str | None, Problem | None]:
    """Return (E.164 number, problem). An empty input is fine: (None, None)."""
    text = (raw or "").strip()
    if not text:
        return None, None
    if not text.startswith("+"):
        return None, Problem("phone_not_international")
    try:
        number = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException:
        return None, Problem("phone_unparsable")
    if not phonenumbers.is_valid_number(number):
        return None, Problem("phone_invalid")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), None
