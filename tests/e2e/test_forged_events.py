"""Forged websocket events: the guard decides by the session, never by what the client sends.

The page's own socket is used to send raw socket.io frames, as a malicious script
or a modified client would.
"""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.e2e.forge import HOME_STATE, HOOK_SOCKET, SECURITY_STATE, SESSION_STATE, forge
from tests.e2e.journeys import SCAN, register


def test_a_pending_session_cannot_run_a_full_pages_handler(page, base_url):
    page.add_init_script(HOOK_SOCKET)
    register(page, base_url)
    expect(page).to_have_url(SCAN)
    page.evaluate("() => { window.__stillHere = true; }")
    forge(page, f"{HOME_STATE}.on_load")
    # Refused: the guard sends this first-factor session back to its step (a full page load).
    expect(page).to_have_url(re.compile(r"/login/scan/?\?next=/user/home$"))
    assert page.evaluate("() => window.__stillHere === undefined")


def test_a_signed_out_tab_cannot_run_protected_handlers_or_set_backend_vars(page, base_url):
    page.add_init_script(HOOK_SOCKET)
    page.goto(f"{base_url}/login")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.evaluate("() => { window.__stillHere = true; }")
    forge(page, f"{SECURITY_STATE}.new_backup_codes")
    page.wait_for_function("() => window.__stillHere === undefined")  # the guard answered with a reload
    expect(page).to_have_url(re.compile(r"/login/?$"))

    # setvar on a backend var is refused by Reflex, and access is re-derived from the cookie anyway.
    forge(page, f"{SESSION_STATE}.setvar", {"var_name": "_user_id", "value": 1})
    forge(page, f"{SESSION_STATE}.setvar", {"var_name": "_level", "value": 2})
    page.goto(f"{base_url}/user/home")
    expect(page).to_have_url(re.compile(r"/login/?\?next=/user/home$"))
