"""Changes to the second factor itself (re-enrolment, new backup codes), behind a fresh second factor.

The flows check freshness themselves (`not_fresh`), so no caller can skip it; a change,
the other sessions it ends and their audit entries commit in one transaction.
Real flows on a real database copy, real pyotp; time moves only with the FixedClock.
"""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from fuzzydice import audit
from fuzzydice.auth import flows
from fuzzydice.clock import FixedClock
from fuzzydice.mfa import flows as mfa_flows, lock, registry
from fuzzydice.mfa.flows import Enrolment
from fuzzydice.models import AuditEvent, BackupCode
from fuzzydice.outcome import Code, Failure, Ok, Outcome
from fuzzydice.services import Services
from tests.conftest import full_session, next_totp_code, pending_session, session_id_of, sessions_of
from tests.mfa.conftest import (
    TYPED_WRONG,
    Enrolled,
    assert_audit_holds_none_of,
    audit_events,
    code_at,
    codes_since,
    lock_row,
    make_fresh,
    raw,
    session_row,
    step_now,
    stored_hashes,
    wrong_code,
)

CHANGES = (audit.Action.FACTOR_ENROLLED, audit.Action.BACKUP_CODES_REGENERATED, audit.Action.SESSIONS_ENDED)


def totp_works(services: Services, clock: FixedClock, user_id: int, secret: str) -> bool:
    """Whether a fresh code of `secret` passes the second step of a new sign-in now."""
    _, signing_in = pending_session(services, user_id)
    code = next_totp_code(services, clock, secret)
    return mfa_flows.verify_second_step(services, user_id=user_id, session_id=signing_in, code=code).ok


def backup_works(services: Services, user_id: int, code: str) -> bool:
    _, signing_in = pending_session(services, user_id)
    return mfa_flows.verify_second_step(
        services, user_id=user_id, session_id=signing_in, code=code, method=mfa_flows.BACKUP
    ).ok


def begin_reenrolment(services: Services, user: Enrolled, session_id: int) -> Outcome[Enrolment]:
    return mfa_flows.pending_enrolment(services, user_id=user.user_id, session_id=session_id, replacing=True)


def new_secret(services: Services, user: Enrolled, session_id: int) -> Enrolment:
    outcome = begin_reenrolment(services, user, session_id)
    assert outcome.ok, outcome
    return outcome.value


def finish_reenrolment(services: Services, user: Enrolled, session_id: int, code: str) -> Outcome[None]:
    return mfa_flows.activate_totp(services, user_id=user.user_id, session_id=session_id, code=code)


def new_backup_codes(services: Services, user: Enrolled, session_id: int) -> Outcome[list[str]]:
    return mfa_flows.regenerate_backup_codes(services, user_id=user.user_id, session_id=session_id)


def sealed_secret(services: Services, user_id: int) -> str | None:
    with services.db() as session:
        factor = registry.factor_of_kind(session, user_id, registry.TOTP)
    return factor.sealed_data if factor else None




# --- freshness, checked by the flows themselves -----------------------------------------


def test_every_change_of_the_second_factor_needs_a_fresh_session(
    services: Services, clock: FixedClock, user: Enrolled, token: str, sid: int
) -> None:
    # A full session that never stepped up, calling the flows directly (no page in between).
    other = full_session(services, user.user_id)
    hashes, sealed = stored_hashes(services, user.user_id), sealed_secret(services, user.user_id)
    trail = audit_events(services, user.user_id, *CHANGES)  # the first enrolment's entry
    not_fresh = Failure(Code.NOT_FRESH)

    assert begin_reenrolment(services, user, sid) == not_fresh
    # Even a valid code of the active secret is not looked at, and no slot of the lock is taken.
    assert finish_reenrolment(services, user, sid, code_at(services, user.secret)) == not_fresh
    assert lock_row(services, user.user_id, lock.STEP_UP) is None
    assert new_backup_codes(services, user, sid) == not_fresh

    # Nothing changed: nothing pending or to show here, the same secret and codes, the other session alive.
    row = session_row(services, sid)
    assert row.pending_totp_secret is None and row.backup_codes_to_show is None
    assert mfa_flows.backup_codes_to_show(services, user_id=user.user_id, session_id=sid) is None
    assert (stored_hashes(services, user.user_id), sealed_secret(services, user.user_id)) == (hashes, sealed)
    assert flows.current_session(services, other, touch=False) is not None
    assert audit_events(services, user.user_id, *CHANGES) == trail
    assert mfa_flows.remaining_backup_codes(services, user.user_id) == services.settings.backup_code_count
    assert totp_works(services, clock, user.user_id, user.secret)
    assert backup_works(services, user.user_id, user.backup_codes[0])


def test_freshness_runs_out(services: Services, clock: FixedClock, user: Enrolled, token: str, sid: int) -> None:
    make_fresh(services, user, sid)
    clock.advance(services.settings.step_up_lifetime)
    assert begin_reenrolment(services, user, sid) == Failure(Code.NOT_FRESH)
    assert new_backup_codes(services, user, sid) == Failure(Code.NOT_FRESH)
    assert session_row(services, sid).pending_totp_secret is None


def test_freshness_of_another_session_does_not_count(
    services: Services, clock: FixedClock, user: Enrolled, token: str, sid: int
) -> None:
    make_fresh(services, user, sid)
    other = session_id_of(services, full_session(services, user.user_id))
    assert begin_reenrolment(services, user, other) == Failure(Code.NOT_FRESH)
    assert new_backup_codes(services, user, other) == Failure(Code.NOT_FRESH)
    assert finish_reenrolment(services, user, other, code_at(services, user.secret)) == Failure(Code.NOT_FRESH)


def test_activation_once_freshness_ran_out_is_refused_before_the_lock_is_asked(
    services: Services, clock: FixedClock, user: Enrolled, token: str, sid: int
) -> None:
    make_fresh(services, user, sid)
    pending = new_secret(services, user, sid)
    other = full_session(services, user.user_id)
    trail = audit_events(services, user.user_id, *CHANGES)
    # The step-up lock is locked now (five wrong codes of this session)...
    for _ in range(services.settings.second_factor_max_failures):
        refused = mfa_flows.verify_second_step(
            services, user_id=user.user_id, session_id=sid, code=wrong_code(services, user.secret)
        )
        assert refused.code == Code.WRONG_CODE
    until = lock_row(services, user.user_id, lock.STEP_UP).locked_until
    assert until is not None
    clock.advance(services.settings.step_up_lifetime)  # ...and still locked when freshness has run out.

    # The right code of the pending secret: refused as not fresh, before the lock is consulted.
    assert finish_reenrolment(services, user, sid, code_at(services, pending.secret)) == Failure(Code.NOT_FRESH)

    # Nothing changed: the pending secret still waits, the old one is active, the other session lives.
    assert session_row(services, sid).pending_totp_secret is not None
    assert lock_row(services, user.user_id, lock.STEP_UP).locked_until == until
    assert flows.current_session(services, other, touch=False) is not None
    assert audit_events(services, user.user_id, *CHANGES) == trail
    assert totp_works(services, clock, user.user_id, user.secret)


# --- re-enrolment ---------------------------------------------------------------------------


def test_reenrolment_gives_a_new_secret_and_the_old_one_keeps_working_until_confirmed(
    services: Services, clock: FixedClock, user: Enrolled, token: str, sid: int
) -> None:
    make_fresh(services, user, sid)
    enrolment = new_secret(services, user, sid)
    assert enrolment.secret != user.secret and len(enrolment.secret) >= 32  # base32 of >= 160 bits
    # The page can be reloaded: the same pending secret comes back.
    assert begin_reenrolment(services, user, sid) == Ok(enrolment)
    # Until it is confirmed, the old secret signs in and the new one does not.
    assert totp_works(services, clock, user.user_id, user.secret)
    assert not totp_works(services, clock, user.user_id, enrolment.secret)


def test_finishing_reenrolment_kills_the_old_secret_and_keeps_the_backup_codes(
    services: Services, clock: FixedClock, user: Enrolled, token: str, sid: int
) -> None:
    make_fresh(services, user, sid)
    enrolment = new_secret(services, user, sid)
    # A code of the OLD secret does not confirm the new one.
    wrong = finish_reenrolment(services, user, sid, code_at(services, user.secret))
    assert wrong == Failure(Code.WRONG_CODE, attempts_left=services.settings.second_factor_max_failures - 1)
    assert totp_works(services, clock, user.user_id, user.secret)

    done = finish_reenrolment(services, user, sid, code_at(services, enrolment.secret))
    assert done == Ok()
    # The confirming code cannot be replayed as a sign-in code.
    _, signing_in = pending_session(services, user.user_id)
    replay = mfa_flows.verify_second_step(
        services, user_id=user.user_id, session_id=signing_in, code=code_at(services, enrolment.secret)
    )
    assert replay == Failure(Code.CODE_ALREADY_USED)
    # From now on the old seed is dead (at every later step) and the new one works.
    for _ in range(3):
        assert not totp_works(services, clock, user.user_id, user.secret)
        assert totp_works(services, clock, user.user_id, enrolment.secret)
    # The backup codes stay: still all of them, and one of them works.
    assert mfa_flows.remaining_backup_codes(services, user.user_id) == services.settings.backup_code_count
    assert backup_works(services, user.user_id, raw(user.backup_codes[3]))


def test_a_wrong_confirmation_code_counts_toward_the_step_up_lock(
    services: Services, clock: FixedClock, user: Enrolled, token: str, sid: int
) -> None:
    make_fresh(services, user, sid)
    enrolment = new_secret(services, user, sid)
    before = mfa_flows.attempts_left(services, user.user_id, lock.STEP_UP)
    result = finish_reenrolment(services, user, sid, wrong_code(services, enrolment.secret))
    assert result == Failure(Code.WRONG_CODE, attempts_left=before - 1)
    assert mfa_flows.attempts_left(services, user.user_id, lock.STEP_UP) == before - 1
    assert mfa_flows.attempts_left(services, user.user_id, lock.SIGN_IN) == services.settings.second_factor_max_failures


# --- new backup codes ---------------------------------------------------------------------


def test_new_backup_codes_kill_every_old_code(
    services: Services, clock: FixedClock, user: Enrolled, token: str, sid: int
) -> None:
    assert backup_works(services, user.user_id, user.backup_codes[0])  # one old code already used
    make_fresh(services, user, sid)

    outcome = new_backup_codes(services, user, sid)
    assert outcome.ok, outcome
    new_codes = mfa_flows.backup_codes_to_show(services, user_id=user.user_id, session_id=sid)
    assert new_codes == outcome.value and len(new_codes) == services.settings.backup_code_count
    # Shown to this session only: a new sign-in of the same user does not get them.
    _, elsewhere = pending_session(services, user.user_id)
    assert mfa_flows.backup_codes_to_show(services, user_id=user.user_id, session_id=elsewhere) is None
    assert not set(new_codes) & set(user.backup_codes)
    assert mfa_flows.remaining_backup_codes(services, user.user_id) == services.settings.backup_code_count
    # Unused old codes are dead (three of them: more failures would lock the second step).
    for old in (user.backup_codes[1], user.backup_codes[5], raw(user.backup_codes[-1])):
        assert not backup_works(services, user.user_id, old)
    # Each new code works, once.
    assert backup_works(services, user.user_id, new_codes[0])
    assert not backup_works(services, user.user_id, new_codes[0])
    assert backup_works(services, user.user_id, raw(new_codes[1]))
    # The authenticator itself is untouched.
    assert totp_works(services, clock, user.user_id, user.secret)


# --- the other sessions end with the change, in its transaction ------------------------------


def reenrol(services: Services, user: Enrolled, session_id: int) -> Outcome:
    secret = new_secret(services, user, session_id).secret
    return finish_reenrolment(services, user, session_id, code_at(services, secret))


CHANGE_FLOWS = {
    "reenrolment": (reenrol, audit.Action.FACTOR_ENROLLED),
    "new_backup_codes": (new_backup_codes, audit.Action.BACKUP_CODES_REGENERATED),
}


@pytest.mark.parametrize("change", CHANGE_FLOWS)
def test_a_change_of_factors_ends_the_other_sessions_with_its_audit_entries(
    services: Services, clock: FixedClock, user: Enrolled, token: str, sid: int, change: str
) -> None:
    run, action = CHANGE_FLOWS[change]
    elsewhere = full_session(services, user.user_id)
    signing_in = pending_session(services, user.user_id)[0]  # a sign-in waiting for its code ends too
    make_fresh(services, user, sid)
    trail = audit_events(services, user.user_id, *CHANGES)
    others = sessions_of(services, user.user_id) - {sid}
    assert len(others) >= 2

    assert run(services, user, sid).ok

    assert flows.current_session(services, elsewhere) is None  # signed out everywhere else
    assert flows.current_session(services, signing_in) is None
    assert flows.current_session(services, token) is not None  # but not here
    assert sessions_of(services, user.user_id) == {sid}
    entries = audit_events(services, user.user_id, *CHANGES)[len(trail):]
    assert [(e.kind, e.result) for e in entries] == [(action, "ok"), (audit.Action.SESSIONS_ENDED, "ok")]
    assert all(e.session_id == sid and e.created_at == clock.now() for e in entries)
    assert json.loads(entries[1].details) == {"count": len(others)}


def refuse_audit_entries(services: Services, kind: str) -> None:
    """Make the database itself refuse audit entries of `kind`: a fault in the middle of a change."""
    with services.db() as session:
        if session.get_bind().dialect.name == "sqlite":
            session.execute(sa.text(
                f"CREATE TRIGGER refuse_{kind} BEFORE INSERT ON audit_events WHEN NEW.kind = '{kind}' "
                "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"
            ))
        else:
            session.execute(sa.text(
                "CREATE FUNCTION refuse_entry() RETURNS trigger LANGUAGE plpgsql "
                "AS $$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$"
            ))
            session.execute(sa.text(
                f"CREATE TRIGGER refuse_{kind} BEFORE INSERT ON audit_events FOR EACH ROW "
                f"WHEN (NEW.kind = '{kind}') EXECUTE FUNCTION refuse_entry()"
            ))
        session.commit()


@pytest.mark.parametrize("refused", ["change", audit.Action.SESSIONS_ENDED.value])
@pytest.mark.parametrize("change", CHANGE_FLOWS)
def test_a_change_and_the_sessions_it_ends_commit_together_or_not_at_all(
    services: Services, clock: FixedClock, user: Enrolled, token: str, sid: int, change: str, refused: str
) -> None:
    run, action = CHANGE_FLOWS[change]
    elsewhere = full_session(services, user.user_id)
    make_fresh(services, user, sid)
    hashes, sealed = stored_hashes(services, user.user_id), sealed_secret(services, user.user_id)
    trail = audit_events(services, user.user_id, *CHANGES)
    refuse_audit_entries(services, action.value if refused == "change" else refused)

    with pytest.raises(sa.exc.DBAPIError, match="refused by the test"):
        run(services, user, sid)

    # Whichever entry failed, nothing of the change landed: the factor, the codes and the other session stand.
    assert (stored_hashes(services, user.user_id), sealed_secret(services, user.user_id)) == (hashes, sealed)
    assert flows.current_session(services, elsewhere, touch=False) is not None
    assert audit_events(services, user.user_id, *CHANGES) == trail
    assert mfa_flows.backup_codes_to_show(services, user_id=user.user_id, session_id=sid) is None
    assert totp_works(services, clock, user.user_id, user.secret)
    assert backup_works(services, user.user_id, user.backup_codes[0])


# --- no secret in the trail -------------------------------------------------------------------


def test_no_audit_entry_holds_a_code_or_a_secret(
    services: Services, clock: FixedClock, user: Enrolled, token: str, sid: int
) -> None:
    since = step_now(services) - 2
    used: list[str] = [user.secret, *user.backup_codes, *TYPED_WRONG]
    # Every flow that writes entries: sign-in codes (right, wrong, backup), step-up, re-enrolment, new codes.
    _, signing_in = pending_session(services, user.user_id)
    for code, method in ((wrong_code(services, user.secret), mfa_flows.TOTP), (user.backup_codes[0], mfa_flows.BACKUP)):
        mfa_flows.verify_second_step(services, user_id=user.user_id, session_id=signing_in, code=code, method=method)
    make_fresh(services, user, sid)
    enrolment = new_secret(services, user, sid)
    used.append(enrolment.secret)
    assert finish_reenrolment(services, user, sid, wrong_code(services, enrolment.secret)).code == Code.WRONG_CODE
    assert finish_reenrolment(services, user, sid, code_at(services, enrolment.secret)).ok
    fresh_codes = new_backup_codes(services, user, sid)
    assert fresh_codes.ok
    used += fresh_codes.value
    used += codes_since(services, user.secret, since) + codes_since(services, enrolment.secret, since)
    with services.db() as session:
        stored = session.execute(
            sa.select(registry.table.c.sealed_data).where(registry.table.c.sealed_data.is_not(None))
        ).scalars().all()
        used += stored + list(session.execute(sa.select(BackupCode.code_hash)).scalars())
    kinds = {e.kind for e in audit_events(services, user.user_id)}
    assert {"second_step", "backup_code_used", "step_up", "factor_enrolled", "backup_codes_regenerated"} <= kinds

    assert_audit_holds_none_of(services, used)


def test_the_audit_scan_finds_a_planted_code(services: Services, user: Enrolled) -> None:
    # The check above would catch a code or secret written into any text column of the trail.
    with services.db() as session:
        session.add(AuditEvent(user_id=user.user_id, kind="planted", user_agent=f"x {user.backup_codes[0].lower()} y",
                               created_at=services.clock.now()))
        session.commit()
    with pytest.raises(AssertionError, match="user_agent"):
        assert_audit_holds_none_of(services, [raw(user.backup_codes[0])])
