"""Forged events on /launch: a malformed start gets a message, never a traceback, and starts nothing; nobody
ends another account's play session through the page (its end event takes no id, and the one it ends is the
signed-in account's own)."""

from __future__ import annotations

import uuid

from playwright.sync_api import expect

from tests.e2e.forge import HOOK_SOCKET, ROOT_STATE, forge
from tests.e2e.journeys import PASSWORD, register_and_enrol
from tests.e2e.test_launch import open_launch, plays_of, start_session
from tests.security.tab_state import wait_for_server
from tests.security.test_malformed_events import (  # noqa: F401  (backend_log is a fixture)
    REFUSED,
    assert_no_exception_logged,
    backend_log,
    refusal_logged,
    toaster_ready,
)

LAUNCH_STATE = f"{ROOT_STATE}.fuzzydice___ui___pages___launch____launch_state"

MALFORMED_STARTS = {
    "form is a list": {"form": [["chain_id", "31337"], ["minutes", "15"], ["spending_limit", "1"]]},
    "form is null": {"form": None},
    "form is text": {"form": "chain_id=31337&minutes=15"},
    "form is missing": {},
    "an extra argument": {"form": {"chain_id": "31337", "minutes": "15", "spending_limit": "1"}, "play_id": 1},
    "nested values": {"form": {"chain_id": {"id": 31337}, "minutes": ["15"], "spending_limit": "1"}},
    "payload is a list": [{"form": {}}],
}


def refusals(records, handler: str) -> int:
    return sum(1 for r in records if f"Refused event {handler}:" in r.getMessage())


def test_malformed_start_events_are_refused_with_a_message_and_start_nothing(page, base_url, app_clock, backend_log):  # noqa: F811
    page.add_init_script(HOOK_SOCKET)
    account = register_and_enrol(page, base_url, app_clock)
    open_launch(page, base_url)
    toaster_ready(page)
    expect(page.get_by_role("heading", name="Start a play session")).to_be_visible()

    for count, payload in enumerate(MALFORMED_STARTS.values(), start=1):
        forge(page, f"{LAUNCH_STATE}.start", payload, raw=True)
        wait_for_server(lambda: refusals(backend_log, "LaunchState.start") >= count)
        expect(page.get_by_text(REFUSED)).to_be_visible()
    assert refusals(backend_log, "LaunchState.start") == len(MALFORMED_STARTS)
    assert_no_exception_logged(backend_log)
    assert plays_of(account.email) == []

    # Fields of the wrong kind inside a well-formed form are answered under the fields.
    forge(page, f"{LAUNCH_STATE}.start", {"form": {"chain_id": "1", "minutes": "7", "spending_limit": 5}})
    expect(page.locator("#chain_id-error")).to_have_text("Choose one of the networks offered.")
    expect(page.locator("#minutes-error")).to_have_text("Choose a length of 15, 30 or 60 minutes.")
    expect(page.locator("#spending_limit-error")).to_have_text("Enter a spending limit.")
    assert plays_of(account.email) == []

    start_session(page, limit="1")  # the form still works
    assert len(plays_of(account.email)) == 1
    assert_no_exception_logged(backend_log)


def _victim_with_a_running_session():
    """Another account, with a play session running (made through the cores the page calls)."""
    from fuzzydice.auth import flows
    from fuzzydice.play.sessions import start_play
    from fuzzydice.services import get_services

    services = get_services()
    registered = flows.register(services, name="Vic Tim", email=f"victim-{uuid.uuid4().hex[:10]}@example.com", password=PASSWORD)
    assert registered.ok, registered
    started = start_play(services, registered.value.user_id, 31337, 60, "5")
    assert started.ok, started
    return registered.value.user_id, started.value


def test_another_accounts_play_session_cannot_be_ended_through_the_page(
    page, base_url, app_clock, backend_log  # noqa: F811
):
    from fuzzydice.play.sessions import current_play
    from fuzzydice.services import get_services

    victim_id, victim_play = _victim_with_a_running_session()
    page.add_init_script(HOOK_SOCKET)
    account = register_and_enrol(page, base_url, app_clock)
    open_launch(page, base_url)
    toaster_ready(page)
    expect(page.get_by_role("heading", name="Start a play session")).to_be_visible()

    # The end event takes no id: one carrying the victim's is refused before the handler runs.
    forge(page, f"{LAUNCH_STATE}.end_session", {"play_id": victim_play.id})
    wait_for_server(lambda: refusal_logged(backend_log, "LaunchState.end_session"))
    expect(page.get_by_text(REFUSED)).to_be_visible()
    # The backend var naming the session it ends cannot be set from the browser.
    forge(page, f"{LAUNCH_STATE}.setvar", {"var_name": "_play_id", "value": victim_play.id})
    wait_for_server(lambda: refusal_logged(backend_log, "LaunchState.setvar"))
    # A well-formed end (and a countdown's answer) from a tab of an account with nothing running end nothing.
    forge(page, f"{LAUNCH_STATE}.end_session")
    forge(page, f"{LAUNCH_STATE}.countdown_done", {"reason": "ended"})

    start_session(page, limit="1")  # the attacker's own session: "End session" ends it, and only it
    page.get_by_role("button", name="End session").click()
    expect(page.get_by_role("status").filter(has_text="Your play session has ended.")).to_be_visible()
    [own] = plays_of(account.email)
    assert own.end_reason == "user"
    forge(page, f"{LAUNCH_STATE}.end_session")
    forge(page, f"{LAUNCH_STATE}.countdown_done", {"reason": "ended"})
    start_session(page, limit="2")  # answered after the forged events: they have all run by now

    assert current_play(get_services(), victim_id) == victim_play
    assert_no_exception_logged(backend_log)
