"""Passwords, codes, secrets and tokens never reach a log line."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from fuzzydice.auth.tokens import new_token
from fuzzydice.log_redaction import REDACTED, install_redaction, redact


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("login bob password=hunter2", "hunter2"),
        ("login bob PASSWORD = hunter2 ok", "hunter2"),
        ('{"email": "bob@example.com", "password": "hunter2"}', "hunter2"),
        ("{'new_password': 'hunter2'}", "hunter2"),
        ("verify code=493021 for user 7", "493021"),
        ('{"code": "493021"}', "493021"),
        ("token=abc123def", "abc123def"),
        ("refresh_token: abc123def", "abc123def"),
        ("Cookie: fd_session=abc123def; fd_bind=xyz789uvw", "abc123def"),
        ("Cookie: fd_session=abc123def; fd_bind=xyz789uvw", "xyz789uvw"),
        ("cookie: __Host-fd_session=abc123def", "abc123def"),
        ("Authorization: Bearer eyJhbGciOi.eyJzdWIi.c2lnbmF0dXJl", "eyJhbGciOi"),
        ("sent Bearer abc.def-ghi", "abc.def-ghi"),
        ("GET /api/check?ticket=abc123def&x=1", "abc123def"),
        ("secret=s3cr3t, next=1", "s3cr3t"),
        ("nonce: 8f3a9c", "8f3a9c"),
    ],
)
def test_sensitive_values_are_redacted(text: str, secret: str) -> None:
    redacted = redact(text)
    assert secret not in redacted
    assert REDACTED in redacted


def test_long_random_tokens_are_redacted_anywhere() -> None:
    token = new_token()
    hex_token = "9f" * 20
    redacted = redact(f"claimed {token} for user 7 via {hex_token}")
    assert token not in redacted and hex_token not in redacted
    assert redacted.startswith("claimed ") and "for user 7 via" in redacted


@pytest.mark.parametrize(
    "text",
    [
        "user 42 signed in from 203.0.113.5",
        "GET /user/home 200",
        "password reset requested for bob@example.com",
        "the session expired after 3600 seconds",
        "barcode scanner and postcode lookup ready",
    ],
)
def test_ordinary_text_is_untouched(text: str) -> None:
    assert redact(text) == text


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """A handler on a third-party-looking logger, added after redaction was installed."""
    install_redaction()
    install_redaction()  # idempotent
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    logger = logging.getLogger("any.lib")
    logger.addHandler(handler)
    previous_level, logger.propagate = logger.level, False
    logger.setLevel(logging.DEBUG)
    yield stream
    logger.removeHandler(handler)
    logger.setLevel(previous_level)
    logger.propagate = True


def test_records_of_any_logger_are_redacted(captured: io.StringIO) -> None:
    logging.getLogger("any.lib").warning("login %s password=%s", "bob", "hunter2")
    line = captured.getvalue()
    assert "WARNING any.lib login bob password=[redacted]" in line
    assert "hunter2" not in line


def test_a_bad_format_string_does_not_break_logging(captured: io.StringIO) -> None:
    logging.getLogger("any.lib").error("broken %s %s password=%s", "only one")
    assert "broken" in captured.getvalue()


def test_exception_text_is_redacted(captured: io.StringIO) -> None:
    token = new_token()
    try:
        raise ValueError(f"could not claim token={token}")
    except ValueError:
        logging.getLogger("any.lib").exception("claim failed")
    output = captured.getvalue()
    assert "claim failed" in output and "ValueError" in output
    assert token not in output
