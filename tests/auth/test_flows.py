"""Sign-up, sign-in, throttling and the session hand-off, through the real flows."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import select

from fuzzydice.ui.messages import field_messages
from fuzzydice.journey import Step, StepKind
from fuzzydice import audit
from fuzzydice.auth import flows
from fuzzydice.auth.sessions import FIRST_FACTOR, FULL
from fuzzydice.auth.tokens import token_hash
from fuzzydice.clock import FixedClock
from fuzzydice.models import AuditEvent, AuthSession, Identity, SignInThrottle, User
from fuzzydice.outcome import Code, Failure, Ok, Problem
from fuzzydice.services import Services
from tests.conftest import TEST_TAB, STRONG_PASSWORD
from tests.first_factor import is_wrong, user_of, wait_of

EMAIL = "ada@example.com"
IP = "203.0.113.10"
OTHER_IP = "198.51.100.20"


@pytest.fixture(autouse=True)
def _dummy_hash_ready(services: Services) -> None:
    services.hasher.dummy_hash()  # pre-computed: only checks are counted, not this hash


@pytest.fixture
def ada(make_user: Callable[..., int]) -> int:
    return make_user(EMAIL)


def sign_in(services: Services, password: str, email: str = EMAIL, ip: str = IP):
    return flows.sign_in_with_password(services, email=email, password=password, ip=ip)


def refused_for(result, clock: FixedClock) -> int | None:
    """Seconds to wait when the throttle refused (RATE_LIMITED); None otherwise."""
    return wait_of(result, clock.now()) if not result.ok and result.code == Code.RATE_LIMITED else None


# --- registration -----------------------------------------------------------


def test_register_stores_only_a_peppered_hash(services: Services, ada: int) -> None:
    with services.db() as session:
        user = session.get(User, ada)
        identity = session.exec(select(Identity).where(Identity.user_id == ada)).one()
    assert (identity.kind, identity.identifier) == ("password", EMAIL)
    assert identity.password_hash.startswith(f"fd1${services.keys.pepper.key_id}$$2b$04$")
    assert STRONG_PASSWORD not in identity.password_hash
    assert user.created_at.tzinfo is not None and user.created_at.utcoffset() == timedelta(0)


def test_register_refuses_a_taken_email_in_any_case(services: Services, ada: int) -> None:
    result = flows.register(services, name="Other", email="ADA@Example.com", password=STRONG_PASSWORD)
    assert result == Failure(Code.INVALID_INPUT, fields={"email": Problem("email_taken")})


def test_register_reports_every_field(services: Services) -> None:
    result = flows.register(services, name=" ", email="not-an-email", password="short", phone="12345")
    assert result.code == Code.INVALID_INPUT
    assert {name: problem.code for name, problem in result.fields.items()} == {
        "name": "name_required",
        "email": "email_invalid",
        "password": "too_short",
        "phone": "phone_not_international",
    }
    # Codes and numbers, never words: the page words them with this server's settings.
    assert result.fields["password"].params == {"min": 8}
    assert field_messages(result)["password"] == "Use at least 8 characters."
    with services.db() as session:
        assert session.exec(select(User)).all() == []


def test_register_refuses_a_password_built_on_the_email(services: Services) -> None:
    result = flows.register(services, name="Q", email="zanzibarquokka@example.com", password="zanzibarquokka1")
    assert not result.ok and result.fields["password"].code == "password_weak"


# --- sign-in and enumeration -------------------------------------------------


def test_correct_password_signs_in(services: Services, ada: int, clock: FixedClock, checkpw_calls) -> None:
    result = sign_in(services, STRONG_PASSWORD)
    # No second factor yet: the journey's next step is enrolling one.
    assert result == Ok(flows.SignedIn(user_id=ada, step=Step(StepKind.ENROL, ("totp",))))
    assert len(checkpw_calls) == 1
    with services.db() as session:
        assert session.get(User, ada).last_sign_in_at == clock.now()


def test_email_is_matched_case_insensitively(services: Services, ada: int) -> None:
    assert user_of(sign_in(services, STRONG_PASSWORD, email="  ADA@example.COM ")) == ada


def test_unknown_email_and_wrong_password_look_the_same(services: Services, ada: int, checkpw_calls) -> None:
    wrong = sign_in(services, "not the password at all")
    assert len(checkpw_calls) == 1
    assert checkpw_calls[0].decode() != services.hasher.dummy_hash().split("$", 2)[2]  # Ada's real hash

    checkpw_calls.clear()
    unknown = sign_in(services, "not the password at all", email="nobody@example.com")
    assert len(checkpw_calls) == 1  # exactly one bcrypt check for an unknown user too
    assert checkpw_calls[0].decode() == services.hasher.dummy_hash().split("$", 2)[2]

    assert wrong == unknown == Failure(Code.WRONG_CREDENTIALS)  # no retry_at either


def test_malformed_email_is_a_plain_failure(services: Services, checkpw_calls) -> None:
    result = sign_in(services, "whatever123", email="not an email")
    assert is_wrong(result)
    assert len(checkpw_calls) == 1


# --- backoff per (account, IP) ------------------------------------------------


def fail(services: Services, times: int, *, email: str = EMAIL, ip: str = IP) -> None:
    for _ in range(times):
        assert is_wrong(sign_in(services, "wrong password!", email=email, ip=ip))


def test_fourth_attempt_within_a_second_is_refused_without_bcrypt(
    services: Services, ada: int, clock: FixedClock, checkpw_calls
) -> None:
    fail(services, 3)
    checkpw_calls.clear()
    clock.advance(0.5)
    blocked = sign_in(services, STRONG_PASSWORD)
    assert blocked == Failure(Code.RATE_LIMITED, retry_at=clock.now() + timedelta(seconds=0.5))
    assert checkpw_calls == []  # no bcrypt while blocked
    clock.advance(0.5)
    assert user_of(sign_in(services, STRONG_PASSWORD)) == ada
    assert len(checkpw_calls) == 1


def test_backoff_doubles_with_each_failure(services: Services, ada: int, clock: FixedClock) -> None:
    fail(services, 3)
    for expected in (1, 2, 4, 8, 16, 32, 60, 60):
        blocked = sign_in(services, STRONG_PASSWORD)
        assert refused_for(blocked, clock) == expected
        clock.advance(expected)
        fail(services, 1)


def test_backoff_is_per_ip(services: Services, ada: int, clock: FixedClock) -> None:
    fail(services, 3)
    assert refused_for(sign_in(services, STRONG_PASSWORD), clock)
    assert user_of(sign_in(services, STRONG_PASSWORD, ip=OTHER_IP)) == ada


def test_blocked_attempts_do_not_extend_the_backoff(services: Services, ada: int, clock: FixedClock) -> None:
    fail(services, 3)
    for _ in range(5):
        assert refused_for(sign_in(services, "wrong password!"), clock) == 1
    clock.advance(1)
    assert user_of(sign_in(services, STRONG_PASSWORD)) == ada


def test_success_resets_the_counter(services: Services, ada: int, clock: FixedClock) -> None:
    fail(services, 3)
    clock.advance(1)
    assert user_of(sign_in(services, STRONG_PASSWORD)) == ada
    # Three free failures again, not a 2 s backoff after the next one.
    fail(services, 2)
    assert is_wrong(sign_in(services, "wrong password!"))
    assert refused_for(sign_in(services, STRONG_PASSWORD), clock)
    with services.db() as session:
        failures = session.exec(select(SignInThrottle.failures).where(SignInThrottle.ip == IP)).one()
    assert failures == 3


def test_unknown_emails_are_throttled_the_same(services: Services, ada: int, clock: FixedClock, checkpw_calls) -> None:
    for email in (EMAIL, "nobody@example.com"):
        fail(services, 3, email=email)
        checkpw_calls.clear()
        blocked = sign_in(services, "wrong password!", email=email)
        assert refused_for(blocked, clock) == 1
        assert checkpw_calls == []


# --- no permanent lock -----------------------------------------------------------


def test_failures_never_lock_the_account(services: Services, ada: int, clock: FixedClock) -> None:
    """What used to lock the account for good (100 failures in a row) now only slows the guesser."""
    failures = 0
    while failures < 150:  # a patient guesser: waits whenever told to
        result = sign_in(services, "wrong password!")
        if wait := refused_for(result, clock):
            clock.advance(wait)
        else:
            failures += 1
    clock.advance(services.settings.account_backoff_max)  # from a new address: at most the account-wide cap later
    assert user_of(sign_in(services, STRONG_PASSWORD, ip=OTHER_IP)) == ada


# --- session hand-off -----------------------------------------------------------


def test_ticket_hands_off_a_session(services: Services, ada: int) -> None:
    issued = flows.start_session_handoff(
        services, user_id=ada, factor_level=FIRST_FACTOR, remember=False, next_path="/user/home", tab=TEST_TAB
    )
    claimed = flows.claim_session(services, ticket=issued.ticket, bind=issued.bind, tab=TEST_TAB, ip=IP, user_agent="pytest")
    assert claimed is not None and claimed.next_path == "/user/home" and not claimed.remember
    info = flows.current_session(services, claimed.token)
    assert info is not None and info.user_id == ada and info.factor_level == FIRST_FACTOR
    assert flows.claim_session(services, ticket=issued.ticket, bind=issued.bind, tab=TEST_TAB, ip=IP, user_agent=None) is None


def test_privilege_change_issues_a_new_token_and_ends_the_old_session(services: Services, ada: int) -> None:
    first = flows.start_session_handoff(services, user_id=ada, factor_level=FIRST_FACTOR, remember=False, next_path="/", tab=TEST_TAB)
    old = flows.claim_session(services, ticket=first.ticket, bind=first.bind, tab=TEST_TAB, ip=IP, user_agent=None)
    assert old is not None
    upgrade = flows.start_session_handoff(
        services, user_id=ada, factor_level=FULL, remember=False, next_path="/user/home", replaces_token=old.token, tab=TEST_TAB
    )
    new = flows.claim_session(services, ticket=upgrade.ticket, bind=upgrade.bind, tab=TEST_TAB, ip=IP, user_agent=None)
    assert new is not None and new.token != old.token
    assert flows.current_session(services, old.token) is None
    assert flows.current_session(services, new.token).factor_level == FULL
    with services.db() as session:
        hashes = session.exec(select(AuthSession.token_hash)).all()
    assert hashes == [token_hash(new.token)]


def test_sign_out_ends_the_session_at_once(services: Services, ada: int) -> None:
    issued = flows.start_session_handoff(services, user_id=ada, factor_level=FIRST_FACTOR, remember=True, next_path="/", tab=TEST_TAB)
    claimed = flows.claim_session(services, ticket=issued.ticket, bind=issued.bind, tab=TEST_TAB, ip=None, user_agent=None)
    assert flows.sign_out(services, claimed.token) is True
    assert flows.current_session(services, claimed.token) is None
    assert flows.sign_out(services, claimed.token) is False
    assert flows.sign_out(services, None) is False


# --- audit entries ----------------------------------------------------------------

UA = "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0"
BY_PASSWORD = {"method": "password"}


def trail(services: Services, user_id: int) -> list[tuple]:
    """The account's entries, oldest first, as (action, result, ip, user agent, details)."""
    return [(e.action, e.result, e.ip, e.user_agent, e.details) for e in reversed(audit.events(services, user_id, limit=100))]


def entries_without_account(services: Services) -> list[tuple]:
    table = AuditEvent.__table__
    with services.db() as session:
        return [tuple(row) for row in session.execute(
            sa.select(table.c.kind, table.c.result, table.c.ip, table.c.user_agent, table.c.details, table.c.session_id)
            .where(table.c.user_id.is_(None))
            .order_by(table.c.id)
        )]


def test_registration_and_sign_ins_are_recorded_with_where_they_came_from(services: Services) -> None:
    ada = flows.register(services, name="Ada", email=EMAIL, password=STRONG_PASSWORD, ip=IP, user_agent=UA).value.user_id
    assert user_of(flows.sign_in_with_password(services, email=EMAIL, password=STRONG_PASSWORD, ip=IP, user_agent=UA)) == ada
    assert is_wrong(flows.sign_in_with_password(services, email=EMAIL, password="not it at all", ip=OTHER_IP, user_agent=UA))
    assert trail(services, ada) == [
        ("registered", "ok", IP, UA, BY_PASSWORD),
        ("sign_in", "ok", IP, UA, BY_PASSWORD),
        ("sign_in", "failed", OTHER_IP, UA, BY_PASSWORD),
    ]
    assert entries_without_account(services) == []


def test_a_failed_sign_in_for_an_unknown_email_is_nobodys_and_names_no_email(services: Services, ada: int) -> None:
    before = trail(services, ada)
    assert is_wrong(flows.sign_in_with_password(services, email="nobody@example.com", password="guess one", ip=IP, user_agent=UA))
    assert entries_without_account(services) == [("sign_in", "failed", IP, UA, '{"method":"password"}', None)]
    assert "nobody" not in repr(entries_without_account(services))
    assert trail(services, ada) == before


def test_throttled_attempts_are_recorded_but_a_flood_over_the_ip_limit_is_not(
    services: Services, ada: int, clock: FixedClock
) -> None:
    limit = services.settings.sign_in_ip_limit
    results = [sign_in(services, f"guess {n}") for n in range(limit + 10)]
    assert sum(is_wrong(r) for r in results) == services.settings.backoff_free_failures == 3
    entries = [(action, result) for action, result, *_ in trail(services, ada)[1:]]
    assert entries == [("sign_in", "failed")] * 3 + [("sign_in", "throttled")] * (limit - 3)  # then the IP limit: none
    # An unknown email is throttled and recorded the same way, as nobody's.
    clock.advance(services.settings.sign_in_ip_window)
    for n in range(5):
        sign_in(services, f"guess {n}", email="nobody@example.com", ip=OTHER_IP)
    assert [row[:2] for row in entries_without_account(services)] == [("sign_in", "failed")] * 3 + [("sign_in", "throttled")] * 2


def test_a_disabled_account_is_recorded_as_refused_only_for_the_right_password(services: Services, ada: int) -> None:
    with services.db() as session:
        session.execute(sa.update(User.__table__).where(User.__table__.c.id == ada).values(disabled_at=services.clock.now()))
        session.commit()
    assert flows.sign_in_with_password(services, email=EMAIL, password=STRONG_PASSWORD, ip=IP) == Failure(Code.ACCOUNT_DISABLED)
    assert is_wrong(sign_in(services, "not the password"))
    assert [(action, result) for action, result, *_ in trail(services, ada)[1:]] == [
        ("sign_in", "refused"), ("sign_in", "failed"),
    ]


def test_a_busy_answer_and_refused_registrations_leave_no_entry(
    tmp_path, db_url: str, clock: FixedClock
) -> None:
    from fuzzydice.services import build_services
    from tests.conftest import make_settings

    services = build_services(make_settings(tmp_path, db_url, hash_concurrency=1, hash_wait=0), clock)
    try:
        ada = flows.register(services, name="Ada", email=EMAIL, password=STRONG_PASSWORD).value.user_id
        services.hasher.dummy_hash()
        with ThreadPoolExecutor(1) as other_thread:
            holding, release = threading.Event(), threading.Event()

            def hold_the_only_slot() -> None:
                with services.hasher.slot():
                    holding.set()
                    release.wait(timeout=60)

            held = other_thread.submit(hold_the_only_slot)
            try:
                assert holding.wait(timeout=30)
                assert sign_in(services, STRONG_PASSWORD).code == Code.BUSY
                assert flows.register(services, name="Bo", email="bo@example.com", password=STRONG_PASSWORD).code == Code.BUSY
            finally:
                release.set()
            held.result(timeout=30)
        assert not flows.register(services, name="Ada", email=EMAIL, password=STRONG_PASSWORD).ok  # taken
        assert [action for action, *_ in trail(services, ada)] == ["registered"]
        assert entries_without_account(services) == []
    finally:
        services.engine.dispose()


def test_sign_out_is_recorded_with_the_session_it_ended(services: Services, ada: int) -> None:
    issued = flows.start_session_handoff(services, user_id=ada, factor_level=FULL, remember=False, next_path="/", tab=TEST_TAB)
    claimed = flows.claim_session(services, ticket=issued.ticket, bind=issued.bind, tab=TEST_TAB, ip=IP, user_agent=UA)
    session_id = flows.current_session(services, claimed.token).session_id
    assert flows.sign_out(services, claimed.token, ip=OTHER_IP, user_agent=UA)
    assert not flows.sign_out(services, claimed.token, ip=OTHER_IP, user_agent=UA)  # nothing ended: no entry
    last = audit.events(services, ada, limit=1)[0]
    assert (last.action, last.result, last.session_id, last.ip, last.user_agent) == ("sign_out", "ok", session_id, OTHER_IP, UA)
    assert [action for action, *_ in trail(services, ada)] == ["registered", "sign_out"]
