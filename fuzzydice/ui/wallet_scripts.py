"""Browser scripts for wallets: EIP-6963 discovery (legacy `window.ethereum` fallback), connect, sign.

Every script is an async function that catches its own errors and always resolves
to a plain object, because a rejected promise never reaches the `rx.call_script`
callback and the page would hang.
"""

from __future__ import annotations

import json

DISCOVERY_WAIT_MS = 400
SIGN_TIMEOUT_MS = 180_000

DISCOVER = f"""(async () => {{
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
}})()"""


def _provider(wallet_id: str) -> str:
    return f"(window.__fdWallets || {{}})[{json.dumps(wallet_id)}]"


def connect_script(wallet_id: str) -> str:
    """Ask the chosen wallet for its account and chain: resolves to {address, chainId} or {error, message}."""
    return f"""(async () => {{
  const provider = {_provider(wallet_id)};
  if (!provider) return {{error: 'no_wallet', message: ''}};
  try {{
    const accounts = await provider.request({{method: 'eth_requestAccounts'}});
    const chainId = await provider.request({{method: 'eth_chainId'}});
    return {{address: String((accounts && accounts[0]) || ''), chainId: String(chainId)}};
  }} catch (e) {{
    return {{error: String((e && e.code) || 'error'), message: String((e && e.message) || e || '')}};
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
    "no_wallet": "The wallet is no longer available on this page. Reload the page and try again.",
}


def wallet_error_message(code: str, detail: str = "") -> str:
    """Plain words for an EIP-1193 error code (or our own codes)."""
    if code in _MESSAGES:
        return _MESSAGES[code]
    detail = (detail or "").strip()[:200]
    return f"Your wallet reported an error{': ' + detail if detail else ''}. Please try again."
