"""Changes to the second factor itself; each needs a fresh second factor and ends the user's other sessions."""

from __future__ import annotations

from fuzzydice.auth.step_up import NOT_FRESH, end_other_sessions, fresh_session_id
from fuzzydice.mfa import flows as mfa_flows
from fuzzydice.mfa.flows import Enrolment, SecondStepResult
from fuzzydice.services import Services


def begin_reenrolment(services: Services, *, token: str, user_id: int) -> Enrolment | str:
    """A new authenticator secret for this session to scan (the old one works until the new one is confirmed), or an error."""
    session_id = fresh_session_id(services, token, user_id)
    if session_id is None:
        return NOT_FRESH
    return mfa_flows.pending_enrolment(services, user_id=user_id, session_id=session_id, replacing=True)


def finish_reenrolment(services: Services, *, token: str, user_id: int, code: str) -> SecondStepResult:
    """Confirm this session's new secret with a code from it; the old secret dies."""
    session_id = fresh_session_id(services, token, user_id)
    if session_id is None:
        return SecondStepResult(False, NOT_FRESH)
    result = mfa_flows.activate_totp(services, user_id=user_id, session_id=session_id, code=code)
    if result.ok:
        end_other_sessions(services, token=token, user_id=user_id)
    return result


def new_backup_codes(services: Services, *, token: str, user_id: int) -> str:
    """Replace every backup code (shown to this session on the backup-codes page until Continue); returns an error or ''."""
    session_id = fresh_session_id(services, token, user_id)
    if session_id is None:
        return NOT_FRESH
    mfa_flows.regenerate_backup_codes(services, user_id=user_id, session_id=session_id)
    end_other_sessions(services, token=token, user_id=user_id)
    return ""
