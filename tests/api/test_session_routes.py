"""The `/api/session` cookie routes, through the real FastAPI app and a real database."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from fuzzydice.api.app import create_api
from fuzzydice.auth import flows
from fuzzydice.auth.sessions import FULL
from fuzzydice.auth.tickets import IssuedTicket
from fuzzydice.auth.tokens import token_hash
from fuzzydice.models import AuthSession
from fuzzydice.services import Services
from tests.conftest import TEST_TAB

CLAIM = "/api/session/claim"
LOGOUT = "/api/session/logout"
PAGE = "http://127.0.0.1:3000"  # an allow-listed page origin of the test settings (dev: pages on :3000)
SAME_ORIGIN = {"Sec-Fetch-Site": "same-origin"}


def parse_set_cookies(response) -> dict[str, dict[str, str | bool]]:
    """Set-Cookie headers by cookie name: {"value": ..., "<attribute lowercased>": value or True}."""
    cookies: dict[str, dict[str, str | bool]] = {}
    for header in response.headers.get_list("set-cookie"):
        first, *attributes = [part.strip() for part in header.split(";")]
        name, _, value = first.partition("=")
        parsed: dict[str, str | bool] = {"value": value.strip('"')}
        for attribute in attributes:
            key, eq, attr_value = attribute.partition("=")
            parsed[key.strip().lower()] = attr_value.strip() if eq else True
        cookies[name] = parsed
    return cookies


@pytest.fixture
def user_id(make_user: Callable[..., int]) -> int:
    return make_user("margaret@example.com")


@pytest.fixture
def issue(api_services: Services, user_id: int) -> Callable[..., IssuedTicket]:
    def make(remember: bool = False, next_path: str = "/user/home", **extra) -> IssuedTicket:
        return flows.start_session_handoff(
            api_services, user_id=user_id, factor_level=FULL, remember=remember, next_path=next_path, tab=TEST_TAB,
            **extra,
        )

    return make


def make_client(base_url: str) -> TestClient:
    return TestClient(create_api(), base_url=base_url, follow_redirects=False, raise_server_exceptions=False)


@pytest.fixture
def client(api_services: Services) -> Iterator[TestClient]:
    with make_client("http://testserver") as test_client:
        yield test_client


@pytest.fixture
def https_client(api_services: Services) -> Iterator[TestClient]:
    with make_client("https://testserver") as test_client:
        yield test_client


def bind_cookie(client: TestClient, issued: IssuedTicket) -> str:
    """The bind cookie's name as the page's script sets it (`__Host-` over https)."""
    secure = str(client.base_url).startswith("https")
    return f"{'__Host-' if secure else ''}fd_bind_{issued.tag}"


def claim(
    client: TestClient, issued: IssuedTicket | None, *, bind: bool = True, headers=None, tab: str = TEST_TAB, **kwargs
):
    """Post a ticket as the app's own page does: same-origin, with its bind cookie and the tab's token."""
    if issued is not None and bind:
        client.cookies.set(bind_cookie(client, issued), issued.bind)
    data = {"ticket": issued.ticket, "tag": issued.tag, "tab": tab} if issued is not None else None
    response = client.post(CLAIM, data=data, headers=SAME_ORIGIN if headers is None else headers, **kwargs)
    client.cookies.clear()
    return response


def session_hashes(services: Services) -> list[str]:
    with services.db() as session:
        return list(session.execute(sa.select(AuthSession.token_hash)).scalars())


# --- claim ------------------------------------------------------------------------


def test_claim_sets_the_session_cookie_and_redirects(client: TestClient, issue, api_services: Services) -> None:
    response = claim(client, issue(next_path="/user/home"))
    assert response.status_code == 303
    assert response.headers["location"] == "/user/home"
    assert "no-store" in response.headers["cache-control"]
    cookie = parse_set_cookies(response)["fd_session"]
    assert cookie["httponly"] is True
    assert str(cookie["samesite"]).lower() == "lax"
    assert cookie["path"] == "/"
    assert "max-age" not in cookie and "expires" not in cookie  # a browser-session cookie
    assert "secure" not in cookie  # plain http
    assert "domain" not in cookie
    assert session_hashes(api_services) == [token_hash(str(cookie["value"]))]
    info = flows.current_session(api_services, str(cookie["value"]))
    assert info is not None and info.factor_level == FULL


def test_claim_clears_the_bind_cookie(client: TestClient, issue) -> None:
    issued = issue()
    cookies = parse_set_cookies(claim(client, issued))
    assert cookies[f"fd_bind_{issued.tag}"]["value"] == ""
    assert cookies[f"fd_bind_{issued.tag}"]["max-age"] == "0"


def test_another_tabs_token_is_refused(client: TestClient, issue, api_services: Services) -> None:
    response = claim(client, issue(), tab="another-tab")
    assert response.status_code == 400
    assert "fd_session" not in parse_set_cookies(response)
    assert session_hashes(api_services) == []


def test_over_https_only_the_host_prefixed_bind_cookie_counts(https_client: TestClient, issue) -> None:
    # A plain `fd_bind_…` cookie can be planted by any http page of the host: over https it is ignored.
    issued = issue()
    https_client.cookies.set(f"fd_bind_{issued.tag}", issued.bind)
    response = claim(https_client, issued, bind=False)
    assert response.status_code == 400
    assert "__Host-fd_session" not in parse_set_cookies(response)


def test_remember_me_cookie_lasts_30_days(client: TestClient, issue) -> None:
    cookie = parse_set_cookies(claim(client, issue(remember=True)))["fd_session"]
    assert int(cookie["max-age"]) == int(timedelta(days=30).total_seconds())
    assert cookie["httponly"] is True


def test_https_uses_the_host_prefix_and_secure(https_client: TestClient, issue) -> None:
    response = claim(https_client, issue())
    assert response.status_code == 303
    cookies = parse_set_cookies(response)
    assert "fd_session" not in cookies
    cookie = cookies["__Host-fd_session"]
    assert cookie["secure"] is True and cookie["httponly"] is True
    assert cookie["path"] == "/" and "domain" not in cookie


def test_a_replayed_ticket_is_refused(client: TestClient, issue, api_services: Services) -> None:
    issued = issue()
    assert claim(client, issued).status_code == 303
    replay = claim(client, issued)
    assert replay.status_code == 400
    assert "fd_session" not in parse_set_cookies(replay)
    assert "already used" in replay.text
    assert "no-store" in replay.headers["cache-control"]
    assert len(session_hashes(api_services)) == 1


def test_a_ticket_without_its_bind_cookie_is_refused(client: TestClient, issue, api_services: Services) -> None:
    response = claim(client, issue(), bind=False)
    assert response.status_code == 400
    assert "fd_session" not in parse_set_cookies(response)
    assert session_hashes(api_services) == []


@pytest.mark.parametrize(
    "headers",
    [
        {"Sec-Fetch-Site": "cross-site", "Origin": "http://evil.example"},
        # A page on another port of the same host is same-site: SameSite=Lax lets its POST carry cookies.
        {"Sec-Fetch-Site": "same-site", "Origin": "http://127.0.0.1:9999"},
        {"Sec-Fetch-Site": "same-site"},
        {"Origin": "http://127.0.0.1:9999"},
        {"Origin": "null"},
        {},
    ],
    ids=["cross-site", "same-site-other-port", "same-site-no-origin", "origin-only", "null-origin", "no-headers"],
)
def test_a_claim_from_anywhere_but_the_apps_pages_is_forbidden(
    client: TestClient, issue, api_services: Services, headers: dict
) -> None:
    response = claim(client, issue(), headers=headers)
    assert response.status_code == 403
    assert "fd_session" not in parse_set_cookies(response)
    assert session_hashes(api_services) == []


@pytest.mark.parametrize(
    "headers", [SAME_ORIGIN, {"Sec-Fetch-Site": "same-site", "Origin": PAGE}, {"Origin": PAGE}], ids=["same-origin", "dev-page", "no-fetch-metadata"]
)
def test_claims_from_the_apps_pages_are_allowed(client: TestClient, issue, headers: dict) -> None:
    assert claim(client, issue(), headers=headers).status_code == 303


def test_redirect_returns_to_the_allow_listed_page_origin(client: TestClient, issue) -> None:
    # Dev: the page is served on :3000, the backend on :8000 of the same host.
    response = claim(client, issue(), headers={"Origin": PAGE, "Sec-Fetch-Site": "same-site"})
    assert response.headers["location"] == f"{PAGE}/user/home"


@pytest.mark.parametrize("host", ["evil.example", "evil.example:3000", "127.0.0.1:3000.evil.example"])
def test_the_host_header_is_never_reflected(client: TestClient, issue, host: str) -> None:
    origin = f"http://{host}"
    response = claim(client, issue(), headers={"Host": host, "Origin": origin, **SAME_ORIGIN})
    assert response.status_code == 303
    assert response.headers["location"] == "/user/home"


@pytest.mark.parametrize("next_path", ["//evil.example/x", "https://evil.example", "/\\evil.example"])
def test_a_foreign_next_path_becomes_the_landing_page(client: TestClient, issue, next_path: str) -> None:
    assert claim(client, issue(next_path=next_path)).headers["location"] == "/"


def test_privilege_change_replaces_the_session_cookie(client: TestClient, issue, api_services: Services) -> None:
    old = parse_set_cookies(claim(client, issue()))["fd_session"]["value"]
    upgraded = flows.start_session_handoff(
        api_services, user_id=flows.current_session(api_services, old).user_id, factor_level=FULL, remember=False,
        next_path="/user/home", replaces_token=old, tab=TEST_TAB,
    )
    new = parse_set_cookies(claim(client, upgraded))["fd_session"]["value"]
    assert new != old
    assert flows.current_session(api_services, old) is None
    assert flows.current_session(api_services, new).factor_level == FULL


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (None, None),
        (b"", "application/x-www-form-urlencoded"),
        (b'{"ticket": "abc"}', "application/json"),
        (b"ticket=%ZZ%", "application/x-www-form-urlencoded"),
        (b"garbage", "multipart/form-data"),
        (b"--x\r\nContent-Disposition: form-data\r\n\r\n", "multipart/form-data; boundary=x"),
        (b"\xff\xfe\x00binary", "application/octet-stream"),
        (b"ticket=" + b"A" * 100_000, "application/x-www-form-urlencoded"),
    ],
)
def test_malformed_input_is_a_4xx_never_a_500(client: TestClient, content, content_type) -> None:
    client.cookies.set("fd_bind_0123456789abcdef", "whatever")
    headers = {**SAME_ORIGIN, **({"Content-Type": content_type} if content_type else {})}
    response = client.post(CLAIM, content=content, headers=headers)
    assert 400 <= response.status_code < 500, response.text
    assert "fd_session" not in parse_set_cookies(response)
    assert "Traceback" not in response.text


def test_claim_only_accepts_post(client: TestClient) -> None:
    assert client.get(CLAIM).status_code == 405


# --- logout -----------------------------------------------------------------------------


def expired(cookie: dict[str, str | bool]) -> bool:
    if cookie.get("max-age") is not None:
        return int(cookie["max-age"]) <= 0
    return parsedate_to_datetime(str(cookie["expires"])) <= datetime.now(timezone.utc)


def test_logout_ends_the_session_and_expires_the_cookie(client: TestClient, issue, api_services: Services) -> None:
    token = parse_set_cookies(claim(client, issue()))["fd_session"]["value"]
    client.cookies.set("fd_session", str(token))
    response = client.post(LOGOUT, headers=SAME_ORIGIN)
    assert response.status_code == 303
    assert response.headers["location"] == "/login"
    assert "no-store" in response.headers["cache-control"]
    cookie = parse_set_cookies(response)["fd_session"]
    assert cookie["value"] == "" and expired(cookie)
    assert cookie["path"] == "/"
    assert session_hashes(api_services) == []
    # The old cookie, replayed, is worth nothing.
    assert flows.current_session(api_services, str(token)) is None


def test_logout_over_https_expires_the_host_cookie(https_client: TestClient, issue, api_services: Services) -> None:
    token = parse_set_cookies(claim(https_client, issue()))["__Host-fd_session"]["value"]
    https_client.cookies.set("__Host-fd_session", str(token))
    response = https_client.post(LOGOUT, headers=SAME_ORIGIN)
    assert response.status_code == 303
    cookie = parse_set_cookies(response)["__Host-fd_session"]
    assert expired(cookie) and cookie["secure"] is True
    assert session_hashes(api_services) == []


def test_logout_returns_to_the_pages_origin(client: TestClient) -> None:
    response = client.post(LOGOUT, headers={"Origin": PAGE, "Sec-Fetch-Site": "same-site"})
    assert response.headers["location"] == f"{PAGE}/login"
    response = client.post(LOGOUT, headers={"Origin": "http://evil.example", **SAME_ORIGIN})
    assert response.headers["location"] == "/login"


def test_logout_without_a_session_is_harmless(client: TestClient) -> None:
    response = client.post(LOGOUT, headers=SAME_ORIGIN)
    assert response.status_code == 303
    client.cookies.set("fd_session", "never-issued")
    assert client.post(LOGOUT, headers=SAME_ORIGIN).status_code == 303


def test_health(client: TestClient) -> None:
    assert client.get("/api/health").json() == {"status": "ok"}


@pytest.mark.parametrize(
    "headers",
    [
        {"Sec-Fetch-Site": "cross-site", "Origin": "http://evil.example"},
        {"Sec-Fetch-Site": "same-site", "Origin": "http://127.0.0.1:9999"},
        {},
    ],
    ids=["cross-site", "same-site-other-port", "no-headers"],
)
def test_a_logout_from_anywhere_but_the_apps_pages_is_refused_and_changes_nothing(
    client: TestClient, issue, api_services: Services, headers: dict
) -> None:
    token = parse_set_cookies(claim(client, issue()))["fd_session"]["value"]
    client.cookies.set("fd_session", str(token))
    response = client.post(LOGOUT, headers=headers)
    assert response.status_code == 403
    assert "fd_session" not in parse_set_cookies(response)  # the cookie is not expired by a foreign site
    assert flows.current_session(api_services, str(token)) is not None
