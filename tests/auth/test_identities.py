"""A user's identities (wallet, email + password): every change behind a fresh second factor, never the last one.

Real flows on a real database copy, real bcrypt (cost 4), real pyotp and real
secp256k1 signatures (eth_account); time moves only with the FixedClock.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from eth_account import Account
from eth_account.messages import encode_defunct
from eth_account.signers.local import LocalAccount

from fuzzydice.auth import flows, identities, step_up
from fuzzydice.auth.identities import EMAIL_TAKEN, LAST_IDENTITY, WALLET_TAKEN
from fuzzydice.auth.step_up import NOT_FRESH
from fuzzydice.clock import FixedClock
from fuzzydice.models import User
from fuzzydice.services import Services
from fuzzydice.wallet import flows as wallet_flows
from tests.conftest import STRONG_PASSWORD, full_session, next_totp_code
from tests.mfa.conftest import code_at, enrol

ORIGIN = "http://127.0.0.1:3000"
TAB = "tab-token-1"
CHAIN = 31337  # the demo chain of the test settings
IP = "203.0.113.10"
NEW_PASSWORD = "copper lantern swims past midnight"


@dataclass
class Person:
    """An enrolled account, its session and whatever identities it has."""

    user_id: int
    secret: str
    token: str
    account: LocalAccount | None = None
    email: str | None = None




def sign(account: LocalAccount, text: str) -> str:
    """EIP-191 personal_sign, as a browser wallet does it."""
    return account.sign_message(encode_defunct(text=text)).signature.to_0x_hex()


def challenge(services: Services, account: LocalAccount, purpose: str, user_id: int | None, *, lower: bool = False):
    issued = wallet_flows.begin_sign_in(
        services, address=account.address.lower() if lower else account.address, chain_id=CHAIN, origin=ORIGIN,
        binding=TAB, purpose=purpose, user_id=user_id,
    )
    assert issued.nonce, issued.error
    return issued


def wallet_sign_in(services: Services, account: LocalAccount) -> wallet_flows.WalletSignIn:
    issued = challenge(services, account, "sign_in", None)
    return wallet_flows.complete_sign_in(services, nonce=issued.nonce, signature=sign(account, issued.message), binding=TAB)


def password_sign_in(services: Services, email: str, password: str = STRONG_PASSWORD) -> flows.SignInResult:
    return flows.sign_in_with_password(services, email=email, password=password, ip=IP)


def link(services: Services, person: Person, account: LocalAccount, *, signer: LocalAccount | None = None, **overrides) -> str:
    issued = challenge(services, account, overrides.pop("purpose", "link"), overrides.pop("for_user", person.user_id))
    return identities.link_wallet(
        services, token=person.token, user_id=person.user_id, nonce=issued.nonce,
        signature=sign(signer or account, issued.message), binding=TAB,
    )


def make_fresh(services: Services, clock: FixedClock, person: Person) -> None:
    """The real step-up: a `reauth` signature first for a wallet account, then a TOTP code."""
    if step_up.needs_wallet_signature(services, person.user_id):
        assert person.account is not None
        issued = challenge(services, person.account, "reauth", person.user_id)
        assert step_up.confirm_wallet(
            services, token=person.token, user_id=person.user_id, nonce=issued.nonce,
            signature=sign(person.account, issued.message), binding=TAB,
        ) == ""
    clock.advance(services.settings.totp_period)
    result = step_up.confirm_second_factor(services, token=person.token, user_id=person.user_id, code=code_at(services, person.secret))
    assert result.ok, result
    assert step_up.is_fresh(services, person.token, person.user_id)


def user_row(services: Services, user_id: int) -> dict:
    with services.db() as session:
        user = session.get(User, user_id)
        return {"email": user.email, "email_normalized": user.email_normalized,
                "password_hash": user.password_hash, "wallet_address": user.wallet_address}


@pytest.fixture
def password_person(services: Services, make_user: Callable[..., int]) -> Person:
    email = "ada@example.com"
    user_id = make_user(email)
    return Person(user_id, enrol(services, user_id).secret, full_session(services, user_id), email=email)


@pytest.fixture
def wallet_person(services: Services) -> Person:
    account = Account.create()
    signed_in = wallet_sign_in(services, account)
    assert signed_in.created
    enrolled = enrol(services, signed_in.user_id)
    return Person(signed_in.user_id, enrolled.secret, full_session(services, signed_in.user_id), account=account)


@pytest.fixture
def both_person(services: Services, clock: FixedClock, password_person: Person) -> Person:
    """A password account that has linked a wallet (through the real flow)."""
    account = Account.create()
    make_fresh(services, clock, password_person)
    assert link(services, password_person, account) == ""
    clock.advance(services.settings.step_up_lifetime)  # the freshness used for linking is over
    assert not step_up.is_fresh(services, password_person.token, password_person.user_id)
    password_person.account = account
    return password_person


# --- without a fresh second factor nothing changes --------------------------------------


def test_every_change_refuses_when_not_fresh_and_changes_nothing(
    services: Services, password_person: Person, wallet_person: Person, both_person: Person
) -> None:
    before = {p.user_id: user_row(services, p.user_id) for p in (password_person, wallet_person, both_person)}

    assert link(services, password_person, Account.create()) == NOT_FRESH
    assert identities.add_password(
        services, token=wallet_person.token, user_id=wallet_person.user_id, email="new@example.com", password=NEW_PASSWORD
    ) == {"form": NOT_FRESH}
    for change in (identities.unlink_wallet, identities.unlink_password):
        assert change(services, token=both_person.token, user_id=both_person.user_id) == NOT_FRESH
    # No token at all, or one that is not a session, is not fresh either.
    for token in (None, "", "forged-token"):
        assert identities.unlink_wallet(services, token=token, user_id=both_person.user_id) == NOT_FRESH

    assert {p.user_id: user_row(services, p.user_id) for p in (password_person, wallet_person, both_person)} == before
    assert password_sign_in(services, "new@example.com", NEW_PASSWORD).user_id is None


def test_freshness_of_another_session_or_a_wallet_signature_alone_does_not_allow_changes(
    services: Services, clock: FixedClock, both_person: Person
) -> None:
    other = Person(both_person.user_id, both_person.secret, full_session(services, both_person.user_id), both_person.account)
    make_fresh(services, clock, other)
    assert identities.unlink_password(services, token=both_person.token, user_id=both_person.user_id) == NOT_FRESH
    # A reauth signature without the code.
    issued = challenge(services, both_person.account, "reauth", both_person.user_id)
    assert step_up.confirm_wallet(
        services, token=both_person.token, user_id=both_person.user_id, nonce=issued.nonce,
        signature=sign(both_person.account, issued.message), binding=TAB,
    ) == ""
    assert identities.unlink_password(services, token=both_person.token, user_id=both_person.user_id) == NOT_FRESH
    assert user_row(services, both_person.user_id)["password_hash"] is not None


# --- linking a wallet ---------------------------------------------------------------------


def test_a_linked_wallet_signs_in_to_the_same_account(services: Services, clock: FixedClock, password_person: Person) -> None:
    account = Account.create()
    make_fresh(services, clock, password_person)
    issued = challenge(services, account, "link", password_person.user_id, lower=True)
    assert identities.link_wallet(
        services, token=password_person.token, user_id=password_person.user_id, nonce=issued.nonce,
        signature=sign(account, issued.message), binding=TAB,
    ) == ""
    assert user_row(services, password_person.user_id)["wallet_address"] == account.address  # EIP-55
    overview = identities.overview(services, token=password_person.token, user_id=password_person.user_id)
    assert overview == {"wallet_address": account.address, "email": "ada@example.com", "has_password": True, "fresh": True}

    by_wallet = wallet_sign_in(services, account)
    assert by_wallet.user_id == password_person.user_id and not by_wallet.created
    assert by_wallet.has_second_factor  # the same second factor guards both identities
    by_password = password_sign_in(services, "ada@example.com")
    assert by_password.user_id == password_person.user_id and by_password.has_second_factor


def test_linking_a_wallet_of_another_account_is_refused(
    services: Services, clock: FixedClock, password_person: Person, wallet_person: Person
) -> None:
    make_fresh(services, clock, password_person)
    assert link(services, password_person, wallet_person.account) == WALLET_TAKEN
    assert user_row(services, password_person.user_id)["wallet_address"] is None
    assert user_row(services, wallet_person.user_id)["wallet_address"] == wallet_person.account.address
    assert wallet_sign_in(services, wallet_person.account).user_id == wallet_person.user_id


def test_a_link_needs_the_wallets_own_signature_on_a_link_message_for_this_user(
    services: Services, clock: FixedClock, make_user: Callable[..., int], password_person: Person
) -> None:
    account, thief = Account.create(), Account.create()
    make_fresh(services, clock, password_person)
    someone_else = make_user()
    assert link(services, password_person, account, signer=thief) == wallet_flows.SIGN_IN_FAILED
    assert link(services, password_person, account, for_user=someone_else) == wallet_flows.SIGN_IN_FAILED
    assert link(services, password_person, account, for_user=None) == wallet_flows.SIGN_IN_FAILED
    assert link(services, password_person, account, purpose="reauth") == wallet_flows.SIGN_IN_FAILED
    assert link(services, password_person, account, purpose="sign_in") == wallet_flows.SIGN_IN_FAILED
    assert user_row(services, password_person.user_id)["wallet_address"] is None


def test_an_account_with_a_wallet_cannot_link_a_second_one(services: Services, clock: FixedClock, both_person: Person) -> None:
    make_fresh(services, clock, both_person)
    second = Account.create()
    assert link(services, both_person, second) == "This account already has a wallet: unlink it first."
    assert user_row(services, both_person.user_id)["wallet_address"] == both_person.account.address


# --- adding an email + password ---------------------------------------------------------


def test_add_password_checks_the_fields_in_plain_words(services: Services, clock: FixedClock, wallet_person: Person) -> None:
    make_fresh(services, clock, wallet_person)
    before = user_row(services, wallet_person.user_id)
    add = lambda email, password: identities.add_password(
        services, token=wallet_person.token, user_id=wallet_person.user_id, email=email, password=password
    )
    bad_email = add("not an email", NEW_PASSWORD)
    assert set(bad_email) == {"email"} and bad_email["email"].startswith("Enter a valid email address")
    assert add("  ", NEW_PASSWORD) == {"email": "Enter your email address."}
    both = add("", "short")
    assert set(both) == {"email", "password"}  # every field's problem at once
    short = add("satoshi@example.com", "short")
    assert short == {"password": "Use at least 8 characters."}
    guessable = add("satoshi@example.com", "password123")
    assert set(guessable) == {"password"} and guessable["password"]
    like_the_email = add("nakamoto.satoshi@example.com", "nakamoto.satoshi")
    assert set(like_the_email) == {"password"}
    for errors in (bad_email, guessable, like_the_email):  # sentences for people, not codes or dumps
        assert all(text[0].isupper() and text.endswith((".", ")")) and "zxcvbn" not in text for text in errors.values())
    assert user_row(services, wallet_person.user_id) == before


def test_an_added_password_signs_in_to_the_same_account(services: Services, clock: FixedClock, wallet_person: Person) -> None:
    make_fresh(services, clock, wallet_person)
    assert identities.add_password(
        services, token=wallet_person.token, user_id=wallet_person.user_id, email="  Satoshi@Example.com ", password=NEW_PASSWORD
    ) == {}
    overview = identities.overview(services, token=wallet_person.token, user_id=wallet_person.user_id)
    assert overview == {
        "wallet_address": wallet_person.account.address, "email": "Satoshi@Example.com", "has_password": True, "fresh": True,
    }
    by_password = password_sign_in(services, "satoshi@example.com", NEW_PASSWORD)
    assert by_password.user_id == wallet_person.user_id and by_password.has_second_factor
    assert password_sign_in(services, "satoshi@example.com", NEW_PASSWORD + "!").user_id is None
    assert wallet_sign_in(services, wallet_person.account).user_id == wallet_person.user_id


def test_add_password_refuses_an_email_of_another_account(
    services: Services, clock: FixedClock, make_user: Callable[..., int], wallet_person: Person
) -> None:
    other = make_user("taken@example.com")
    make_fresh(services, clock, wallet_person)
    for email in ("taken@example.com", "TAKEN@Example.COM"):
        assert identities.add_password(
            services, token=wallet_person.token, user_id=wallet_person.user_id, email=email, password=NEW_PASSWORD
        ) == {"email": EMAIL_TAKEN}
    assert user_row(services, wallet_person.user_id)["password_hash"] is None
    assert password_sign_in(services, "taken@example.com").user_id == other
    assert password_sign_in(services, "taken@example.com", NEW_PASSWORD).user_id is None


def test_add_password_does_not_replace_an_existing_password(services: Services, clock: FixedClock, both_person: Person) -> None:
    # Changing a password needs the current one: this path must not be a way around it.
    make_fresh(services, clock, both_person)
    before = user_row(services, both_person.user_id)
    errors = identities.add_password(
        services, token=both_person.token, user_id=both_person.user_id, email="ada@example.com", password=NEW_PASSWORD
    )
    assert errors == {"form": identities.HAS_PASSWORD}
    assert user_row(services, both_person.user_id) == before
    assert password_sign_in(services, "ada@example.com").user_id == both_person.user_id
    assert password_sign_in(services, "ada@example.com", NEW_PASSWORD).user_id is None


# --- unlinking ------------------------------------------------------------------------------


def test_the_only_wallet_cannot_be_unlinked(services: Services, clock: FixedClock, wallet_person: Person) -> None:
    make_fresh(services, clock, wallet_person)
    assert identities.unlink_wallet(services, token=wallet_person.token, user_id=wallet_person.user_id) == LAST_IDENTITY
    assert user_row(services, wallet_person.user_id)["wallet_address"] == wallet_person.account.address
    assert wallet_sign_in(services, wallet_person.account).user_id == wallet_person.user_id


def test_unlinking_the_wallet_keeps_the_password(services: Services, clock: FixedClock, both_person: Person) -> None:
    make_fresh(services, clock, both_person)
    assert identities.unlink_wallet(services, token=both_person.token, user_id=both_person.user_id) == ""
    overview = identities.overview(services, token=both_person.token, user_id=both_person.user_id)
    assert overview == {"wallet_address": "", "email": "ada@example.com", "has_password": True, "fresh": True}
    assert password_sign_in(services, "ada@example.com").user_id == both_person.user_id
    # The wallet no longer leads here: signing in with it makes a new, separate account.
    again = wallet_sign_in(services, both_person.account)
    assert again.created and again.user_id is not None and again.user_id != both_person.user_id
    assert not again.has_second_factor


def test_the_only_password_cannot_be_unlinked(services: Services, clock: FixedClock, password_person: Person) -> None:
    make_fresh(services, clock, password_person)
    before = user_row(services, password_person.user_id)
    assert identities.unlink_password(services, token=password_person.token, user_id=password_person.user_id) == LAST_IDENTITY
    assert user_row(services, password_person.user_id) == before
    assert password_sign_in(services, "ada@example.com").user_id == password_person.user_id


def test_unlinking_the_password_keeps_the_wallet(services: Services, clock: FixedClock, both_person: Person) -> None:
    make_fresh(services, clock, both_person)
    assert identities.unlink_password(services, token=both_person.token, user_id=both_person.user_id) == ""
    overview = identities.overview(services, token=both_person.token, user_id=both_person.user_id)
    assert overview == {"wallet_address": both_person.account.address, "email": "", "has_password": False, "fresh": True}
    assert password_sign_in(services, "ada@example.com").user_id is None
    assert wallet_sign_in(services, both_person.account).user_id == both_person.user_id
    # Now the wallet is the last identity.
    assert identities.unlink_wallet(services, token=both_person.token, user_id=both_person.user_id) == LAST_IDENTITY
    # The email is free again for a new account.
    assert flows.register(services, name="New Ada", email="ada@example.com", password=STRONG_PASSWORD).user_id


def test_overview_reports_identities_and_freshness(
    services: Services, clock: FixedClock, password_person: Person, wallet_person: Person
) -> None:
    assert identities.overview(services, token=password_person.token, user_id=password_person.user_id) == {
        "wallet_address": "", "email": "ada@example.com", "has_password": True, "fresh": False,
    }
    assert identities.overview(services, token=wallet_person.token, user_id=wallet_person.user_id) == {
        "wallet_address": wallet_person.account.address, "email": "", "has_password": False, "fresh": False,
    }
    make_fresh(services, clock, wallet_person)
    assert identities.overview(services, token=wallet_person.token, user_id=wallet_person.user_id)["fresh"]
    clock.advance(services.settings.step_up_lifetime)
    assert not identities.overview(services, token=wallet_person.token, user_id=wallet_person.user_id)["fresh"]


def test_a_change_of_identities_ends_the_other_sessions(services: Services, clock: FixedClock, make_user) -> None:
    person = enrol(services, make_user())
    here, elsewhere = full_session(services, person.user_id), full_session(services, person.user_id)
    code = next_totp_code(services, clock, person.secret)
    assert step_up.confirm_second_factor(services, token=here, user_id=person.user_id, code=code).ok
    assert identities.unlink_password(services, token=here, user_id=person.user_id) == identities.LAST_IDENTITY
    assert flows.current_session(services, elsewhere) is not None  # nothing changed, nobody signed out
    account = Account.create()
    issued = wallet_flows.begin_sign_in(
        services, address=account.address, chain_id=31337, origin="http://127.0.0.1:3000", binding="tab",
        purpose="link", user_id=person.user_id,
    )
    signature = account.sign_message(encode_defunct(text=issued.message)).signature.to_0x_hex()
    assert identities.link_wallet(
        services, token=here, user_id=person.user_id, nonce=issued.nonce, signature=signature, binding="tab"
    ) == ""
    assert flows.current_session(services, elsewhere) is None
    assert flows.current_session(services, here) is not None
