"""`/launch` in Chromium: start a play session, see it run (reload, another tab), end it, let its time run out."""

from __future__ import annotations

import re
from datetime import timedelta

import sqlalchemy as sa
from playwright.sync_api import expect

from tests.e2e.journeys import register_and_enrol

PHONE = {"width": 390, "height": 844}
NO_OVERFLOW_JS = "() => Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)"
RUNNING_MESSAGE = "A play session is already running. End it before starting another one."
TIME_UP = "Time is up: your play session has ended."
ENDED = "Your play session has ended."
L1 = "Local Ethereum (anvil)"
L2 = "Local L2 (anvil)"
TIME_LEFT = re.compile(r"^(\d+:)?\d{1,2}:\d{2}$")
# Counts the start events the tab sends (a double click must send two for the test to mean anything).
COUNT_STARTS = """
const send = WebSocket.prototype.send;
window.__fdStarts = 0;
WebSocket.prototype.send = function (data) {
  if (typeof data === 'string' && data.includes('launch_state.start')) window.__fdStarts += 1;
  return send.call(this, data);
};
"""


def plays_of(email: str) -> list:
    """The account's play session rows, oldest first."""
    from fuzzydice.models import Identity, PlaySession
    from fuzzydice.services import get_services

    with get_services().db() as session:
        user_id = session.execute(sa.select(Identity.user_id).where(Identity.identifier == email.lower())).scalar_one()
        return list(
            session.execute(sa.select(PlaySession).where(PlaySession.user_id == user_id).order_by(PlaySession.id))
            .scalars()
            .all()
        )


def open_launch(page, base_url: str) -> None:
    """The launch page, hydrated: its on_load has chosen the first network."""
    page.goto(f"{base_url}/launch")
    expect(page.get_by_role("main").get_by_role("heading", level=1)).to_have_text("Launch")
    expect(page.locator("[aria-current=page]")).to_have_text("Launch")


def form_ready(page) -> None:
    expect(page.get_by_role("heading", name="Start a play session")).to_be_visible()
    # Hydrated: on_load has chosen a network (the first, or the one chosen before).
    expect(page.get_by_role("radiogroup", name="Network").get_by_role("radio", checked=True)).to_have_count(1)


def fill_form(page, *, limit: str, network: str | None = None, minutes: int | None = None) -> None:
    form_ready(page)
    if network:
        page.get_by_role("radiogroup", name="Network").get_by_role("radio", name=re.compile(f"^{re.escape(network)}")).click()
    if minutes:
        page.get_by_role("radiogroup", name="Length").get_by_role("radio", name=f"{minutes} minutes").click()
    page.get_by_label("Spending limit").fill(limit)


def start_session(page, **kwargs) -> None:
    fill_form(page, **kwargs)
    page.get_by_role("button", name="Start session").click()
    expect(page.get_by_role("heading", name="Session running")).to_be_visible()


def running_card(page):
    return page.locator("#running-session")


def time_left(page):
    return page.get_by_role("timer")


def past_sessions(page):
    return page.get_by_role("list", name="Past sessions").get_by_role("listitem")


def assert_no_overflow(page) -> None:
    assert page.evaluate(NO_OVERFLOW_JS) <= PHONE["width"]


def test_start_a_15_minute_session_reload_it_and_end_it_at_phone_width(page, base_url, app_clock):
    page.set_viewport_size(PHONE)
    account = register_and_enrol(page, base_url, app_clock)
    open_launch(page, base_url)
    form_ready(page)
    network = page.get_by_role("radiogroup", name="Network")
    expect(network.get_by_role("radio", name=re.compile(f"^{re.escape(L1)}"))).to_be_checked()  # the first by default
    expect(network.get_by_role("radio", name=re.compile(f"^{re.escape(L2)}"))).not_to_be_checked()
    expect(page.get_by_role("radio", name="15 minutes")).to_be_checked()
    expect(page.get_by_role("radio", name="30 minutes")).not_to_be_checked()
    expect(page.get_by_text("not enforced on chain")).to_be_visible()
    expect(page.get_by_text("No past sessions yet.")).to_be_visible()
    assert_no_overflow(page)

    start_session(page, limit="0.5")
    card = running_card(page)
    expect(card.get_by_text(L1)).to_be_visible()
    expect(card.locator("#play-limit")).to_have_text("0.5 ETH")
    expect(card.get_by_text("15 minutes")).to_be_visible()
    expect(card.get_by_text("not enforced on chain")).to_be_visible()
    timer = time_left(page)
    expect(timer).to_have_text(re.compile(r"^1[45]:\d\d$"))
    shown = timer.inner_text()
    expect(timer).not_to_have_text(shown)  # counting down live in the browser
    assert_no_overflow(page)
    [row] = plays_of(account.email)
    assert row.minutes == 15 and row.spending_limit == "0.5" and row.ended_at is None

    page.reload()
    expect(page.get_by_role("heading", name="Session running")).to_be_visible()  # it lives in the database
    expect(time_left(page)).to_have_text(re.compile(r"^1[45]:\d\d$"))
    expect(running_card(page).get_by_text(L1)).to_be_visible()

    end = page.get_by_role("button", name="End session")
    end.click()
    expect(page.get_by_role("status").filter(has_text=ENDED)).to_be_visible()
    expect(page.get_by_role("heading", name="Session running")).to_have_count(0)
    form_ready(page)
    [past] = past_sessions(page).all()
    expect(past).to_contain_text(f"15 minutes on {L1}")
    expect(past).to_contain_text("0.5 ETH")
    expect(past).to_contain_text("Ended by you")
    assert_no_overflow(page)
    [row] = plays_of(account.email)
    assert row.end_reason == "user" and row.running_user_id is None


def test_the_page_shows_the_session_ended_once_its_time_is_up(page, base_url, app_clock):
    from fuzzydice.play.sessions import current_play, end_expired_plays
    from fuzzydice.services import get_services

    account = register_and_enrol(page, base_url, app_clock)
    open_launch(page, base_url)
    start_session(page, limit="2", network=L2)
    expect(running_card(page).get_by_text(L2)).to_be_visible()
    [row] = plays_of(account.email)
    assert row.chain_id == 31338

    app_clock.advance(timedelta(minutes=15, seconds=1))
    # The tab comes back into view: the page asks the server, which says the time is up.
    page.evaluate("() => document.dispatchEvent(new Event('visibilitychange'))")
    expect(page.get_by_role("status").filter(has_text=TIME_UP)).to_be_visible()
    expect(page.get_by_role("heading", name="Session running")).to_have_count(0)
    expect(past_sessions(page).first).to_contain_text("Time up")
    expect(past_sessions(page).first).to_contain_text(f"15 minutes on {L2}")

    services = get_services()
    assert current_play(services, row.user_id) is None
    with services.db() as session:
        assert end_expired_plays(session, services.clock.now()) >= 1  # the cleanup writes it
    [row] = plays_of(account.email)
    assert row.end_reason == "expired" and row.running_user_id is None and row.ended_at == row.ends_at

    start_session(page, limit="1")  # the slot is free again
    assert len(plays_of(account.email)) == 2


def test_the_countdown_reaching_zero_asks_the_server_and_shows_the_end(page, base_url, app_clock):
    account = register_and_enrol(page, base_url, app_clock)
    open_launch(page, base_url)
    start_session(page, limit="0", minutes=30)
    expect(running_card(page).get_by_text("30 minutes")).to_be_visible()

    app_clock.advance(timedelta(minutes=30) - timedelta(seconds=3))
    page.reload()  # the server says 0:03 are left; the browser counts them down by itself
    expect(page.get_by_role("heading", name="Session running")).to_be_visible()
    expect(time_left(page)).to_have_text(re.compile(r"^0:0[0-3]$"))
    expect(page.get_by_role("status").filter(has_text=TIME_UP)).to_be_visible(timeout=15_000)
    expect(past_sessions(page).first).to_contain_text("Time up")
    form_ready(page)
    [row] = plays_of(account.email)
    assert row.minutes == 30


def test_a_second_start_from_another_tab_is_refused_and_shows_the_running_one(page, context, base_url, app_clock):
    account = register_and_enrol(page, base_url, app_clock)
    other = context.new_page()  # the same browser, signed in too
    open_launch(other, base_url)
    form_ready(other)
    open_launch(page, base_url)
    start_session(page, limit="0.25", network=L2)

    fill_form(other, limit="3")
    other.get_by_role("button", name="Start session").click()
    expect(other.get_by_role("alert").filter(has_text=RUNNING_MESSAGE)).to_be_visible()
    expect(other.get_by_role("heading", name="Session running")).to_be_visible()
    expect(running_card(other).get_by_text(L2)).to_be_visible()
    expect(running_card(other).locator("#play-limit")).to_have_text("0.25 ETH")
    expect(time_left(other)).to_have_text(TIME_LEFT)
    [row] = plays_of(account.email)
    assert row.spending_limit == "0.25"


def test_a_bad_spending_limit_is_explained_under_the_field(page, base_url, app_clock):
    account = register_and_enrol(page, base_url, app_clock)
    open_launch(page, base_url)
    error = page.locator("#spending_limit-error")
    for typed, message in [
        ("", "Enter a spending limit."),
        ("a lot", "Enter a number, like 0.5."),
        ("-1", "The spending limit cannot be negative."),
        ("0." + "1" * 19, "Use at most 18 decimal places."),
        ("1e9", "Enter at most 1000000 ETH."),
    ]:
        fill_form(page, limit=typed)
        page.get_by_role("button", name="Start session").click()
        expect(error).to_have_text(message)
        expect(error).to_have_attribute("role", "alert")
        expect(page.get_by_role("button", name="Start session")).to_be_enabled()
    assert plays_of(account.email) == []

    start_session(page, limit="1.5")
    expect(running_card(page).locator("#play-limit")).to_have_text("1.5 ETH")


def test_a_double_click_on_start_starts_one_session(page, base_url, app_clock):
    page.add_init_script(COUNT_STARTS)
    account = register_and_enrol(page, base_url, app_clock)
    open_launch(page, base_url)
    fill_form(page, limit="1")
    page.get_by_role("button", name="Start session").dblclick()
    expect(page.get_by_role("heading", name="Session running")).to_be_visible()
    assert page.evaluate("() => window.__fdStarts") == 2

    # Events of a tab run in order: once an event sent after both starts is answered, both were handled.
    page.wait_for_function("() => !!window.__fdCountdown")
    page.evaluate("() => { window.__fdCountdown.seen = true; document.dispatchEvent(new Event('visibilitychange')); }")
    page.wait_for_function("() => !!window.__fdCountdown && !window.__fdCountdown.seen")  # the server's new countdown
    expect(page.get_by_role("alert")).to_have_count(0)  # the second start was ignored, not refused
    assert len(plays_of(account.email)) == 1
