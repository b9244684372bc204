"""The audit trail's storage: every field kept, no secret let in, a user's entries read back in pages."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta

import pytest
import sqlalchemy as sa

from fuzzydice import audit
from fuzzydice.audit import Action, Origin, Result
from fuzzydice.clock import FixedClock
from fuzzydice.models import AuditEvent
from fuzzydice.services import Services

_table = AuditEvent.__table__


def write(services: Services, action: Action = Action.SIGN_IN, **kwargs) -> None:
    kwargs.setdefault("user_id", None)
    with services.db() as session:
        audit.record(session, action, now=services.clock.now(), **kwargs)
        session.commit()


def all_rows(services: Services) -> list:
    with services.db() as session:
        return session.execute(sa.select(_table).order_by(_table.c.id)).all()


def test_an_entry_keeps_who_what_how_where_and_when(services: Services, clock: FixedClock, make_user) -> None:
    user_id = make_user()
    before = len(all_rows(services))
    write(
        services,
        Action.BACKUP_CODE_USED,
        user_id=user_id,
        result=Result.OK,
        origin=Origin(session_id=42, ip="203.0.113.10", user_agent="Mozilla/5.0 (X11) Firefox/140.0"),
        details={"left": 9, "method": "backup_codes", "replaced": False, "note": None},
    )
    rows = all_rows(services)
    assert len(rows) == before + 1
    row = rows[-1]
    assert (row.user_id, row.session_id, row.kind, row.result) == (user_id, 42, "backup_code_used", "ok")
    assert (row.ip, row.user_agent, row.created_at) == ("203.0.113.10", "Mozilla/5.0 (X11) Firefox/140.0", clock.now())
    assert json.loads(row.details) == {"left": 9, "method": "backup_codes", "replaced": False, "note": None}
    assert row.seen_at is None


def test_an_entry_without_an_account_or_details(services: Services) -> None:
    write(services, Action.SIGN_IN, result=Result.FAILED)
    row = all_rows(services)[-1]
    assert (row.user_id, row.session_id, row.ip, row.user_agent, row.details) == (None, None, None, None, None)
    assert row.result == "failed"


@pytest.mark.parametrize(
    "key",
    [
        "code", "backup_code", "codes", "totp_code", "password", "new_password", "passwd", "secret", "totp_secret",
        "token", "session_token", "key", "key_id", "api_key", "apikey", "signature", "otp", "nonce", "ticket",
        "cookie", "private_key", "mnemonic", "seed", "hash", "password_hash", "pin", "bind", "credential", "salt",
    ],
)
def test_a_secret_looking_key_is_refused_and_nothing_is_written(services: Services, key: str) -> None:
    before = all_rows(services)
    with pytest.raises(ValueError, match="secret"):
        write(services, details={key: "x"})
    assert all_rows(services) == before


@pytest.mark.parametrize("value", [1.5, b"bytes", ["a"], {"nested": "dict"}, ("t",), object()])
def test_a_value_that_is_not_a_plain_scalar_is_refused(services: Services, value) -> None:
    before = all_rows(services)
    with pytest.raises(ValueError, match="str, int, bool or None"):
        write(services, details={"count": value})
    assert all_rows(services) == before


@pytest.mark.parametrize("key", ["Method", "with space", "1st", "", "x" * 41])
def test_a_key_that_is_not_a_plain_name_is_refused(services: Services, key: str) -> None:
    with pytest.raises(ValueError):
        write(services, details={key: 1})


def test_the_facts_callers_record_are_allowed(services: Services) -> None:
    facts = {"method": "password", "kind": "totp", "count": 3, "address": "0x" + "ab" * 20, "reason": "expired",
             "left": 0, "replaced": True}
    write(services, details=facts)
    assert json.loads(all_rows(services)[-1].details) == facts


def test_long_strings_are_cut(services: Services) -> None:
    write(services, origin=Origin(ip="1" * 100, user_agent="U" * 2000), details={"reason": "r" * 1000})
    row = all_rows(services)[-1]
    assert len(row.ip) == 64 and len(row.user_agent) == 512
    assert json.loads(row.details) == {"reason": "r" * audit.DETAIL_MAX_CHARS}


def test_too_many_details_and_unknown_actions_are_refused(services: Services) -> None:
    with pytest.raises(ValueError):
        write(services, details={f"fact_{n}": n for n in range(audit.DETAIL_MAX_KEYS + 1)})
    with pytest.raises(ValueError):
        write(services, "made_up_action")
    with pytest.raises(ValueError):
        write(services, result="maybe")


# --- reading a user's trail ------------------------------------------------------------------------


def test_events_are_the_users_own_newest_first_in_pages(
    services: Services, clock: FixedClock, make_user: Callable[..., int]
) -> None:
    ada, bob = make_user(), make_user()
    for n in range(7):
        clock.advance(1)
        write(services, Action.SIGN_IN, user_id=ada, details={"count": n})
        write(services, Action.SIGN_IN, user_id=bob, details={"count": 100 + n})
    write(services, Action.SIGN_IN, result=Result.FAILED)  # no account: nobody's trail

    def counts(page: list[audit.Event]) -> list[int]:
        return [e.details.get("count") for e in page]

    first = audit.events(services, ada, limit=3)
    assert counts(first) == [6, 5, 4]
    second = audit.events(services, ada, before_id=first[-1].id, limit=3)
    assert counts(second) == [3, 2, 1]
    third = audit.events(services, ada, before_id=second[-1].id, limit=3)
    assert counts(third) == [0, None]  # the oldest: the REGISTERED entry of make_user
    assert third[-1].action == "registered"
    assert audit.events(services, ada, before_id=third[-1].id) == []
    assert all(e.action == "sign_in" and e.result == "ok" for e in first + second)
    assert first[0].created_at == clock.now()
    # A cursor from someone else's trail reads nothing of theirs, nor of one's own.
    bobs = audit.events(services, bob, limit=1)
    assert audit.events(services, ada, before_id=bobs[0].id) == []


def test_entries_written_in_one_instant_page_by_id(services: Services, make_user: Callable[..., int]) -> None:
    ada = make_user()
    for n in range(5):
        write(services, Action.SIGN_IN, user_id=ada, details={"count": n})  # the clock does not move
    first = audit.events(services, ada, limit=2)
    rest = audit.events(services, ada, before_id=first[-1].id, limit=10)
    assert [e.details.get("count") for e in first + rest] == [4, 3, 2, 1, 0, None]


def test_events_limit_is_bounded(services: Services, make_user: Callable[..., int]) -> None:
    ada = make_user()
    for _ in range(120):
        write(services, Action.SIGN_IN, user_id=ada)
    assert len(audit.events(services, ada, limit=1000)) == 100
    assert len(audit.events(services, ada, limit=0)) == 1


def test_an_accounts_entries_go_with_it(services: Services, make_user: Callable[..., int]) -> None:
    from fuzzydice.models import User

    ada = make_user()
    write(services, Action.SIGN_IN, user_id=ada)
    with services.db() as session:
        session.execute(sa.delete(User.__table__).where(User.__table__.c.id == ada))
        session.commit()
    assert audit.events(services, ada) == []
    with services.db() as session:
        assert session.execute(sa.select(sa.func.count()).select_from(_table).where(_table.c.user_id == ada)).scalar() == 0


def test_expired_entries_are_deleted_by_age_alone(services: Services, clock: FixedClock, make_user) -> None:
    ada = make_user()
    write(services, Action.SIGN_IN, user_id=ada)
    clock.advance(timedelta(days=10, seconds=1))
    write(services, Action.SIGN_OUT, user_id=ada)
    with services.db() as session:
        assert audit.delete_expired_events(session, clock.now() - timedelta(days=10)) == 2  # REGISTERED and SIGN_IN
    assert [e.action for e in audit.events(services, ada)] == ["sign_out"]
