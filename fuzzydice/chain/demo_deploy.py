"""The deploy step of the local demo chains: test tokens and a multicall on each anvil.

For each demo network (`Settings.demo_networks`: L1 31337 and L2 31338) it

1. checks that the node answers with the network's chain id,
2. gives `DEMO_DEPLOYER` plenty of ETH (`anvil_setBalance`) and lets the node send for it
   (`anvil_impersonateAccount`: no key exists),
3. deploys the network's tokens (`contracts/TestToken.sol`) in order with `eth_sendTransaction`
   from the deployer, so token i lands at `demo_token_address(i)` (CREATE at nonce i), the
   whole supply held by the deployer (it serves the demo faucet),
4. puts the runtime code of our Multicall3-compatible contract (`contracts/Multicall.sol`) at
   the network's multicall address (Multicall3's canonical one) with `anvil_setCode`.

It is idempotent: a chain already deployed is left as is; one where the deployer's nonce
moved but code is missing (someone else used the deployer) is refused with a clear error.

    python -m fuzzydice.chain.demo_deploy                          # every demo network of the settings
    python -m fuzzydice.chain.demo_deploy --chain-id 31338 --rpc http://127.0.0.1:9546

Reflex-free; needs only the committed artifacts in `contracts/build/`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eth_utils import to_checksum_address
from web3 import HTTPProvider, Web3
from web3.types import RPCEndpoint

from fuzzydice.chain.artifacts import MULTICALL, TEST_TOKEN, load_artifact
from fuzzydice.chain.devchain import DevChain, DevChainError, start_anvil
from fuzzydice.chain.networks import DEMO_DEPLOYER, DEMO_NETWORKS, Network, Token, demo_token_address

DEPLOYER_ETH_WEI = 10**6 * 10**18
"""ETH `anvil_setBalance` gives the deployer before deploying (1,000,000 ETH: the faucet's float too)."""

TOKEN_SUPPLY = 10**12
"""Whole tokens minted to the deployer per test token (scaled by each token's decimals)."""

RPC_TIMEOUT = 10.0
"""Seconds one JSON-RPC request may take (anvil mines each transaction at once)."""


class DemoDeployError(RuntimeError):
    """The chain cannot be (or was not) deployed as the demo expects; the message says why."""


@dataclass(frozen=True)
class DeployReport:
    """What the deploy step found and did on one chain."""

    chain_id: int
    rpc_url: str
    tokens: tuple[Token, ...]
    """The network's tokens, each with code at its address now."""
    multicall: str
    """Where the Multicall3-compatible runtime code is."""
    deployed: tuple[str, ...]
    """Symbols of the tokens deployed by this run (empty: all were already there)."""
    multicall_set: bool
    """Whether this run put the multicall code in place (False: it was already there)."""

    @property
    def already_deployed(self) -> bool:
        """Whether the chain was found fully deployed and left as is."""
        return not self.deployed and not self.multicall_set

    def summary(self) -> str:
        """One line for people: the chain, and what was deployed or found."""
        tokens = ", ".join(f"{token.symbol} {token.address}" for token in self.tokens)
        state = "already deployed" if self.already_deployed else "deployed"
        return f"chain {self.chain_id} at {self.rpc_url}: {state}; tokens {tokens}; multicall {self.multicall}"


def _rpc(w3: Web3, method: str, params: list[Any]) -> Any:
    """Call a JSON-RPC method (anvil cheat codes included); raise DemoDeployError on an error answer."""
    try:
        response = w3.provider.make_request(RPCEndpoint(method), params)
    except (OSError, ValueError) as error:  # requests' connection errors are OSErrors
        raise DemoDeployError(f"{method} failed: {error}") from error
    if "error" in response:
        raise DemoDeployError(f"{method} refused: {response['error']}")
    return response.get("result")


def _code(w3: Web3, address: str) -> bytes:
    """The code at `address` (b"" for none)."""
    return bytes.fromhex((_rpc(w3, "eth_getCode", [address, "latest"]) or "0x")[2:])


def _check_token_order(network: Network) -> None:
    """Token i of the network must be the CREATE address of the deployer at nonce i."""
    for index, token in enumerate(network.tokens):
        expected = demo_token_address(index)
        if token.address != expected:
            raise DemoDeployError(
                f"chain {network.chain_id}: token {index} ({token.symbol}) is configured at {token.address}, "
                f"but the deployer's nonce {index} creates {expected}; demo tokens must be listed in deployment order"
            )


def deploy_demo_chain(rpc_url: str, network: Network) -> DeployReport:
    """Deploy the demo tokens and the multicall on the anvil at `rpc_url` (idempotent).

    Args:
        rpc_url: the chain's JSON-RPC endpoint (an anvil node: it needs the `anvil_*` methods).
        network: the demo network it serves (chain id, tokens in deployment order, multicall address).

    Returns:
        What was found and deployed.

    Raises:
        DemoDeployError: nothing answers, the chain id differs, the node refuses a cheat code, the deployer's
            nonce moved without the expected code, or a deployment failed or landed elsewhere.
    """
    _check_token_order(network)
    w3 = Web3(HTTPProvider(rpc_url, request_kwargs={"timeout": RPC_TIMEOUT}))
    answered = int(_rpc(w3, "eth_chainId", []), 16)
    if answered != network.chain_id:
        raise DemoDeployError(
            f"{rpc_url} answers chain id {answered}, not {network.chain_id} ({network.name}); refusing to deploy"
        )

    # Tokens 0..done-1 in place and the deployer at nonce `done`: deploy the rest (a run cut short
    # resumes). All in place: nothing to deploy, whatever the nonce (the faucet sends as the deployer).
    present = [bool(_code(w3, token.address)) for token in network.tokens]
    nonce = int(_rpc(w3, "eth_getTransactionCount", [DEMO_DEPLOYER, "latest"]), 16)
    done = present.index(False) if False in present else len(present)
    if any(present[done:]) or (done < len(present) and nonce != done):
        missing = [token.symbol for token, here in zip(network.tokens, present) if not here]
        raise DemoDeployError(
            f"chain {network.chain_id} at {rpc_url}: the deployer {DEMO_DEPLOYER} has nonce {nonce} but "
            f"{', '.join(missing)} {'is' if len(missing) == 1 else 'are'} missing at the expected address; the "
            "deployer was used for something else, so the tokens cannot land where the settings say. "
            "Restart this chain (a fresh anvil) and deploy again."
        )

    # Lets eth_sendTransaction (and the demo faucet) send as the deployer; node config, not chain state.
    _rpc(w3, "anvil_impersonateAccount", [DEMO_DEPLOYER])
    deployed: list[str] = []
    if done < len(network.tokens):
        _rpc(w3, "anvil_setBalance", [DEMO_DEPLOYER, hex(DEPLOYER_ETH_WEI)])
        artifact = load_artifact(TEST_TOKEN)
        factory = w3.eth.contract(abi=artifact["abi"], bytecode=artifact["bytecode"])
        for index in range(done, len(network.tokens)):
            token = network.tokens[index]
            _deploy_token(w3, factory, token, index)
            deployed.append(token.symbol)

    runtime = bytes.fromhex(load_artifact(MULTICALL)["deployedBytecode"][2:])
    multicall = to_checksum_address(network.multicall)
    multicall_set = _code(w3, multicall) != runtime
    if multicall_set:
        _rpc(w3, "anvil_setCode", [multicall, "0x" + runtime.hex()])
        if _code(w3, multicall) != runtime:
            raise DemoDeployError(f"chain {network.chain_id}: anvil_setCode left other code at {multicall}")

    return DeployReport(
        chain_id=network.chain_id,
        rpc_url=rpc_url,
        tokens=network.tokens,
        multicall=multicall,
        deployed=tuple(deployed),
        multicall_set=multicall_set,
    )


def _deploy_token(w3: Web3, factory: Any, token: Token, index: int) -> None:
    """Deploy one TestToken from the deployer (the node assigns the nonce) and check where it landed."""
    constructor = factory.constructor(
        token.name or token.symbol, token.symbol, token.decimals, TOKEN_SUPPLY * 10**token.decimals
    )
    try:
        tx_hash = constructor.transact({"from": DEMO_DEPLOYER})
        receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=RPC_TIMEOUT, poll_latency=0.05)
    except Exception as error:  # web3 raises many kinds (RPC error, timeout, connection): one answer
        raise DemoDeployError(f"deploying {token.symbol} failed: {error}") from error
    landed = receipt["contractAddress"]
    if receipt["status"] != 1 or landed is None or to_checksum_address(landed) != token.address:
        raise DemoDeployError(
            f"deploying {token.symbol} (token {index}) landed at {landed} with status {receipt['status']}, "
            f"expected {token.address}"
        )
    if not _code(w3, token.address):
        raise DemoDeployError(f"deploying {token.symbol} left no code at {token.address}")


def start_demo_chains(networks: Sequence[Network] = DEMO_NETWORKS) -> list[DevChain]:
    """Start one anvil per demo network on a free loopback port and deploy it (for tests and benchmarks).

    Returns:
        The running chains in the networks' order; stop each (`DevChain.stop`) when done.

    Raises:
        DevChainError: anvil is missing or did not start; DemoDeployError: a deploy failed. Chains
            already started are stopped before either propagates.
    """
    chains: list[DevChain] = []
    try:
        for network in networks:
            chain = start_anvil(chain_id=network.chain_id)
            chains.append(chain)
            deploy_demo_chain(chain.url, network)
    except BaseException:
        for chain in chains:
            chain.stop()
        raise
    return chains


def _targets(chain_ids: list[int] | None, rpcs: list[str] | None, demo_networks: Sequence[Network],
             chains: dict[int, str]) -> list[tuple[str, Network]]:
    """The (URL, network) pairs the CLI deploys: the named demo networks, else all of them."""
    by_id = {network.chain_id: network for network in demo_networks}
    if rpcs and len(rpcs) != len(chain_ids or []):
        raise DemoDeployError("give one --chain-id before each --rpc")
    targets = []
    for position, chain_id in enumerate(chain_ids or list(by_id)):
        network = by_id.get(chain_id)
        if network is None:
            raise DemoDeployError(f"chain id {chain_id} is not a demo network (known: {sorted(by_id)})")
        url = rpcs[position] if rpcs else chains.get(chain_id) or network.rpc_url
        if not url:
            raise DemoDeployError(f"no RPC URL for chain id {chain_id}; pass --rpc")
        targets.append((url, network))
    return targets


def main(argv: list[str] | None = None) -> int:
    """Deploy the demo chains named on the command line (default: every demo network of the settings)."""
    parser = argparse.ArgumentParser(prog="python -m fuzzydice.chain.demo_deploy", description=__doc__.split("\n")[0])
    parser.add_argument("--chain-id", type=int, action="append", help="a demo network's chain id (repeatable)")
    parser.add_argument("--rpc", action="append", help="its RPC URL (after each --chain-id; default: settings)")
    args = parser.parse_args(argv)
    from fuzzydice.settings import Settings  # the settings read the environment; only the CLI needs them

    settings = Settings()
    try:
        targets = _targets(args.chain_id, args.rpc, settings.demo_networks, settings.chains)
        for url, network in targets:
            print(f"demo_deploy: {deploy_demo_chain(url, network).summary()}", flush=True)
    except (DemoDeployError, DevChainError) as error:
        print(f"demo_deploy: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
