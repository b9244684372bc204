"""End to end: password accounts, the HttpOnly session cookie, the guard and tabs that follow."""

from __future__ import annotations

import re

import httpx
from playwright.sync_api import expect

from tests.attacker_site import AttackerSite
from tests.e2e.journeys import (
    HOME,
    LOGIN,
    PASSWORD,
    SCAN,
    register,
    register_and_enrol,
    sign_in,
    sign_in_password,
    sign_out,
    unique_email,
)

FOLLOW_MS = 10_000  # a tab follows within a few seconds; this is only the upper bound of the wait


def session_cookie(context) -> dict:
    cookies = [c for c in context.cookies() if c["name"].endswith("fd_session")]
    assert len(cookies) == 1, cookies
    return cookies[0]


def test_register_reload_new_tab_and_sign_out_everywhere(context, base_url, app_clock):
    tab_a = context.new_page()
    register_and_enrol(tab_a, base_url, app_clock, name="Grace Hopper")
    expect(tab_a.get_by_text("Grace Hopper")).to_be_visible()
    expect(tab_a.locator("#last-sign-in")).to_contain_text("first sign-in")

    tab_a.reload()
    expect(tab_a).to_have_url(HOME)
    expect(tab_a.get_by_text("Grace Hopper")).to_be_visible()

    tab_b = context.new_page()
    tab_b.goto(f"{base_url}/user/home")
    expect(tab_b).to_have_url(HOME)
    expect(tab_b.get_by_text("Grace Hopper")).to_be_visible()

    sign_out(tab_a)
    # Tab B was left alone: it must leave home by itself.
    expect(tab_b).to_have_url(LOGIN, timeout=FOLLOW_MS)
    expect(tab_b.get_by_text("Grace Hopper")).to_have_count(0)
    assert not [c for c in context.cookies() if c["name"].endswith("fd_session")]

    tab_b.goto(f"{base_url}/user/home")
    expect(tab_b).to_have_url(re.compile(r"/login/?\?next=(%2F|/)user(%2F|/)home$"))
    expect(tab_b.get_by_role("heading", name="Sign in")).to_be_visible()


def test_sign_in_remember_me_and_next(context, page, base_url, app_clock):
    account = register_and_enrol(page, base_url, app_clock)
    sign_out(page)

    page.goto(f"{base_url}/user/home")
    expect(page).to_have_url(re.compile(r"next="))
    sign_in(page, base_url, account, app_clock, remember=True, path="")
    # The previous sign-in (registration) is shown now.
    expect(page.locator("#last-sign-in")).to_contain_text("UTC")
    cookie = session_cookie(context)
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax" and cookie["path"] == "/"
    assert cookie["expires"] > 0, "remember me makes the cookie persistent"

    # A signed-in browser that opens /login or /register goes home.
    page.goto(f"{base_url}/login")
    expect(page).to_have_url(HOME)
    page.goto(f"{base_url}/register")
    expect(page).to_have_url(HOME)


def test_wrong_password_and_unknown_email_look_the_same(page, base_url):
    account = register(page, base_url)
    expect(page).to_have_url(SCAN)
    sign_out(page)

    messages = []
    for email, password in ((account.email, "not the password at all"), (unique_email(), PASSWORD)):
        account.email, account.password = email, password
        sign_in_password(page, base_url, account)
        alert = page.get_by_role("alert")
        expect(alert).to_be_visible()
        messages.append(alert.inner_text())
        expect(page).to_have_url(LOGIN)
    assert messages[0] == messages[1] == "Email or password is incorrect."


def test_registration_errors_in_plain_words(page, base_url):
    page.goto(f"{base_url}/register")
    page.get_by_label("Name").fill("Bob")
    page.get_by_label("Email").fill(unique_email())
    page.get_by_label("Password", exact=True).fill("password123")
    page.get_by_label("Phone (optional)").fill("12345")
    page.get_by_role("button", name="Create account").click()
    expect(page.locator("#password-error")).to_contain_text("common password")
    expect(page.locator("#phone-error")).to_contain_text("international format")
    expect(page).to_have_url(re.compile(r"/register/?$"))
    # Nothing typed is lost.
    expect(page.get_by_label("Name")).to_have_value("Bob")

    page.get_by_label("Password", exact=True).fill("short")
    page.get_by_role("button", name="Show password").click()
    expect(page.get_by_label("Password", exact=True)).to_have_attribute("type", "text")
    page.get_by_role("button", name="Create account").click()
    expect(page.locator("#password-error")).to_contain_text("at least 8 characters")


def test_session_token_is_not_readable_by_scripts(context, page, base_url):
    register(page, base_url)
    expect(page).to_have_url(SCAN)
    token = session_cookie(context)["value"]
    assert len(token) >= 43
    seen = page.evaluate(
        """() => JSON.stringify({cookie: document.cookie,
                 local: Object.entries(localStorage), session: Object.entries(sessionStorage)})"""
    )
    assert token not in seen
    assert "fd_session" not in page.evaluate("() => document.cookie")


def test_tab_opened_before_sign_in_picks_up_the_session(context, base_url, app_clock):
    early = context.new_page()
    early.goto(f"{base_url}/login")
    expect(early.get_by_role("heading", name="Sign in")).to_be_visible()

    other = context.new_page()
    register_and_enrol(other, base_url, app_clock, name="Early Tab")

    early.goto(f"{base_url}/user/home")
    expect(early).to_have_url(HOME)
    expect(early.get_by_text("Early Tab")).to_be_visible()


def test_claim_ticket_replay_and_missing_bind_are_refused(context, page, base_url):
    captured: dict[str, str] = {}

    def capture(route):
        request = route.request
        captured["url"] = request.url
        captured["body"] = request.post_data or ""
        captured["cookie"] = request.headers.get("cookie", "")
        route.continue_()

    page.route(re.compile(r".*/api/session/claim$"), capture)
    register(page, base_url)
    expect(page).to_have_url(SCAN)
    assert "ticket=" in captured["body"] and "tab=" in captured["body"] and "fd_bind_" in captured["cookie"]

    # Replayed as the page would post it (its Origin), with its own bind cookie: single use.
    headers = {"content-type": "application/x-www-form-urlencoded", "cookie": captured["cookie"], "origin": base_url}
    replay = httpx.post(captured["url"], content=captured["body"], headers=headers, follow_redirects=False)
    assert replay.status_code == 400
    assert "fd_session" not in replay.headers.get("set-cookie", "").split(";")[0] or "Max-Age=0" in replay.headers.get(
        "set-cookie", ""
    )
    assert "already used" in replay.text

    # A fresh ticket posted without its bind cookie is refused, and that burns it.
    sign_out(page)
    page.unroute(re.compile(r".*/api/session/claim$"))
    held: dict[str, str] = {}

    def hold(route):
        held["url"], held["body"] = route.request.url, route.request.post_data or ""
        held["cookie"] = route.request.headers.get("cookie", "")
        route.abort()

    page.route(re.compile(r".*/api/session/claim$"), hold)
    register(page, base_url)
    for _ in range(100):
        if held:
            break
        page.wait_for_timeout(100)
    assert "ticket=" in held["body"]
    form = {"content-type": "application/x-www-form-urlencoded", "origin": base_url}
    without_bind = httpx.post(held["url"], content=held["body"], headers=form, follow_redirects=False)
    assert without_bind.status_code == 400
    assert "set-cookie" not in without_bind.headers or "fd_session=" not in without_bind.headers["set-cookie"]
    with_bind_after = httpx.post(
        held["url"], content=held["body"], headers={**form, "cookie": held["cookie"]}, follow_redirects=False
    )
    assert with_bind_after.status_code == 400


def _websocket_handshake(backend_url: str, origin: str) -> str:
    from websockets.exceptions import InvalidStatus
    from websockets.sync.client import connect

    url = backend_url.replace("http://", "ws://") + "/_event/?EIO=4&transport=websocket"
    try:
        with connect(url, origin=origin, open_timeout=5) as ws:
            return "open" if ws.recv(timeout=5).startswith("0") else "no greeting"
    except InvalidStatus as exc:
        return f"refused {exc.response.status_code}"


def test_websocket_from_another_origin_is_refused(backend_url, base_url):
    """The socket.io handshake answers only the exact page origins (engine.io checks Origin)."""
    assert _websocket_handshake(backend_url, base_url) == "open"
    port = base_url.rsplit(":", 1)[1]
    for origin in ("http://127.0.0.1:1", f"http://localhost:{port}", "http://evil.example", "null"):
        assert _websocket_handshake(backend_url, origin).startswith("refused 4"), origin


OPEN_WEBSOCKET_JS = """(url) => new Promise((resolve) => {
    const ws = new WebSocket(url);
    const timer = setTimeout(() => resolve('timeout'), 5000);
    ws.onmessage = () => { clearTimeout(timer); resolve('open'); ws.close(); };
    ws.onerror = () => { clearTimeout(timer); resolve('refused'); };
})"""


def open_websocket_from(page, ws_url: str) -> str:
    """Open a websocket from `page`'s origin: 'open' (greeting received), 'refused' or 'timeout'."""
    return page.evaluate(OPEN_WEBSOCKET_JS, ws_url)


def test_websocket_from_another_origin_is_refused_in_a_browser(context, base_url, backend_url):
    """A page on another port of the same host cannot open the app's websocket."""
    with AttackerSite() as site:
        evil = context.new_page()
        evil.goto(site.page("/", "<!doctype html><title>evil</title>"))
        ws_url = backend_url.replace("http://", "ws://") + "/_event/?EIO=4&transport=websocket"
        assert open_websocket_from(evil, ws_url) == "refused"
        # The same code on the app's own page gets the engine.io greeting.
        own = context.new_page()
        own.goto(base_url + "/")
        assert open_websocket_from(own, ws_url) == "open"


def test_button_spins_and_is_disabled_while_signing_in(page, base_url, monkeypatch):
    """While the check runs the button is disabled (no double submit); a slow hasher makes that observable."""
    import threading

    from fuzzydice.services import get_services

    hasher = get_services().hasher
    release = threading.Event()
    real_verify = hasher.verify

    def held_verify(password, stored):
        release.wait(timeout=20)
        return real_verify(password, stored)

    monkeypatch.setattr(hasher, "verify", held_verify)
    page.goto(f"{base_url}/login")
    page.get_by_label("Email").fill(unique_email())
    page.get_by_label("Password", exact=True).fill("whatever it is")
    button = page.locator("form button[type=submit]")  # its name hides behind the spinner while busy
    button.click()
    try:
        expect(button).to_be_disabled()
        button.click(force=True)  # a second click while busy changes nothing
    finally:
        release.set()
    expect(page.get_by_role("alert")).to_have_text("Email or password is incorrect.")
    expect(button).to_be_enabled()


def test_after_sign_out_what_is_typed_on_the_sign_in_page_stays(page, base_url, app_clock):
    # The tab's session watcher of the signed-in page must not outlive sign-out's page loads
    # (Reflex cancels a page's on_load chain when the tab navigates) and reload the sign-in page
    # under the person typing into it.
    account = register_and_enrol(page, base_url, app_clock)
    sign_out(page)
    page.evaluate("() => { window.__stillHere = true; }")
    page.get_by_label("Email").fill(account.email)
    watcher_rounds = 3  # the watcher checks every 2 s: three rounds, then look
    page.wait_for_timeout(watcher_rounds * 2_000)
    assert page.evaluate("() => window.__stillHere === true"), "the sign-in page was reloaded"
    expect(page.get_by_label("Email")).to_have_value(account.email)
    # And the next sign-in in the same tab is followed by a watcher of its own: sign-out elsewhere reaches it.
    sign_in(page, base_url, account, app_clock, path="")
    other = page.context.new_page()
    other.goto(f"{base_url}/user/home")
    sign_out(other)
    expect(page).to_have_url(LOGIN, timeout=FOLLOW_MS)
