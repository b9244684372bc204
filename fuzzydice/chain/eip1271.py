"""EIP-1271: what the chain client shares about contract-wallet signatures.

A contract account cannot sign; it answers `isValidSignature(hash, signature)`
with the magic value 0x1626ba7e when it accepts. `fuzzydice.chain.client`
asks it (callers first try ECDSA recovery, an EOA, and come there only when
that fails and the address has code).
"""

from __future__ import annotations

MAGIC_VALUE = bytes.fromhex("1626ba7e")
"""What an accepting wallet returns; also the selector of `isValidSignature(bytes32,bytes)`."""


class ChainUnavailable(RuntimeError):
    """The RPC endpoint did not answer (connection refused, timeout, error reply)."""
