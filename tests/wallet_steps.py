"""A browser wallet in tests: the server's challenge, signed with a real key, and a sign-in with it.

Real secp256k1 signatures (eth_account) on the server's EIP-4361 messages, through the
real wallet flows; the page origin, the tab and the demo chain of the test settings.
"""

from __future__ import annotations

from eth_account.messages import encode_defunct
from eth_account.signers.local import LocalAccount

from fuzzydice.outcome import Outcome
from fuzzydice.services import Services
from fuzzydice.wallet import flows as wallet_flows

ORIGIN = "http://127.0.0.1:3000"
"""The page a challenge is asked for."""
TAB = "tab-token-1"
"""The tab a challenge is bound to (the `binding` of begin and complete)."""
CHAIN = 31337
"""The demo chain of the test settings."""


def sign(account: LocalAccount, text: str) -> str:
    """EIP-191 personal_sign, as a browser wallet does it: the 0x-hex signature."""
    return account.sign_message(encode_defunct(text=text)).signature.to_0x_hex()


def begin(
    services: Services, account: LocalAccount, purpose: str = "sign_in", user_id: int | None = None, **overrides
) -> Outcome[wallet_flows.Challenge]:
    """Ask for a challenge for `account` from the test page, tab and chain (`overrides` replace any argument)."""
    args = dict(
        address=account.address, chain_id=CHAIN, origin=ORIGIN, binding=TAB, purpose=purpose, user_id=user_id
    )
    return wallet_flows.begin_sign_in(services, **{**args, **overrides})


def challenge(
    services: Services, account: LocalAccount, purpose: str = "sign_in", user_id: int | None = None, **overrides
) -> wallet_flows.Challenge:
    """A challenge for `account` (see `begin`); the flow must issue it."""
    issued = begin(services, account, purpose, user_id, **overrides)
    assert issued.ok, issued
    return issued.value


def wallet_sign_in(services: Services, account: LocalAccount, **overrides) -> Outcome[wallet_flows.WalletSignIn]:
    """Sign in with `account`: a challenge, signed by the account, completed from the same tab
    (`overrides` go to the completion: `ip`, `user_agent`)."""
    issued = challenge(services, account)
    return wallet_flows.complete_sign_in(
        services, nonce=issued.nonce, signature=sign(account, issued.message), binding=TAB, **overrides
    )
