"""Attack: a sign-in still on its way survives a change of the second factor.

Before the fix, a hand-off ticket issued before "new backup codes" and redeemed after it gave
a live session that read the new codes. Ending the user's other sessions now also ends their
unclaimed tickets and unsigned wallet challenges.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from eth_account import Account

from fuzzydice.auth import flows, identity_rows, step_up
from fuzzydice.auth.sessions import FULL
from fuzzydice.clock import FixedClock
from fuzzydice.mfa import flows as mfa_flows
from fuzzydice.models import SiweChallenge
from fuzzydice.services import Services
from fuzzydice.wallet import flows as wallet_flows
from tests.conftest import full_session, next_totp_code, session_id_of
from tests.mfa.conftest import enrol
from tests.wallet_steps import ORIGIN, sign


def test_a_ticket_issued_before_new_backup_codes_is_dead_after_them(
    services: Services, clock: FixedClock, make_user: Callable[..., int]
) -> None:
    user = enrol(services, make_user())
    owner = full_session(services, user.user_id)
    # Another browser finished its second step; its ticket waits to be redeemed.
    waiting = flows.start_session_handoff(
        services, user_id=user.user_id, factor_level=FULL, remember=False, next_path="/user/home", tab="other-tab"
    )
    here = session_id_of(services, owner)
    assert step_up.confirm_second_factor(
        services, session_id=here, user_id=user.user_id, code=next_totp_code(services, clock, user.secret)
    ).ok
    assert mfa_flows.regenerate_backup_codes(services, user_id=user.user_id, session_id=here).ok

    claimed = flows.claim_session(
        services, ticket=waiting.ticket, bind=waiting.bind, tab="other-tab", ip=None, user_agent=None
    )
    assert claimed is None
    assert flows.current_session(services, owner) is not None  # the owner's own session stays


def test_unsigned_wallet_challenges_of_the_user_die_with_a_factor_change(
    services: Services, clock: FixedClock, make_user: Callable[..., int]
) -> None:
    user = enrol(services, make_user())
    wallet = Account.create()
    with services.db() as session:
        identity_rows.add_wallet(session, user_id=user.user_id, address=wallet.address, now=clock.now())
        session.commit()
    owner = full_session(services, user.user_id)
    chain = next(iter(services.settings.allowed_chains))
    for purpose, user_id in (("sign_in", None), ("reauth", user.user_id)):
        challenge = wallet_flows.begin_sign_in(
            services, address=wallet.address, chain_id=chain, origin=ORIGIN, binding="other-tab",
            purpose=purpose, user_id=user_id, ip="198.51.100.7",
        )
        assert challenge.ok, challenge
    # The owner confirms with the wallet (its own tab), then the code, then gets new backup codes.
    reauth = wallet_flows.begin_sign_in(
        services, address=wallet.address, chain_id=chain, origin=ORIGIN, binding="owner-tab", purpose="reauth",
        user_id=user.user_id,
    ).value
    signature = sign(wallet, reauth.message)
    assert step_up.confirm_wallet(
        services, session_id=session_id_of(services, owner), user_id=user.user_id, nonce=reauth.nonce,
        signature=signature, binding="owner-tab",
    ).ok
    assert step_up.confirm_second_factor(
        services, session_id=session_id_of(services, owner), user_id=user.user_id,
        code=next_totp_code(services, clock, user.secret),
    ).ok
    assert mfa_flows.regenerate_backup_codes(services, user_id=user.user_id, session_id=session_id_of(services, owner)).ok
    with services.db() as session:
        assert session.execute(sa.select(sa.func.count()).select_from(SiweChallenge)).scalar_one() == 0
