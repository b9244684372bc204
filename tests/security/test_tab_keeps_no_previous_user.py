"""Attack review #7, finding 5: a tab kept the previous user's state.

After sign-out the same tab hydrated `/login` with the previous user's email, the
step-up `fresh` flag and the pending authenticator key, and the next user signing
in in that tab received them too. Now the guard wipes every state of the app in the
tab whenever the session behind the cookie is another one, before the event runs.
"""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.e2e.journeys import register_and_enrol, sign_out
from tests.e2e.journeys import confirm_with_code
from tests.e2e.wallets import link_wallet, wallet_sign_in_with_code
from tests.security.tab_state import (
    SECURITY_STATE,
    SESSION_STATE,
    SHOWN_TIME,
    ReceivedFrames,
    found_in,
    sent_value,
    server_state,
    state_of,
    wait_for_server,
)

NAME_A = "Ottoline Quibblesworth"
NAME_B = "Barnaby Underhill"


def grouped(secret: str) -> str:
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def assert_nothing_of(user: dict[str, str], frames: ReceivedFrames, mark: int, dump: dict) -> None:
    """Neither what the tab received since `mark` nor its server-side state holds `user`'s data or freshness."""
    received = frames.text_since(mark)
    assert not found_in(received, user), f"the tab received {found_in(received, user)} of the previous user"
    assert True not in sent_value(frames.deltas_since(mark), SECURITY_STATE, "fresh")
    held = repr(dump)
    assert not found_in(held, user), f"the tab's server-side state holds {found_in(held, user)} of the previous user"
    assert state_of(dump, SECURITY_STATE).get("fresh", False) is False


CHAIN_READS = (
    ("balances____balances_state", "_run", "loading"),
    ("home____home_state", "_allowances_run", "allowances_loading"),
    ("home____home_state", "_activity_run", "activity_loading"),
)
"""The home page's chain reads (background events): (state, the read's token, its loading flag)."""


def chain_reads(app_harness, backend_call, page) -> list[tuple[str, bool]]:
    """(token of the latest read, still loading) of each chain read of the tab, as the server holds them."""
    dump = server_state(app_harness, backend_call, page)
    return [(state_of(dump, state).get(run, ""), state_of(dump, state).get(flag, False)) for state, run, flag in CHAIN_READS]


def wait_for_new_chain_reads(app_harness, backend_call, page, before: list[tuple[str, bool]]) -> None:
    """Every chain read began after `before` was taken has written its results (each has a new token, done)."""
    wait_for_server(
        lambda: all(
            token != old and not loading
            for (token, loading), (old, _) in zip(chain_reads(app_harness, backend_call, page), before)
        ),
        timeout=15.0,
    )


def test_the_next_session_of_a_tab_gets_nothing_of_the_previous_one(
    page, base_url, app_clock, app_harness, backend_call, wallet
):
    frames = ReceivedFrames(page)
    a = register_and_enrol(page, base_url, app_clock, name=NAME_A)
    first_key = a.secret

    # A links a wallet, then signs in with it from the wallet panel of /login (and a code).
    link_wallet(page, base_url, a, app_clock)
    page.goto(f"{base_url}/user/home")
    sign_out(page)
    wallet_sign_in_with_code(page, base_url, a.secret, app_clock)
    expect(page.locator("#last-sign-in")).to_contain_text("UTC")
    last_sign_in = SHOWN_TIME.search(page.locator("#last-sign-in").inner_text()).group(0)

    # Security: a fresh second factor (wallet signature, then a code) and a new authenticator's key on screen.
    page.get_by_role("link", name="Security").click()
    page.get_by_role("button", name="Sign with your wallet").click()
    expect(page.get_by_role("status")).to_contain_text("Signed")
    confirm_with_code(page, a, app_clock)
    page.get_by_role("button", name="Set up a new authenticator").click()
    key = page.locator("#new-manual-key")
    expect(key).to_have_text(re.compile(r"^[A-Z2-7]{4}( [A-Z2-7]{4}){7}$"))
    new_key = key.inner_text().replace(" ", "")
    before = chain_reads(app_harness, backend_call, page)
    page.goto(f"{base_url}/user/home")
    expect(page.get_by_text(NAME_A)).to_be_visible()
    # Home reads the chains in background events: their results reach A's own page before the sign-out mark.
    wait_for_new_chain_reads(app_harness, backend_call, page, before)

    a_data = {
        "email": a.email,
        "name": NAME_A,
        "last sign-in": last_sign_in,
        "wallet address": wallet.address[2:],
        "first authenticator key": first_key,
        "first authenticator key, grouped": grouped(first_key),
        "new authenticator key": new_key,
        "new authenticator key, grouped": grouped(new_key),
    }
    # The check sees A's data while A is signed in (so its silence below means something).
    held = repr(server_state(app_harness, backend_call, page))
    assert set(found_in(held, a_data)) >= {"email", "name", "wallet address", "new authenticator key, grouped"}
    assert state_of(server_state(app_harness, backend_call, page), SECURITY_STATE)["fresh"] is True

    # Sign-out: a form POST, then a full load of /login whose hydrate passes the guard first.
    mark = frames.mark()
    sign_out(page)
    frames.wait_until_hydrated(page, mark, "/login")
    assert_nothing_of(a_data, frames, mark, server_state(app_harness, backend_call, page))

    # The watcher of A's home page notices the end of A's session and reloads the tab; let it finish.
    wait_for_server(lambda: not state_of(server_state(app_harness, backend_call, page), SESSION_STATE).get("_watching"))
    page.wait_for_load_state()

    # B signs up in the same tab and, at every page load on the way home, receives nothing of A.
    mark = frames.mark()
    register_and_enrol(page, base_url, app_clock, name=NAME_B)
    page.goto(f"{base_url}/user/home")
    expect(page.get_by_text(NAME_B)).to_be_visible()
    frames.wait_until_hydrated(page, mark, "/user/home")
    assert_nothing_of(a_data, frames, mark, server_state(app_harness, backend_call, page))
