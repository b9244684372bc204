"""The running app (demo mode) reads the session's two deployed demo chains, as make run gives it its own."""

from web3 import HTTPProvider, Web3

from fuzzydice.chain.networks import DEMO_NETWORKS, MULTICALL3_ADDRESS
from fuzzydice.services import get_services


def test_the_app_is_in_force_on_both_deployed_demo_chains(app_harness, demo_chain_settings):
    settings = get_services().settings
    assert settings.is_demo
    assert settings.allowed_chains == demo_chain_settings
    networks = settings.active_networks
    assert [network.chain_id for network in networks] == [network.chain_id for network in DEMO_NETWORKS]
    for network, demo in zip(networks, DEMO_NETWORKS):
        assert network.layer == demo.layer and network.tokens == demo.tokens  # described as the demo networks
        w3 = Web3(HTTPProvider(network.rpc_url))
        assert w3.eth.chain_id == network.chain_id
        assert w3.eth.get_code(MULTICALL3_ADDRESS) and all(w3.eth.get_code(t.address) for t in network.tokens)
