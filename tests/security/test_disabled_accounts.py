"""Attack review #7, finding 2: only an operator can shut an account, and then every way in is shut.

The permanent lock strangers could set is gone; `users.disabled_at` is an operator's
switch (`python -m fuzzydice.admin`). A disabled account cannot sign in by password or
by wallet, and its live sessions stop at once. Whoever proves the credential is told
the account is disabled; a wrong credential gets the usual answer (no enumeration).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
import sqlalchemy as sa
from eth_account import Account

from fuzzydice import admin
from fuzzydice.auth import flows
from fuzzydice.clock import FixedClock
from fuzzydice.models import AuthSession, User
from fuzzydice.outcome import Code, Failure
from fuzzydice.services import Services
from tests.conftest import STRONG_PASSWORD, full_session
from tests.first_factor import user_of
from tests.wallet_steps import wallet_sign_in

EMAIL = "ada@example.com"
IP = "203.0.113.10"


def operator(services: Services, *args: str) -> int:
    return admin.main(list(args), settings=services.settings)


@pytest.fixture
def ada(make_user: Callable[..., int]) -> int:
    return make_user(EMAIL)


def test_a_disabled_account_cannot_sign_in_by_password(services: Services, ada: int, capsys) -> None:
    assert operator(services, "disable", "ADA@example.com") == 0
    assert "disabled" in capsys.readouterr().out
    right = flows.sign_in_with_password(services, email=EMAIL, password=STRONG_PASSWORD, ip=IP)
    assert right == Failure(Code.ACCOUNT_DISABLED)
    wrong = flows.sign_in_with_password(services, email=EMAIL, password="not the password", ip=IP)
    unknown = flows.sign_in_with_password(services, email="nobody@example.com", password="not the password", ip=IP)
    assert wrong == unknown == Failure(Code.WRONG_CREDENTIALS)  # a wrong password learns nothing

    assert operator(services, "enable", EMAIL) == 0
    assert user_of(flows.sign_in_with_password(services, email=EMAIL, password=STRONG_PASSWORD, ip=IP)) == ada


def test_a_disabled_wallet_account_cannot_sign_in(services: Services) -> None:
    account = Account.create()
    first = wallet_sign_in(services, account).value
    assert operator(services, "disable", account.address.lower()) == 0
    refused = wallet_sign_in(services, account)
    assert refused == Failure(Code.ACCOUNT_DISABLED)
    other = wallet_sign_in(services, Account.create()).value  # another wallet is not affected
    assert other.user_id != first.user_id
    assert operator(services, "enable", account.address) == 0
    assert wallet_sign_in(services, account).value.user_id == first.user_id


def test_a_disabled_accounts_sessions_stop(services: Services, ada: int) -> None:
    token = full_session(services, ada)
    assert flows.current_session(services, token) is not None
    assert operator(services, "disable", EMAIL) == 0
    assert flows.current_session(services, token) is None
    with services.db() as session:
        assert session.execute(sa.select(AuthSession.id).where(AuthSession.user_id == ada)).first() is None


def test_session_lookup_itself_refuses_a_disabled_account(services: Services, ada: int, clock: FixedClock) -> None:
    """Even when the flag is set behind the app's back (SQL, another tool), the session lookup refuses it."""
    token = full_session(services, ada)
    with services.db() as session:
        session.execute(sa.update(User.__table__).where(User.__table__.c.id == ada).values(disabled_at=clock.now()))
        session.commit()
    assert flows.current_session(services, token) is None


def test_the_operator_command_names_accounts_by_email_or_wallet(services: Services, ada: int, capsys) -> None:
    assert operator(services, "disable", EMAIL) == 0
    assert operator(services, "disable", EMAIL) == 0
    assert "already disabled" in capsys.readouterr().out
    assert operator(services, "enable", "nobody@example.com") == 1
    assert operator(services, "enable", "0x" + "ab" * 20) == 1
    with pytest.raises(SystemExit):
        operator(services, "lock", EMAIL)
