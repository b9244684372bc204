"""Normalizing and checking what people type: names, emails, phone numbers."""

from __future__ import annotations

import phonenumbers
from email_validator import EmailNotValidError, validate_email

NAME_MAX = 200


def normalize_email(raw: str) -> str | None:
    """Return the canonical (lower-cased) form of an email address, or None if malformed."""
    try:
        result = validate_email((raw or "").strip(), check_deliverability=False)
    except EmailNotValidError:
        return None
    return result.normalized.lower()


def email_problem(raw: str) -> str | None:
    """A plain-words reason the email address is malformed, or None."""
    if not (raw or "").strip():
        return "Enter your email address."
    try:
        validate_email(raw.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        return f"Enter a valid email address ({exc})."
    return None


def name_problem(raw: str) -> str | None:
    """A reason the display name is unusable, or None."""
    name = (raw or "").strip()
    if not name:
        return "Enter your name."
    if len(name) > NAME_MAX:
        return f"Use at most {NAME_MAX} characters."
    return None


def normalize_phone(raw: str) -> tuple[str | None, str | None]:
    """Return (E.164 number, problem). An empty input is fine: (None, None)."""
    text = (raw or "").strip()
    if not text:
        return None, None
    if not text.startswith("+"):
        return None, "Enter the number in international format, starting with + and the country code."
    try:
        number = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException:
        return None, "That does not look like a phone number."
    if not phonenumbers.is_valid_number(number):
        return None, "That phone number is not valid for its country."
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), None
