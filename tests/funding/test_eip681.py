"""EIP-681 payment requests: the native coin and ERC-20 transfers, checksummed, with the chain id."""

from __future__ import annotations

import pytest

from fuzzydice.chain.networks import BASE, DEMO_NETWORKS, ETHEREUM
from fuzzydice.funding.eip681 import eip681_uri
from fuzzydice.wallet.addresses import AddressError

TO = "0x8e23Ee67d1332aD560396262C48ffbB01F93D052"


def test_the_native_coin_is_asked_for_with_the_address_and_the_chain() -> None:
    assert eip681_uri(ETHEREUM, TO) == f"ethereum:{TO}@1"
    assert eip681_uri(DEMO_NETWORKS[1], TO.lower()) == f"ethereum:{TO}@31338"


def test_a_token_is_a_transfer_call_on_its_contract() -> None:
    usdc = BASE.tokens[0]
    assert eip681_uri(BASE, TO, usdc) == f"ethereum:{usdc.address}@8453/transfer?address={TO}"


@pytest.mark.parametrize("bad", ["", "0x1234", "not an address", TO[:-1] + "D", TO.replace("8e23Ee", "8e23ee")])
def test_a_bad_address_is_refused_not_encoded(bad: str) -> None:
    with pytest.raises(AddressError):
        eip681_uri(ETHEREUM, bad)
