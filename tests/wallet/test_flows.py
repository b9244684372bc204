"""Wallet sign-in flows on a real database: the server's SIWE message, one use, binding, expiry, typed outcomes, audit."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from eth_account import Account

from fuzzydice import audit
from fuzzydice.models import AuditEvent, Identity
from fuzzydice.outcome import Code
from fuzzydice.services import Services
from fuzzydice.siwe import SiweMessage
from fuzzydice.ui.messages import field_messages, say
from fuzzydice.wallet import flows
from tests.wallet_steps import CHAIN, ORIGIN, TAB, begin, challenge, sign, wallet_sign_in

IP = "198.51.100.7"


@pytest.fixture
def demo_services(services: Services) -> Services:
    assert services.settings.allowed_chains == {CHAIN: "http://127.0.0.1:8545", 31338: "http://127.0.0.1:8546"}
    return services


def sign_in_entries(services: Services) -> list[tuple]:
    """Every SIGN_IN / REGISTERED audit entry: (action, user id, result, details), oldest first."""
    table = AuditEvent.__table__
    with services.db() as session:
        found = session.execute(
            sa.select(table.c.kind, table.c.user_id, table.c.result, table.c.details)
            .where(table.c.kind.in_(["sign_in", "registered"]))
            .order_by(table.c.id)
        ).all()
    return [(row.kind, row.user_id, row.result, audit_details(row.details)) for row in found]


def audit_details(text: str | None) -> dict:
    return json.loads(text) if text else {}


def test_the_server_writes_the_whole_message(demo_services: Services, clock) -> None:
    account = Account.create()
    issued = challenge(demo_services, account, address=account.address.lower())
    message = SiweMessage.parse(issued.message)
    assert message.domain == "127.0.0.1:3000" and message.uri == f"{ORIGIN}/login"
    assert message.address == account.address  # EIP-55
    assert message.chain_id == 31337 and message.version == "1"
    assert message.statement == demo_services.settings.siwe_statement
    assert re.fullmatch(r"[A-Za-z0-9]{16,}", message.nonce) and message.nonce == issued.nonce
    assert abs((message.issued_at_datetime - clock.now()).total_seconds()) < 0.001
    assert message.expiration_datetime - message.issued_at_datetime == timedelta(minutes=5)
    assert challenge(demo_services, account).nonce != issued.nonce


def test_sign_in_creates_then_loads_the_account_and_audits_both(demo_services: Services) -> None:
    account = Account.create()
    created = wallet_sign_in(demo_services, account, ip=IP, user_agent="Test Browser")
    assert created.ok and created.value.created and created.value.address == account.address
    assert not created.value.step.needs_code
    loaded = wallet_sign_in(demo_services, account)
    assert loaded.ok and loaded.value.user_id == created.value.user_id and not loaded.value.created
    uid = created.value.user_id
    used = {"method": "wallet", "address": account.address}
    assert sign_in_entries(demo_services) == [
        ("registered", uid, "ok", used), ("sign_in", uid, "ok", used), ("sign_in", uid, "ok", used),
    ]
    with demo_services.db() as session:
        row = session.execute(sa.select(Identity).where(Identity.user_id == uid)).scalar_one()
    assert (row.kind, row.identifier, row.last_used_at) == ("wallet", account.address, demo_services.clock.now())
    first = audit.events(demo_services, uid)[-1]
    assert (first.ip, first.user_agent) == (IP, "Test Browser")


def test_a_signed_message_works_once(demo_services: Services) -> None:
    account = Account.create()
    issued = challenge(demo_services, account)
    signature = sign(account, issued.message)
    assert flows.complete_sign_in(demo_services, nonce=issued.nonce, signature=signature, binding=TAB).ok
    replay = flows.complete_sign_in(demo_services, nonce=issued.nonce, signature=signature, binding=TAB)
    assert replay.code == Code.CHALLENGE_UNKNOWN and replay.detail is None


def test_the_challenge_belongs_to_the_tab_that_asked(demo_services: Services) -> None:
    account = Account.create()
    issued = challenge(demo_services, account)
    signature = sign(account, issued.message)
    stolen = flows.complete_sign_in(demo_services, nonce=issued.nonce, signature=signature, binding="other-tab")
    assert stolen.code == Code.CHALLENGE_UNKNOWN
    # A failed attempt burns it: the right tab cannot use it afterwards either.
    assert flows.complete_sign_in(demo_services, nonce=issued.nonce, signature=signature, binding=TAB).code == (
        Code.CHALLENGE_UNKNOWN
    )


def test_the_challenge_expires_with_the_message(demo_services: Services, clock) -> None:
    account = Account.create()
    issued = challenge(demo_services, account)
    clock.advance(demo_services.settings.siwe_message_ttl)
    late = flows.complete_sign_in(demo_services, nonce=issued.nonce, signature=sign(account, issued.message), binding=TAB)
    assert (late.code, late.detail) == (Code.CHALLENGE_UNKNOWN, "expired")
    assert say(late) == "The sign-in request expired. Please try again."


def test_unknown_address_and_bad_signature_get_the_same_answer(demo_services: Services) -> None:
    known, stranger, thief = Account.create(), Account.create(), Account.create()
    owner = wallet_sign_in(demo_services, known).value.user_id
    answers = []
    for account in (known, stranger):
        issued = challenge(demo_services, account)
        answers.append(
            flows.complete_sign_in(demo_services, nonce=issued.nonce, signature=sign(thief, issued.message), binding=TAB)
        )
    assert answers[0] == answers[1]
    assert (answers[0].code, answers[0].detail) == (Code.SIGNATURE_INVALID, "invalid_signature")
    # The trail: a failed sign-in on the known wallet's account, one without an account for the stranger.
    failed = [e for e in sign_in_entries(demo_services) if e[2] == "failed"]
    reason = {"method": "wallet", "reason": "signature_invalid"}
    assert failed == [("sign_in", owner, "failed", reason), ("sign_in", None, "failed", reason)]


def test_a_signature_over_other_text_is_refused(demo_services: Services) -> None:
    account = Account.create()
    issued = challenge(demo_services, account)
    tampered = issued.message.replace("Chain ID: 31337", "Chain ID: 1")
    result = flows.complete_sign_in(demo_services, nonce=issued.nonce, signature=sign(account, tampered), binding=TAB)
    assert result.code == Code.SIGNATURE_INVALID


def test_a_malformed_signature_says_which_check_failed(demo_services: Services) -> None:
    issued = challenge(demo_services, Account.create())
    result = flows.complete_sign_in(demo_services, nonce=issued.nonce, signature="0x1234", binding=TAB)
    assert (result.code, result.detail) == (Code.SIGNATURE_INVALID, "malformed_signature")


@pytest.mark.parametrize(
    ("overrides", "field", "problem", "words"),
    [
        ({"chain_id": 0}, "chain_id", "no_network", "did not say which network"),
        ({"address": "0x123"}, "address", "address_invalid", "40 hexadecimal digits"),
        ({"address": "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756cC2"}, "address", "address_checksum", "checksum"),
        ({"origin": ""}, "origin", "origin_unknown", "reload"),
    ],
)
def test_bad_requests_name_the_bad_field(demo_services: Services, overrides, field, problem, words) -> None:
    refused = begin(demo_services, Account.create(), **overrides)
    assert refused.code == Code.INVALID_INPUT and refused.fields[field].code == problem
    assert words in field_messages(refused)[field]


def test_another_network_is_named_with_the_ones_this_site_uses(demo_services: Services) -> None:
    refused = begin(demo_services, Account.create(), chain_id=1)
    assert (refused.code, refused.detail) == (Code.CHAIN_NOT_SUPPORTED, "1")
    assert say(refused, demo_services.settings) == (
        "Your wallet is on Ethereum, which this site does not use. "
        "Switch to Local Ethereum (anvil) or Local L2 (anvil) and try again."
    )


def test_an_unknown_network_is_not_named_by_its_number(demo_services: Services) -> None:
    refused = begin(demo_services, Account.create(), chain_id=777777)
    words = say(refused, demo_services.settings)
    assert words.startswith("Your wallet is on a network, which this site does not use.")
    assert "777777" not in words


def test_production_without_chains_refuses_wallet_sign_in(services: Services) -> None:
    services.settings.mode = "production"
    try:
        refused = begin(services, Account.create())
        assert refused.code == Code.CHAIN_NOT_SUPPORTED
        assert "not set up" in say(refused, services.settings)
    finally:
        services.settings.mode = "demo"


def test_sign_out_kills_the_tabs_unsigned_challenges(demo_services: Services) -> None:
    from fuzzydice.wallet.challenges import forget_tab_challenges

    account = Account.create()
    mine, theirs = challenge(demo_services, account), challenge(demo_services, account, binding="other-tab")
    assert forget_tab_challenges(demo_services, TAB) == 1
    assert not flows.complete_sign_in(demo_services, nonce=mine.nonce, signature=sign(account, mine.message), binding=TAB).ok
    assert flows.complete_sign_in(
        demo_services, nonce=theirs.nonce, signature=sign(account, theirs.message), binding="other-tab"
    ).ok


@pytest.mark.parametrize("chain_id", [0, -1, 2**53, 16**4000], ids=["zero", "negative", "2**53", "4000-hex-digits"])
def test_a_chain_id_out_of_range_is_no_network_and_stores_nothing(demo_services: Services, chain_id: int) -> None:
    # A 4,000-hex-digit id once crashed on its way into the "wrong network" message.
    refused = begin(demo_services, Account.create(), chain_id=chain_id)
    assert refused.code == Code.INVALID_INPUT and refused.fields["chain_id"].code == "no_network"
    assert field_messages(refused) == {"chain_id": "Your wallet did not say which network it is on. Please try again."}


def test_a_flood_of_completions_is_refused_with_one_throttled_entry_per_window(demo_services: Services, clock) -> None:
    limit = demo_services.settings.wallet_sign_in_ip_limit
    for n in range(limit + 5):
        answer = flows.complete_sign_in(demo_services, nonce=f"nonce{n}", signature="0x00", binding=TAB, ip=IP)
        assert answer.code == (Code.CHALLENGE_UNKNOWN if n < limit else Code.RATE_LIMITED), n
    assert answer.retry_at is not None and answer.retry_at > clock.now()
    throttled = [e for e in sign_in_entries(demo_services) if e[2] == "throttled"]
    assert throttled == [("sign_in", None, "throttled", {"method": "wallet"})]
    clock.advance(demo_services.settings.wallet_sign_in_ip_window)
    assert flows.complete_sign_in(demo_services, nonce="again", signature="0x00", binding=TAB, ip=IP).code == (
        Code.CHALLENGE_UNKNOWN
    )
