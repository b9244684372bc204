"""Cleanup of expired rows: sessions, claim tickets and stale throttle counters go; live ones stay."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from fuzzydice.auth import flows, throttle
from fuzzydice.maintenance import delete_expired_rows
from fuzzydice.models import AuthSession, ClaimTicket, SignInThrottle
from tests.conftest import TEST_TAB


def counts(services):
    with services.db() as session:
        return (
            len(session.exec(select(AuthSession)).all()),
            len(session.exec(select(ClaimTicket)).all()),
            len(session.exec(select(SignInThrottle)).all()),
        )


def test_cleanup_removes_only_what_has_expired(services, clock, make_user):
    user_id = make_user()
    ticket = flows.start_session_handoff(services, user_id=user_id, factor_level=1, remember=False, next_path="/", tab=TEST_TAB)
    flows.claim_session(services, ticket=ticket.ticket, bind=ticket.bind, tab=TEST_TAB, ip="127.0.0.1", user_agent="t")
    flows.start_session_handoff(services, user_id=user_id, factor_level=1, remember=False, next_path="/", tab=TEST_TAB)
    with services.db() as session:
        throttle.reserve_attempt(session, "k", "127.0.0.1", clock.now(), services.settings)  # (account, IP) + account
    assert counts(services) == (1, 1, 2)

    assert not any(delete_expired_rows(services).values())
    assert counts(services) == (1, 1, 2)

    clock.advance(services.settings.claim_ticket_ttl)
    assert delete_expired_rows(services)["claim_tickets"] == 1
    assert counts(services) == (1, 0, 2)

    clock.advance(services.settings.session_idle)
    assert delete_expired_rows(services)["auth_sessions"] == 1

    clock.advance(services.settings.throttle_memory + timedelta(seconds=1))
    assert delete_expired_rows(services)["sign_in_throttles"] == 2
    assert counts(services) == (0, 0, 0)


def test_audit_entries_are_kept_for_the_retention_and_removed_after_it(services, clock, make_user):
    from fuzzydice import audit

    retention = services.settings.audit_retention
    assert retention == timedelta(days=365)
    user_id = make_user()  # its REGISTERED entry is written now
    clock.advance(timedelta(days=200))
    with services.db() as session:
        audit.record(session, audit.Action.SIGN_IN, now=clock.now(), user_id=user_id)
        audit.record(session, audit.Action.SIGN_IN, now=clock.now(), user_id=None, result=audit.Result.FAILED)
        session.commit()

    clock.advance(retention - timedelta(days=200))  # the first entry is exactly a retention old: kept
    assert delete_expired_rows(services)["audit_events"] == 0
    assert [e.action for e in audit.events(services, user_id)] == ["sign_in", "registered"]

    clock.advance(timedelta(seconds=1))
    assert delete_expired_rows(services)["audit_events"] == 1
    assert [e.action for e in audit.events(services, user_id)] == ["sign_in"]

    clock.advance(timedelta(days=200))  # the later ones, with or without an account, go in their turn
    assert delete_expired_rows(services)["audit_events"] == 2
    assert audit.events(services, user_id) == []


def test_outbox_messages_are_removed_after_their_retention(services, clock):
    from fuzzydice.notify.outbox import recent_messages

    assert services.notifier.send_mail("ada@example.com", "Your code", "123456").ok
    clock.advance(services.settings.outbox_retention.total_seconds() - 1)
    assert services.notifier.send_sms("+447700900123", "Your code is 654321").ok
    assert delete_expired_rows(services)["outbox_messages"] == 0
    clock.advance(2)
    assert delete_expired_rows(services)["outbox_messages"] == 1
    assert [m.channel for m in recent_messages(services.engine)] == ["sms"]
