"""The demo outbox as the `Notifier` of demo mode: real rows in a real (migrated) SQLite database."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

from fuzzydice.clock import FixedClock
from fuzzydice.db import make_engine
from fuzzydice.notify import NoNotifier, build_notifier
from fuzzydice.notify.outbox import MAIL, SMS, Outbox, recent_messages
from fuzzydice.outcome import Code, Failure, Ok
from fuzzydice.services import Services
from tests.conftest import make_settings, sqlite_url

CODE_TEXT = "Your Fuzzy Dice code is 493 817. It expires in 10 minutes."


def test_demo_services_send_through_the_outbox(services: Services) -> None:
    assert isinstance(services.notifier, Outbox)


def test_a_mail_is_stored_with_every_part(services: Services, clock: FixedClock) -> None:
    outcome = services.notifier.send_mail(
        "ada@example.com", "Confirm your email", CODE_TEXT, html="<p>Your code is <b>493 817</b></p>"
    )
    assert isinstance(outcome, Ok) and outcome.value
    [stored] = recent_messages(services.engine)
    assert str(stored.id) == outcome.value
    assert (stored.channel, stored.recipient, stored.subject) == (MAIL, "ada@example.com", "Confirm your email")
    assert stored.body_text == CODE_TEXT
    assert stored.body_html == "<p>Your code is <b>493 817</b></p>"
    assert stored.created_at == clock.now()


def test_an_sms_has_no_subject_and_no_html(services: Services) -> None:
    outcome = services.notifier.send_sms("+442079460958", CODE_TEXT)
    assert outcome.ok
    [stored] = recent_messages(services.engine)
    assert (stored.channel, stored.recipient, stored.subject, stored.body_html) == (SMS, "+442079460958", None, None)
    assert stored.body_text == CODE_TEXT


def test_messages_are_listed_newest_first_and_capped(services: Services, clock: FixedClock) -> None:
    for n in range(5):
        assert services.notifier.send_sms(f"+4420794609{n:02d}", f"message {n}").ok
        clock.advance(timedelta(seconds=1))
    assert [m.body_text for m in recent_messages(services.engine)] == [f"message {n}" for n in (4, 3, 2, 1, 0)]
    assert [m.body_text for m in recent_messages(services.engine, limit=2)] == ["message 4", "message 3"]


def test_a_long_unicode_body_is_kept_whole(services: Services) -> None:
    body = "Grüße, 你好 — " + "x" * 20_000
    assert services.notifier.send_mail("zoë@example.com", "Hallo ✓", body).ok
    [stored] = recent_messages(services.engine)
    assert (stored.recipient, stored.subject, stored.body_text) == ("zoë@example.com", "Hallo ✓", body)


def test_a_database_failure_is_send_failed_and_logs_no_body(tmp_path: Path, caplog) -> None:
    engine = make_engine(sqlite_url(tmp_path / "not-migrated.db"))  # no outbox table
    outbox = Outbox(engine, FixedClock())
    with caplog.at_level(logging.DEBUG):
        mail = outbox.send_mail("ada@example.com", "Confirm your email", CODE_TEXT, html="<b>493 817</b>")
        sms = outbox.send_sms("+442079460958", CODE_TEXT)
    engine.dispose()
    assert mail == Failure(Code.SEND_FAILED) and sms == Failure(Code.SEND_FAILED)
    assert caplog.records, "the failure is logged"
    logged = "\n".join(record.getMessage() for record in caplog.records)
    for secret in ("493 817", "ada@example.com", "+442079460958", "Confirm your email"):
        assert secret not in logged


def test_production_without_a_provider_refuses_to_send(tmp_path: Path, db_url: str, caplog) -> None:
    settings = make_settings(tmp_path, db_url, mode="production")
    engine = make_engine(db_url)
    notifier = build_notifier(settings, engine, FixedClock())
    assert isinstance(notifier, NoNotifier)
    with caplog.at_level(logging.DEBUG):
        assert notifier.send_mail("ada@example.com", "Confirm", CODE_TEXT) == Failure(Code.SEND_FAILED)
        assert notifier.send_sms("+442079460958", CODE_TEXT) == Failure(Code.SEND_FAILED)
    assert recent_messages(engine) == []  # nothing was kept for a page that does not exist there
    assert "493 817" not in caplog.text and "ada@example.com" not in caplog.text
    engine.dispose()
