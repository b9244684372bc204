"""Attack: a page on another port of the same host posts to the cookie hand-off routes.

Ports do not separate sites: SameSite=Lax cookies ride along with a top-level POST from
`http://127.0.0.1:<other port>`, and such a page can write cookies for 127.0.0.1 too. Before
the fix only `Sec-Fetch-Site: cross-site` was refused, so that page could sign the victim out
(`/api/session/logout`) and, after planting its own bind cookie, post the attacker's ticket to
`/api/session/claim`: the victim's browser was then signed in to the attacker's account.
Served here in real Chromium, from a real server on a free port of 127.0.0.1.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from fuzzydice.auth import flows
from fuzzydice.auth.sessions import FULL
from fuzzydice.models import AuthSession
from fuzzydice.services import get_services
from tests.attacker_site import AttackerSite
from tests.conftest import STRONG_PASSWORD
from tests.e2e.journeys import HOME, register_and_enrol, unique_email


@pytest.fixture
def attacker() -> Iterator[AttackerSite]:
    with AttackerSite() as site:
        yield site


def sessions_of(user_id: int) -> int:
    with get_services().db() as session:
        return session.execute(
            sa.select(sa.func.count()).select_from(AuthSession).where(AuthSession.user_id == user_id)
        ).scalar_one()


def test_a_same_site_page_cannot_sign_the_victim_out(page, base_url, backend_url, app_clock, attacker) -> None:
    register_and_enrol(page, base_url, app_clock)
    url = attacker.auto_post("/logout", f"{backend_url}/api/session/logout", {})
    with page.expect_navigation(url=re.compile(r"/api/session/logout")) as navigation:
        page.goto(url)
    assert navigation.value.status == 403
    page.goto(f"{base_url}/user/home")
    expect(page).to_have_url(HOME)
    expect(page.get_by_role("button", name="Account menu")).to_be_visible()


def test_a_same_site_page_cannot_sign_the_victim_in_to_the_attackers_account(
    page, base_url, backend_url, attacker
) -> None:
    services = get_services()
    registered = flows.register(services, name="Mallory", email=unique_email(), password=STRONG_PASSWORD)
    assert registered.ok, registered
    mallory = registered.value.user_id
    # The attacker earned a full ticket in their own browser and tab; the victim's browser is to redeem it.
    ticket = flows.start_session_handoff(
        services, user_id=mallory, factor_level=FULL, remember=True, next_path="/user/home", tab="mallory-tab"
    )
    cookie = f"{services.settings.bind_cookie_name}_{ticket.tag}={ticket.bind}; Path=/; SameSite=Strict"
    url = attacker.auto_post(
        "/claim",
        f"{backend_url}/api/session/claim",
        {"ticket": ticket.ticket, "tag": ticket.tag, "tab": "mallory-tab"},
        cookie=cookie,
    )
    page.goto(f"{base_url}/login")  # the victim's browser knows the app
    with page.expect_navigation(url=re.compile(r"/api/session/claim")) as navigation:
        page.goto(url)
    assert navigation.value.status == 403
    assert sessions_of(mallory) == 0
    assert not [c for c in page.context.cookies() if c["name"].endswith(services.settings.session_cookie_name)]
    page.goto(f"{base_url}/user/home")
    expect(page).to_have_url(re.compile(r"/login"))
