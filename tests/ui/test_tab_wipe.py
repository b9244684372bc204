"""The guard's tab wipe covers every state of the app, not a hand-kept list (attack review #7, finding 5).

The app module is imported in a child process: importing it here would register
its states in this process before the app harness of the end-to-end tests does.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = """
import asyncio, json
import reflex as rx
import fuzzydice.fuzzydice  # the app: every page and its state
from fuzzydice.ui.app_states import app_state_classes
from fuzzydice.ui.guard import wipe_tab
from fuzzydice.ui.pages.security import SecurityState
from fuzzydice.ui.session_state import SessionState
from fuzzydice.ui.wallet_signin import WalletSignInState
from fuzzydice.ui.balances import BalancesState
from fuzzydice.ui.dashboard_rows import ChainBalanceRow
from fuzzydice.ui.pages.home import HomeState

def tree(cls):
    for sub in cls.get_substates():
        yield sub
        yield from tree(sub)

async def main():
    root = rx.State(_reflex_internal_init=True)
    root.router_data = {"pathname": "/login"}
    security = await root.get_state(SecurityState)
    security.fresh, security.email, security.reenrol_key, security._nonce = True, "a@example.com", "ABCD EFGH", "n"
    session = await root.get_state(SessionState)
    session.user_email, session._user_id, session._watching, session._data_owner = "a@example.com", 7, True, "owner"
    wallet = await root.get_state(WalletSignInState)
    wallet.status, wallet._address = "signing", "0xabc"
    balances = await root.get_state(BalancesState)
    balances.chains = [ChainBalanceRow(1, "Ethereum", "L1", "", [])]
    balances.loading, balances.wallet_count, balances._run = True, 1, "run"
    home = await root.get_state(HomeState)
    home.factors, home._activity_run = ["Backup codes (3 left)"], "run"
    await wipe_tab(root)
    print(json.dumps({
        "wiped": sorted(c.__name__ for c in app_state_classes(rx.State)),
        "app_states": sorted(c.__name__ for c in tree(rx.State) if c.__module__.startswith("fuzzydice")),
        "other_states": sorted(c.__module__ for c in tree(rx.State) if not c.__module__.startswith("fuzzydice")),
        "security": [security.fresh, security.email, security.reenrol_key, security._nonce],
        "session": [session.user_email, session._user_id, session._watching, session._data_owner],
        "wallet": [wallet.status, wallet._address],
        "balances": [len(balances.chains), balances.loading, balances.wallet_count, balances._run],
        "home": [home.factors, home._activity_run],
        "router": root.router_data,
    }))

asyncio.run(main())
"""


def test_the_wipe_resets_every_state_of_the_app_and_nothing_of_reflex(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("FUZZYDICE_")}
    env.update(
        REFLEX_TELEMETRY_ENABLED="0",
        FUZZYDICE_MODE="demo",
        FUZZYDICE_DATABASE_URL=f"sqlite:///{tmp_path / 'fd.db'}",
        FUZZYDICE_SECRETS_FILE=str(tmp_path / "secrets.json"),
    )
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    # Deny by default: every state class of the package, public pages included.
    assert seen["wiped"] == seen["app_states"]
    assert {"LoginState", "RegisterState", "WalletSignInState", "SessionState", "SecurityState", "BalancesState"} <= set(
        seen["wiped"]
    )
    assert seen["other_states"] and all(module.startswith("reflex") for module in seen["other_states"])
    assert seen["security"] == [False, "", "", ""]
    assert seen["wallet"] == ["", ""]
    assert seen["balances"] == [0, False, 0, ""] and seen["home"] == [[], ""]  # the chain reads' per-user rows
    # The session watcher keeps its flag; whose data the tab holds is the guard's to set next.
    assert seen["session"] == ["", None, True, "owner"]
    assert seen["router"] == {"pathname": "/login"}
