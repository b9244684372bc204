"""Issue #8, pages declared once: a tab with no session cannot run a handler of a page it may not open.

The guard used to let through every event of a state that nobody had protected by
hand: a new page whose state was not listed could be driven from the sign-in page
by anyone. Now each state's level comes from its page's declaration, and a state
without one needs a full session. A tab with no session, on `/login`, sends events
of full-only and second-step states through its own socket, as a modified client
would; each is answered with a full page load and the handler never runs.
"""

from __future__ import annotations

import inspect
import re

from playwright.sync_api import expect

from tests.e2e.forge import HOOK_SOCKET, SECURITY_STATE, VERIFY_STATE, forge
from tests.security.tab_state import ReceivedFrames, sent_value, server_state, state_of

LOGIN_URL = re.compile(r"/login/?$")
SAMPLE_ARGUMENT = {dict: {}, list: [], str: "", int: 0, bool: False}


def open_login(page, base_url: str) -> None:
    page.goto(f"{base_url}/login")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.evaluate("() => { window.__stillHere = true; }")


def refused_with_a_page_load(page) -> None:
    """The guard answered with a hard redirect: the page was loaded again, still signed out."""
    page.wait_for_function("() => window.__stillHere === undefined")
    expect(page).to_have_url(LOGIN_URL)


def test_a_full_only_handler_sent_from_the_sign_in_page_does_not_run(page, base_url, app_harness, backend_call):
    page.add_init_script(HOOK_SOCKET)
    frames = ReceivedFrames(page)
    open_login(page, base_url)
    mark = frames.mark()

    # SecurityState.toggle_backup reads no session: were it let through, it would set the flag.
    forge(page, f"{SECURITY_STATE}.toggle_backup")
    refused_with_a_page_load(page)
    # A second-step page's handler is refused to a tab without a first factor too.
    open_login(page, base_url)
    forge(page, f"{VERIFY_STATE}.toggle_backup")
    refused_with_a_page_load(page)

    deltas = frames.deltas_since(mark)
    assert True not in sent_value(deltas, "security____security_state", "use_backup")
    assert True not in sent_value(deltas, "verify____verify_state", "use_backup")
    dump = server_state(app_harness, backend_call, page)
    assert state_of(dump, "security____security_state").get("use_backup") is False
    assert state_of(dump, "verify____verify_state").get("use_backup") is False


def test_no_handler_of_a_state_above_public_runs_for_a_tab_without_a_session(page, base_url, app_harness):
    """Every handler the running app's declarations put above `public`, each with a payload that fits it."""
    guard = app_harness.app_module.guard
    handlers = []
    for rule in guard.rules.values():
        for name, handler in rule.state.event_handlers.items():
            if name == "setvar" or rule.level_of(name) == 0:
                continue  # setvar: refused for its payload before the session is looked at (test_malformed_events)
            parameters = list(inspect.signature(handler.fn, eval_str=True).parameters.values())[1:]
            payload = {p.name: SAMPLE_ARGUMENT[p.annotation] for p in parameters}
            handlers.append((f"{rule.state.get_full_name()}.{name}", payload))
    names = {name.rpartition(".")[2] for name, _ in handlers}
    assert {"dismiss_alerts", "new_backup_codes", "done", "continue_to_code", "submit", "watch_session"} <= names
    assert "sign_out" not in names  # signing out needs no session

    page.add_init_script(HOOK_SOCKET)
    for name, payload in handlers:
        open_login(page, base_url)
        forge(page, name, payload)
        refused_with_a_page_load(page)
