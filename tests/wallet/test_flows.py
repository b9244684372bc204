"""Wallet sign-in flows on a real database: the server's SIWE message, one use, binding, expiry."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from eth_account import Account
from eth_account.messages import encode_defunct

from fuzzydice.services import Services
from fuzzydice.siwe import SiweMessage
from fuzzydice.wallet import flows

ORIGIN = "http://127.0.0.1:3000"
TAB = "tab-token-1"


@pytest.fixture
def demo_services(services: Services) -> Services:
    assert services.settings.allowed_chains == {31337: "http://127.0.0.1:8545"}
    return services


def sign(account, text: str) -> str:
    return account.sign_message(encode_defunct(text=text)).signature.to_0x_hex()


def begin(services: Services, account, **overrides) -> flows.Challenge:
    args = {"address": account.address, "chain_id": 31337, "origin": ORIGIN, "binding": TAB, **overrides}
    return flows.begin_sign_in(services, **args)


def test_the_server_writes_the_whole_message(demo_services: Services, clock) -> None:
    account = Account.create()
    challenge = begin(demo_services, account, address=account.address.lower())
    message = SiweMessage.parse(challenge.message)
    assert message.domain == "127.0.0.1:3000" and message.uri == f"{ORIGIN}/login"
    assert message.address == account.address  # EIP-55
    assert message.chain_id == 31337 and message.version == "1"
    assert message.statement == demo_services.settings.siwe_statement
    assert re.fullmatch(r"[A-Za-z0-9]{16,}", message.nonce) and message.nonce == challenge.nonce
    assert abs((message.issued_at_datetime - clock.now()).total_seconds()) < 0.001
    assert message.expiration_datetime - message.issued_at_datetime == timedelta(minutes=5)
    assert begin(demo_services, account).nonce != challenge.nonce


def test_sign_in_creates_then_loads_the_account(demo_services: Services) -> None:
    account = Account.create()
    first = begin(demo_services, account)
    created = flows.complete_sign_in(demo_services, nonce=first.nonce, signature=sign(account, first.message), binding=TAB)
    assert created.user_id and created.created and created.address == account.address
    assert not created.has_second_factor
    second = begin(demo_services, account)
    loaded = flows.complete_sign_in(demo_services, nonce=second.nonce, signature=sign(account, second.message), binding=TAB)
    assert loaded.user_id == created.user_id and not loaded.created


def test_a_signed_message_works_once(demo_services: Services) -> None:
    account = Account.create()
    challenge = begin(demo_services, account)
    signature = sign(account, challenge.message)
    assert flows.complete_sign_in(demo_services, nonce=challenge.nonce, signature=signature, binding=TAB).user_id
    replay = flows.complete_sign_in(demo_services, nonce=challenge.nonce, signature=signature, binding=TAB)
    assert replay.user_id is None and replay.error == flows.SIGN_IN_FAILED


def test_the_challenge_belongs_to_the_tab_that_asked(demo_services: Services) -> None:
    account = Account.create()
    challenge = begin(demo_services, account)
    signature = sign(account, challenge.message)
    stolen = flows.complete_sign_in(demo_services, nonce=challenge.nonce, signature=signature, binding="other-tab")
    assert stolen.user_id is None
    # A failed attempt burns it: the right tab cannot use it afterwards either.
    assert flows.complete_sign_in(demo_services, nonce=challenge.nonce, signature=signature, binding=TAB).user_id is None


def test_the_challenge_expires_with_the_message(demo_services: Services, clock) -> None:
    account = Account.create()
    challenge = begin(demo_services, account)
    clock.advance(demo_services.settings.siwe_message_ttl)
    late = flows.complete_sign_in(demo_services, nonce=challenge.nonce, signature=sign(account, challenge.message), binding=TAB)
    assert late.user_id is None and late.error == flows.EXPIRED


def test_unknown_address_and_bad_signature_get_the_same_answer(demo_services: Services) -> None:
    known, stranger, thief = Account.create(), Account.create(), Account.create()
    challenge = begin(demo_services, known)
    assert flows.complete_sign_in(demo_services, nonce=challenge.nonce, signature=sign(known, challenge.message), binding=TAB).user_id

    answers = []
    for owner in (known, stranger):
        challenge = begin(demo_services, owner)
        answers.append(
            flows.complete_sign_in(demo_services, nonce=challenge.nonce, signature=sign(thief, challenge.message), binding=TAB)
        )
    assert answers[0] == answers[1] == flows.WalletSignIn(error=flows.SIGN_IN_FAILED)


def test_a_signature_over_other_text_is_refused(demo_services: Services) -> None:
    account = Account.create()
    challenge = begin(demo_services, account)
    tampered = challenge.message.replace("Chain ID: 31337", "Chain ID: 1")
    result = flows.complete_sign_in(demo_services, nonce=challenge.nonce, signature=sign(account, tampered), binding=TAB)
    assert result.user_id is None


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"chain_id": 1}, "network 1"),
        ({"address": "0x123"}, "40 hexadecimal digits"),
        ({"address": "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756cC2"}, "checksum"),
        ({"origin": ""}, "reload"),
    ],
)
def test_bad_requests_get_a_clear_message(demo_services: Services, overrides, expected) -> None:
    challenge = begin(demo_services, Account.create(), **overrides)
    assert challenge.message == "" and expected in challenge.error


def test_production_without_chains_refuses_wallet_sign_in(services: Services) -> None:
    services.settings.mode = "production"
    try:
        challenge = begin(services, Account.create())
    finally:
        services.settings.mode = "demo"
    assert "not set up" in challenge.error


def test_sign_out_kills_the_tabs_unsigned_challenges(demo_services: Services) -> None:
    from fuzzydice.wallet.challenges import forget_tab_challenges

    account = Account.create()
    mine, theirs = begin(demo_services, account), begin(demo_services, account, binding="other-tab")
    assert forget_tab_challenges(demo_services, TAB) == 1
    assert flows.complete_sign_in(demo_services, nonce=mine.nonce, signature=sign(account, mine.message), binding=TAB).user_id is None
    assert flows.complete_sign_in(
        demo_services, nonce=theirs.nonce, signature=sign(account, theirs.message), binding="other-tab"
    ).user_id


@pytest.mark.parametrize("chain_id", [0, -1, 2**53, 16**4000], ids=["zero", "negative", "2**53", "4000-hex-digits"])
def test_a_chain_id_out_of_range_is_no_network_and_stores_nothing(demo_services: Services, chain_id: int) -> None:
    # A 4,000-hex-digit id once crashed on its way into the "wrong network" message.
    challenge = begin(demo_services, Account.create(), chain_id=chain_id)
    assert challenge.error == flows.NO_NETWORK and not challenge.nonce
