"""The home page's authorizations: the account's second factors and its live sessions, its own only."""

from __future__ import annotations

from datetime import timedelta

from fuzzydice.auth import flows
from fuzzydice.auth.authorizations import authorizations
from fuzzydice.mfa import flows as mfa_flows
from tests.conftest import full_session, pending_session


def test_a_new_account_has_no_factor_and_no_session(services, make_user):
    found = authorizations(services, make_user())
    assert found.factor_kinds == () and found.backup_codes_left == 0
    assert (found.signed_in_sessions, found.pending_sessions) == (0, 0)


def test_factors_by_kind_and_live_sessions_counted_by_level(services, user, make_user):
    before = authorizations(services, user.user_id)
    assert before.factor_kinds == ("totp", "backup_codes")
    assert before.backup_codes_left == 10

    assert mfa_flows.remaining_backup_codes(services, user.user_id) == before.backup_codes_left
    full_tokens = [full_session(services, user.user_id) for _ in range(2)]
    pending_session(services, user.user_id)
    other = make_user()
    full_session(services, other)  # another account's sessions are not this one's
    pending_session(services, other)

    now = authorizations(services, user.user_id)
    assert now.signed_in_sessions == before.signed_in_sessions + 2
    assert now.pending_sessions == before.pending_sessions + 1
    assert authorizations(services, other).signed_in_sessions == 1

    # A signed-out session no longer counts.
    flows.sign_out(services, full_tokens[0])
    assert authorizations(services, user.user_id).signed_in_sessions == before.signed_in_sessions + 1

    # Expired ones neither: a first step alone lasts minutes, a full session its idle time.
    services.clock.advance(services.settings.pending_second_step + timedelta(seconds=1))
    assert authorizations(services, user.user_id).pending_sessions == 0
    services.clock.advance(services.settings.session_idle)
    assert authorizations(services, user.user_id).signed_in_sessions == 0
