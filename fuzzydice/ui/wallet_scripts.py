"""Browser scripts for wallets: EIP-6963 discovery (legacy `window.ethereum` fallback), connect, sign,
and the network switch (EIP-3326 `wallet_switchEthereumChain`, EIP-3085 `wallet_addEthereumChain`).

Every script is an async function that catches its own errors and always resolves
to a plain object, because a rejected promise never reaches the `rx.call_script`
callback and the page would hang. Every wallet request has a time limit, so a
wallet that never answers cannot leave the page waiting for ever.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from fuzzydice.chain.networks import Network
from fuzzydice.chain.wallet_params import add_chain_params

DISCOVERY_WAIT_MS = 400
SIGN_TIMEOUT_MS = 180_000
REQUEST_TIMEOUT_MS = 180_000
"""How long a connect, switch or add request may stay open in the wallet (the person may have to unlock it)."""

_DISCOVER_FN = f"""const discover = async () => {{
  const found = []; const seen = new Set();
  const onAnnounce = (event) => {{
    const detail = event && event.detail;
    if (detail && detail.info && detail.provider && !seen.has(detail.info.uuid)) {{
      seen.add(detail.info.uuid); found.push(detail);
    }}
  }};
  window.addEventListener('eip6963:announceProvider', onAnnounce);
  window.dispatchEvent(new Event('eip6963:requestProvider'));
  await new Promise((resolve) => setTimeout(resolve, {DISCOVERY_WAIT_MS}));
  window.removeEventListener('eip6963:announceProvider', onAnnounce);
  window.__fdWallets = {{}};
  const list = found.map((d) => {{
    // Bounded like the server's checks (event_payloads), so an odd wallet is not refused.
    const id = String(d.info.uuid).slice(0, 200); const icon = String(d.info.icon || '');
    window.__fdWallets[id] = d.provider;
    return {{id, name: String(d.info.name || 'Wallet').slice(0, 200), icon: icon.length < 100000 ? icon : '',
             rdns: String(d.info.rdns || '').slice(0, 200)}};
  }});
  if (!list.length && window.ethereum) {{
    window.__fdWallets['legacy'] = window.ethereum;
    list.push({{id: 'legacy', name: 'Browser wallet', icon: '', rdns: ''}});
  }}
  return list.slice(0, 20);
}};"""

DISCOVER = f"(async () => {{ {_DISCOVER_FN} return discover(); }})()"
"""Resolves to the wallets on the page, [{id, name, icon, rdns}], and keeps their providers in `window.__fdWallets`."""

# `ask`: one wallet request with a time limit. `codeOf`: an error's EIP-1193 code, looking
# inside `data.originalError` too (some mobile wallets wrap 4902 in an internal error).
_ASK_JS = f"""const ask = (method, params) => Promise.race([
    provider.request(params ? {{method, params}} : {{method}}),
    new Promise((_, reject) => setTimeout(() => reject({{code: 'timeout'}}), {REQUEST_TIMEOUT_MS})),
  ]);
  const codeOf = (e) => {{
    const inner = e && e.data && e.data.originalError;
    if (inner && inner.code !== undefined && String(inner.code) === '4902') return '4902';
    return String((e && e.code) || 'error');
  }};
  const failure = (e) => ({{error: codeOf(e), message: String((e && e.message) || '').slice(0, 500)}});"""


def _switch_js(network: Network) -> str:
    """JS defining `switchNetwork()`: switch to `network`; a wallet that does not know it (4902) is asked to add it, then to switch."""
    return f"""const target = {json.dumps(hex(network.chain_id))};
  const addParams = {json.dumps(add_chain_params(network))};
  const switchNetwork = async () => {{
    try {{
      await ask('wallet_switchEthereumChain', [{{chainId: target}}]);
      return;
    }} catch (e) {{
      if (codeOf(e) !== '4902' || !addParams) throw e;
    }}
    await ask('wallet_addEthereumChain', [addParams]);
    await ask('wallet_switchEthereumChain', [{{chainId: target}}]);
  }};"""


def _provider(wallet_id: str) -> str:
    return f"(window.__fdWallets || {{}})[{json.dumps(wallet_id)}]"


def connect_script(wallet_id: str, networks: Sequence[Network] = ()) -> str:
    """Ask the chosen wallet for its account and chain: resolves to {address, chainId, network} or {error, message}.

    When `networks` (the ones the site accepts, preferred first) are given and the wallet is on
    none of them, the wallet is asked to switch to the first (and to add it when it does not know
    it). `network` says how that went: "" (no switch needed), "switched", or the error code of a
    refused or failed switch; then `chainId` is still the wallet's own, and the server names the
    networks the site uses.
    """
    accepted = [str(network.chain_id) for network in networks]
    switch = _switch_js(networks[0]) if networks else "const switchNetwork = null;"
    return f"""(async () => {{
  const provider = {_provider(wallet_id)};
  if (!provider) return {{error: 'no_wallet', message: ''}};
  {_ASK_JS}
  {switch}
  const accepted = {json.dumps(accepted)};
  const idOf = (value) => {{ try {{ return BigInt(value).toString(); }} catch (e) {{ return ''; }} }};
  try {{
    const accounts = await ask('eth_requestAccounts');
    const address = String((accounts && accounts[0]) || '');
    let chainId = String(await ask('eth_chainId'));
    let network = '';
    if (switchNetwork && !accepted.includes(idOf(chainId))) {{
      try {{
        await switchNetwork();
        chainId = String(await ask('eth_chainId'));
        network = 'switched';
      }} catch (e) {{
        network = codeOf(e);
      }}
    }}
    return {{address, chainId, network}};
  }} catch (e) {{
    return failure(e);
  }}
}})()"""


def add_network_script(network: Network, wallet_id: str = "") -> str:
    """Have the wallet add `network` (`wallet_addEthereumChain`) and switch to it: resolves to {chainId} or {error, message}.

    Uses the wallet `wallet_id` found earlier on the page, else the first one discovery finds.
    A network whose parameters cannot be offered (no public RPC URL) is only switched to.
    """
    params = add_chain_params(network)
    return f"""(async () => {{
  {_DISCOVER_FN}
  let provider = {_provider(wallet_id)} || null;
  if (!provider) {{
    const list = await discover();
    provider = list.length ? window.__fdWallets[list[0].id] : null;
  }}
  if (!provider) return {{error: 'no_wallet', message: ''}};
  {_ASK_JS}
  try {{
    const params = {json.dumps(params)};
    if (params) await ask('wallet_addEthereumChain', [params]);
    await ask('wallet_switchEthereumChain', [{{chainId: {json.dumps(hex(network.chain_id))}}}]);
    return {{chainId: String(await ask('eth_chainId'))}};
  }} catch (e) {{
    return failure(e);
  }}
}})()"""


def sign_script(wallet_id: str, message: str, address: str) -> str:
    """Ask the wallet to `personal_sign` the server's message; notices an account switch and a closed popup."""
    return f"""(async () => {{
  const provider = {_provider(wallet_id)};
  if (!provider) return {{error: 'no_wallet', message: ''}};
  const address = {json.dumps(address)}.toLowerCase();
  let changed = false;
  const onChange = (accounts) => {{ if (!accounts || !accounts[0] || String(accounts[0]).toLowerCase() !== address) changed = true; }};
  if (provider.on) provider.on('accountsChanged', onChange);
  try {{
    const bytes = new TextEncoder().encode({json.dumps(message)});
    const hex = '0x' + Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
    const signature = await Promise.race([
      provider.request({{method: 'personal_sign', params: [hex, {json.dumps(address)}]}}),
      new Promise((_, reject) => setTimeout(() => reject({{code: 'timeout'}}), {SIGN_TIMEOUT_MS})),
    ]);
    if (changed) return {{error: 'account_changed', message: ''}};
    return {{signature: String(signature)}};
  }} catch (e) {{
    return {{error: changed ? 'account_changed' : String((e && e.code) || 'error'), message: String((e && e.message) || '')}};
  }} finally {{
    if (provider.removeListener) provider.removeListener('accountsChanged', onChange);
  }}
}})()"""


_MESSAGES = {
    "4001": "You declined the request in your wallet.",
    "timeout": "Your wallet did not answer. Was its window closed?",
    "-32002": "Your wallet already has a request waiting. Open it, finish or close that request, then try again.",
    "account_changed": "You switched accounts in your wallet while signing. Try again with the account you want to use.",
    "4100": "Your wallet has not allowed this site to use that account.",
    "4900": "Your wallet is disconnected from the network.",
    "4901": "Your wallet is not connected to this network.",
    "4902": "Your wallet does not know this network yet. Add it in your wallet's settings, then try again.",
    "no_wallet": "The wallet is no longer available on this page. Reload the page and try again.",
}


def wallet_error_message(code: str, detail: str = "") -> str:
    """Plain words for an EIP-1193 error code (or our own codes)."""
    if code in _MESSAGES:
        return _MESSAGES[code]
    detail = (detail or "").strip()[:200].rstrip(".")
    return f"Your wallet reported an error{': ' + detail if detail else ''}. Please try again."
