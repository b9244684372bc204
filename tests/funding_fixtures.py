"""The demo faucet in tests (registered for every folder by tests/conftest.py): services on the session's demo chains,
users with fresh wallets, balances read by web3 directly."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import HTTPProvider, Web3

from fuzzydice.auth import identity_rows
from fuzzydice.chain.networks import demo_tokens
from fuzzydice.clock import FixedClock
from fuzzydice.services import Services, build_services
from tests.conftest import make_settings
from tests.wallet_steps import wallet_sign_in

BALANCE_OF = bytes.fromhex("70a08231")
"""ERC-20 `balanceOf(address)`."""


@pytest.fixture
def faucet_services(tmp_path: Path, db_url: str, clock: FixedClock, demo_chain_settings: dict[int, str]) -> Iterator[Services]:
    """Real services (demo mode, pinned clock) whose chains in force are the session's two deployed demo chains."""
    built = build_services(make_settings(tmp_path, db_url, chains=demo_chain_settings), clock)
    yield built
    built.engine.dispose()


@dataclass
class WalletUser:
    """An account that signed up with a fresh wallet (through the real wallet sign-in)."""

    user_id: int
    account: LocalAccount

    @property
    def address(self) -> str:
        return self.account.address


@pytest.fixture
def wallet_user(faucet_services: Services) -> Callable[[], WalletUser]:
    """Make an account with a wallet nobody funded yet."""

    def make() -> WalletUser:
        account = Account.create()
        signed_in = wallet_sign_in(faucet_services, account)
        assert signed_in.ok, signed_in
        return WalletUser(signed_in.value.user_id, account)

    return make


def link_wallet(services: Services, user_id: int) -> str:
    """Add one more (fresh) wallet to the account's identities; its address."""
    address = Account.create().address
    with services.db() as session:
        identity_rows.add_wallet(session, user_id=user_id, address=address, now=services.clock.now())
        session.commit()
    return address


def balances(rpc_url: str, address: str) -> dict[str, int]:
    """ETH and each demo token held by `address` (base units), read with web3 directly."""
    w3 = Web3(HTTPProvider(rpc_url, request_kwargs={"timeout": 10}))
    held = {"ETH": w3.eth.get_balance(address)}
    for token in demo_tokens():
        data = BALANCE_OF + bytes(12) + bytes.fromhex(address[2:])
        held[token.symbol] = int.from_bytes(w3.eth.call({"to": token.address, "data": data}), "big")
    return held


def one_grant(decimals_by_symbol: dict[str, int], times: int = 1) -> dict[str, int]:
    """What `times` grants of the default amounts (1 ETH, 1,000 of each token) leave in a fresh wallet."""
    return {"ETH": times * 10**18, **{s: times * 1000 * 10**d for s, d in decimals_by_symbol.items()}}


TOKEN_DECIMALS = {token.symbol: token.decimals for token in demo_tokens()}


def with_settings(services: Services, **update) -> Services:
    """The same services (database, clock, keys) with some settings changed."""
    return replace(services, settings=services.settings.model_copy(update=update))
