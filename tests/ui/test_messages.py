"""Failure codes in words: every code has words, and the numbers come from the failure or settings."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from fuzzydice.outcome import Code, Failure, Problem, invalid
from fuzzydice.settings import Settings
from fuzzydice.ui.messages import field_messages, say
from tests.conftest import make_settings, sqlite_url

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=timezone.utc)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings of the test profile that no test here opens a database with: these tests run once, not per backend."""
    return make_settings(tmp_path, sqlite_url(tmp_path / "unused.db"))


def test_every_code_has_words(settings) -> None:
    for code in Code:
        assert say(Failure(code), settings), code


def test_a_wrong_code_counts_the_attempts_left() -> None:
    assert say(Failure(Code.WRONG_CODE, attempts_left=1)) == "That code is not right. 1 attempt left."
    assert "3 attempts left" in say(Failure(Code.WRONG_CODE, attempts_left=3))


def test_a_lock_says_plainly_when_it_lifts() -> None:
    failure = Failure(Code.LOCKED, attempts_left=0, retry_at=NOW + timedelta(minutes=14, seconds=30))
    words = say(failure, now=NOW)
    assert "locked" in words and "15 minutes" in words and "12:14 UTC" in words
    assert "not right" not in words  # a right code during a lock must not be called wrong


def test_the_last_wrong_code_says_it_locked(settings) -> None:
    words = say(Failure(Code.WRONG_CODE, attempts_left=0, retry_at=NOW + timedelta(minutes=15)), settings, now=NOW)
    assert words.startswith("That code is not right.") and "locked" in words


def test_a_lock_without_its_time_reads_the_length_from_settings(settings) -> None:
    assert f"{int(settings.second_factor_lock.total_seconds() // 60)} minutes" in say(Failure(Code.LOCKED), settings)


def test_field_problems_in_words() -> None:
    weak = Problem("password_weak", {"warning": "This is a top-10 common password.", "suggestions": "Add a word."})
    failure = invalid(email=Problem("email_invalid"), password=weak, name=Problem("too_long", {"max": 200}))
    assert field_messages(failure) == {
        "email": "Enter a valid email address.",
        "password": "This is a top-10 common password. Add a word.",
        "name": "Use at most 200 characters.",
    }
    assert failure.as_dict()["fields"]["name"] == {"code": "too_long", "max": 200}
    assert field_messages(invalid(password=Problem("password_weak", {"warning": "", "suggestions": ""}))) == {
        "password": "This password is easy to guess."
    }


def test_policy_numbers_in_page_text_come_from_settings(settings) -> None:
    from fuzzydice.ui.messages import password_hint, remember_label

    assert password_hint(settings.model_copy(update={"password_min_length": 12})).startswith("12 to 256 characters")
    assert remember_label(settings.model_copy(update={"remember_absolute": timedelta(days=14)})) == "Remember me for 14 days"
