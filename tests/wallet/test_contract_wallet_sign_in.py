"""Wallet sign-in with an EIP-1271 contract wallet on a real anvil: the owner's key signs for the contract.

The project's TestWallet accepts its owner's ECDSA signature over the EIP-191
hash, which is what `wallet.flows` asks it about when the signature does not
recover to the message's address. Nothing is mocked; the dead chain is a real
closed port.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from eth_account import Account
from eth_account.messages import encode_defunct
from eth_account.signers.local import LocalAccount

from fuzzydice.chain.devchain import DevChain, free_port
from fuzzydice.chain.testing import deploy_test_wallet
from fuzzydice.auth import identity_rows
from fuzzydice.models import Identity
from fuzzydice.outcome import Code
from fuzzydice.services import Services
from fuzzydice.siwe import SiweMessage
from fuzzydice.wallet import flows
from tests.chain.conftest import anvil  # noqa: F401  (the session's real anvil)

ORIGIN = "http://127.0.0.1:3000"
TAB = "tab-token-1"


@pytest.fixture(scope="module")
def owner() -> LocalAccount:
    return Account.create()


@pytest.fixture(scope="module")
def contract(anvil: DevChain, owner: LocalAccount) -> str:  # noqa: F811
    return deploy_test_wallet(anvil.url, owner.address)


@pytest.fixture
def chain_services(services: Services, anvil: DevChain, contract: str, owner: LocalAccount) -> Services:  # noqa: F811
    services.settings.chains = {anvil.chain_id: anvil.url}
    assert services.settings.allowed_chains == {anvil.chain_id: anvil.url}
    # The services' own chain client sees the contract's code and none at its owner.
    assert services.chain.code_at(anvil.chain_id, contract)
    assert services.chain.code_at(anvil.chain_id, owner.address) == b""
    return services


def sign(account: LocalAccount, text: str) -> str:
    """EIP-191 personal_sign of the exact message text."""
    return account.sign_message(encode_defunct(text=text)).signature.to_0x_hex()


def begin(services: Services, address: str, chain_id: int) -> flows.Challenge:
    issued = flows.begin_sign_in(services, address=address, chain_id=chain_id, origin=ORIGIN, binding=TAB)
    assert issued.ok, issued
    return issued.value


def users_with_wallet(services: Services, address: str) -> list[int]:
    with services.db() as session:
        table = Identity.__table__
        return list(session.execute(sa.select(table.c.user_id).where(identity_rows.wallet_of(address))).scalars())


def test_the_owners_signature_signs_in_the_contract_wallet(
    chain_services: Services, anvil: DevChain, contract: str, owner: LocalAccount  # noqa: F811
) -> None:
    challenge = begin(chain_services, contract.lower(), anvil.chain_id)
    assert SiweMessage.parse(challenge.message).address == contract  # the contract, EIP-55
    created = flows.complete_sign_in(
        chain_services, nonce=challenge.nonce, signature=sign(owner, challenge.message), binding=TAB
    )
    assert created.ok, created
    created = created.value
    assert created.created and created.address == contract
    assert users_with_wallet(chain_services, contract) == [created.user_id]
    assert users_with_wallet(chain_services, owner.address) == []  # the owner key got no account of its own

    again = begin(chain_services, contract, anvil.chain_id)
    loaded = flows.complete_sign_in(chain_services, nonce=again.nonce, signature=sign(owner, again.message), binding=TAB)
    assert loaded.ok and loaded.value.user_id == created.user_id and not loaded.value.created


def test_another_keys_signature_is_refused_like_a_bad_eoa_signature(
    chain_services: Services, anvil: DevChain, contract: str  # noqa: F811
) -> None:
    thief, eoa = Account.create(), Account.create()
    answers = []
    for address in (contract, eoa.address):
        challenge = begin(chain_services, address, anvil.chain_id)
        answers.append(
            flows.complete_sign_in(chain_services, nonce=challenge.nonce, signature=sign(thief, challenge.message), binding=TAB)
        )
    assert answers[0] == answers[1]
    assert (answers[0].code, answers[0].detail) == (Code.SIGNATURE_INVALID, "invalid_signature")
    assert users_with_wallet(chain_services, contract) == []


def test_the_owners_signature_over_other_text_is_refused(
    chain_services: Services, anvil: DevChain, contract: str, owner: LocalAccount  # noqa: F811
) -> None:
    challenge = begin(chain_services, contract, anvil.chain_id)
    other_text = challenge.message.replace(ORIGIN, "http://evil.example")
    result = flows.complete_sign_in(chain_services, nonce=challenge.nonce, signature=sign(owner, other_text), binding=TAB)
    assert result.code == Code.SIGNATURE_INVALID
    assert users_with_wallet(chain_services, contract) == []


@pytest.mark.timeout(60)  # a hang guard only: the refused connection answers at once, chain_rpc_timeout bounds it anyway
def test_an_unreachable_chain_refuses_the_contract_signature(
    chain_services: Services, anvil: DevChain, contract: str, owner: LocalAccount  # noqa: F811
) -> None:
    chain_services.settings.chains = {anvil.chain_id: f"http://127.0.0.1:{free_port()}"}  # nothing listens: refused
    challenge = begin(chain_services, contract, anvil.chain_id)
    result = flows.complete_sign_in(chain_services, nonce=challenge.nonce, signature=sign(owner, challenge.message), binding=TAB)
    # Fail closed: the contract check counts a chain that does not answer as "not accepted", no account.
    assert (result.code, result.detail) == (Code.SIGNATURE_INVALID, "invalid_signature"), result
    assert users_with_wallet(chain_services, contract) == []

    # The refusal was the dead chain's doing: with the live one the same owner signs in.
    chain_services.settings.chains = {anvil.chain_id: anvil.url}
    challenge = begin(chain_services, contract, anvil.chain_id)
    assert flows.complete_sign_in(
        chain_services, nonce=challenge.nonce, signature=sign(owner, challenge.message), binding=TAB
    ).ok
