"""Changes to the second factor itself; each needs a fresh second factor and ends the user's other sessions."""

from __future__ import annotations

from fuzzydice.auth.step_up import NOT_FRESH, end_other_sessions, is_fresh
from fuzzydice.mfa import flows as mfa_flows
from fuzzydice.mfa.flows import Enrolment, SecondStepResult
from fuzzydice.services import Services


def begin_reenrolment(services: Services, *, token: str, user_id: int) -> Enrolment | str:
    """A new authenticator secret to scan (the old one works until the new one is confirmed), or an error."""
    if not is_fresh(services, token, user_id):
        return NOT_FRESH
    return mfa_flows.pending_enrolment(services, user_id, replacing=True)


def finish_reenrolment(services: Services, *, token: str, user_id: int, code: str) -> SecondStepResult:
    """Confirm the new secret with a code from it; the old secret dies."""
    if not is_fresh(services, token, user_id):
        return SecondStepResult(False, NOT_FRESH)
    result = mfa_flows.activate_totp(services, user_id, code)
    if result.ok:
        end_other_sessions(services, token=token, user_id=user_id)
    return result


def new_backup_codes(services: Services, *, token: str, user_id: int) -> str:
    """Replace every backup code (shown on the backup-codes page until Continue); returns an error or ''."""
    if not is_fresh(services, token, user_id):
        return NOT_FRESH
    mfa_flows.regenerate_backup_codes(services, user_id)
    end_other_sessions(services, token=token, user_id=user_id)
    return ""
