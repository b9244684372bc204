"""Attack review finding 11: security headers, framing and the Host header in redirects.

These run against the app as production serves it: `backend_url` is the harness's
backend with the compiled pages mounted, exactly as `reflex run --env prod`
(`make run`) serves pages, static files, `/api` and the websocket on one origin.
"""

from __future__ import annotations

import http.client
import re
import time
from urllib.parse import urljoin, urlsplit

import httpx
from playwright.sync_api import expect

from fuzzydice.ui import routes
from tests.attacker_site import AttackerSite
from fuzzydice.ui.pages import ALL_PAGES
from tests.security.tab_state import CSP_LISTENER, wait_hydrated
from tests.e2e.journeys import (
    BACKUP_CODES, HOME, LOGIN, SCAN, VERIFY, code_now, enter_code, register_and_enrol, sign_in_password, sign_out,
)

PAGES = sorted(page.route for page in ALL_PAGES)  # every declared page (the app under test runs in demo mode)
FORGED_HOST = "evil.example"
CSP_PROBE = "http://evil.example/csp-probe.png"


def _get(url: str, path: str, **kwargs) -> httpx.Response:
    return httpx.request(kwargs.pop("method", "GET"), url + path, follow_redirects=False, timeout=10, **kwargs)


def _asset_paths(backend_url: str) -> list[str]:
    html = _get(backend_url, "/login/").text
    found = re.findall(r'href="(/assets/[^"]+\.(?:css|js))"', html)
    assert found, "no static assets linked from /login/"
    return sorted(set(found))[:3]


def assert_protective_headers(response: httpx.Response, what: str) -> None:
    csp = response.headers.get("content-security-policy", "")
    directives = {part.split()[0]: part.split()[1:] for part in csp.split(";") if part.strip()}
    assert directives.get("frame-ancestors") == ["'none'"], f"{what}: CSP {csp!r}"
    assert directives.get("object-src") == ["'none'"], f"{what}: CSP {csp!r}"
    assert "'unsafe-inline'" not in directives.get("script-src", []), f"{what}: CSP {csp!r}"
    assert response.headers.get("x-frame-options") == "DENY", what
    assert response.headers.get("x-content-type-options") == "nosniff", what
    assert response.headers.get("referrer-policy") == "same-origin", what


def test_every_page_static_file_and_api_route_sends_the_headers(backend_url):
    responses = {}
    for page in PAGES:
        for path in {page, page.rstrip("/") + "/"}:
            responses[f"GET {path}"] = _get(backend_url, path)
    for path in _asset_paths(backend_url):
        responses[f"GET {path}"] = _get(backend_url, path, headers={"accept-encoding": "gzip"})
    responses["GET /api/health"] = _get(backend_url, "/api/health")
    responses["GET /api/check"] = _get(backend_url, "/api/check?address=0x0000000000000000000000000000000000000001")
    responses["GET /api/check (bad input)"] = _get(backend_url, "/api/check?address=nope")
    responses["POST /api/session/claim"] = _get(backend_url, "/api/session/claim", method="POST", data={"ticket": "x"})
    responses["POST /api/session/logout"] = _get(backend_url, "/api/session/logout", method="POST")
    responses["GET /api/openapi.json"] = _get(backend_url, "/api/openapi.json")
    responses["GET /_health"] = _get(backend_url, "/_health")
    responses["GET unknown page"] = _get(backend_url, "/no/such/page")

    assert responses[f"GET {routes.LOGIN}/"].status_code == 200
    assert responses[f"GET {routes.LOGIN}/"].headers["content-type"].startswith("text/html")
    assert responses["GET /api/health"].json() == {"status": "ok"}
    for what, response in responses.items():
        assert_protective_headers(response, what)
        assert "strict-transport-security" not in response.headers, f"{what}: HSTS over plain http"


def test_html_pages_allow_exactly_their_own_inline_scripts(backend_url):
    """Pages have inline scripts; the CSP names each by hash, so injected inline script stays blocked."""
    import base64
    import hashlib

    response = _get(backend_url, "/login/", headers={"accept-encoding": "gzip"})
    assert response.headers.get("content-encoding") == "gzip"  # hashed from the decoded precompressed file
    scripts = re.findall(r"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", response.text, re.S)
    assert scripts
    csp = response.headers["content-security-policy"]
    for text in scripts:
        digest = base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in csp
    assert "etag" not in response.headers and "last-modified" not in response.headers  # no 304 without hashes


def test_hsts_only_over_https(backend_url, monkeypatch):
    """Behind a TLS proxy (X-Forwarded-Proto from a trusted address), or with Secure cookies forced on."""
    from fuzzydice.settings import get_settings

    plain = _get(backend_url, "/login/")
    assert "strict-transport-security" not in plain.headers
    for path in ("/login/", "/api/health"):
        secure = _get(backend_url, path, headers={"x-forwarded-proto": "https"})
        assert secure.headers.get("strict-transport-security") == "max-age=31536000", path
        assert_protective_headers(secure, path)
    monkeypatch.setattr(get_settings(), "secure_cookies", True)
    assert _get(backend_url, "/api/health").headers.get("strict-transport-security") == "max-age=31536000"


def _raw_get(origin: str, path: str, host: str) -> tuple[int, str | None]:
    """A GET with an exact request target and Host header (httpx would normalize both)."""
    parts = urlsplit(origin)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        connection.putrequest("GET", path, skip_host=True)
        connection.putheader("Host", host)
        connection.endheaders()
        response = connection.getresponse()
        response.read()
        return response.status, response.getheader("location")
    finally:
        connection.close()


def test_a_forged_host_is_not_reflected_in_redirects(backend_url):
    """The static files' trailing-slash redirect built Location from the Host header."""
    own_host = urlsplit(backend_url).netloc
    targets = [page for page in PAGES if page != "/"] + ["//user/home", "//evil.example/../user/home"]
    redirects = 0
    for path in targets:
        for host in (FORGED_HOST, f"{FORGED_HOST}:443", f"{own_host}@{FORGED_HOST}"):
            status, location = _raw_get(backend_url, path, host)
            if status not in (301, 302, 303, 307, 308):
                continue
            redirects += 1
            assert location and FORGED_HOST not in (urlsplit(location).netloc or ""), (path, host, location)
            # Where a browser on the real origin goes: the same origin, never another host.
            landing = urlsplit(urljoin(f"{backend_url}{path if path.startswith('/') else '/'}", location))
            assert landing.netloc == own_host, (path, host, location)
    assert redirects >= len(PAGES) - 1, "the pages no longer redirect to their trailing-slash form: revisit this test"


FRAMING_PAGE = '<!doctype html><title>prize</title><iframe id="victim" src="{src}" width="800" height="600"></iframe>'


def open_page(page, url: str) -> None:
    page.goto(url)
    wait_hydrated(page)


def confirm_fresh_second_factor(page, backend_url: str, account, clock) -> None:
    """On the security page: a fresh code, so the sensitive changes are offered (next to the user's email)."""
    open_page(page, f"{backend_url}{routes.SECURITY}")
    clock.advance(30)
    page.get_by_label("Authenticator code").fill(code_now(account.secret, clock))
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("button", name="Set up a new authenticator")).to_be_visible()
    expect(page.get_by_text(account.email)).to_be_visible()


def test_security_page_does_not_render_in_a_same_site_frame(context, backend_url, app_clock):
    """Clickjacking: a page on another port of 127.0.0.1 is same-site, so the Lax cookie rides along."""
    page = context.new_page()
    account = register_and_enrol(page, backend_url, app_clock, name="Framed User")
    confirm_fresh_second_factor(page, backend_url, account, app_clock)

    with AttackerSite() as site:
        attacker = context.new_page()
        attacker.goto(site.page("/prize", FRAMING_PAGE.format(src=f"{backend_url}{routes.SECURITY}/")))
        frame = attacker.frame_locator("#victim")
        rendered = None
        deadline = time.monotonic() + 8
        while time.monotonic() < deadline and rendered is None:
            child = attacker.frames[1] if len(attacker.frames) > 1 else None
            if child is not None and child.url.startswith("chrome-error://"):
                rendered = False  # Chromium refused to render the page in the frame
            elif frame.get_by_text(account.email).count():
                rendered = True  # the signed-in page, ready for a click on "Remove password"
            else:
                attacker.wait_for_timeout(100)
        assert rendered is False, "the security page rendered inside another site's frame"


def test_real_journeys_raise_no_csp_violation(page, backend_url, app_clock, wallet):
    """Sign-up, enrolment, step-up with a new QR code, sign-out and sign-in, a wallet sign-in: zero violations."""
    violations: list[str] = []
    seen_csp: list[str] = []

    def on_console(message) -> None:
        if "Content Security Policy" in message.text:
            violations.append(f"console: {message.text}")

    def on_response(response) -> None:
        if response.request.resource_type == "document":
            seen_csp.append(response.headers.get("content-security-policy", ""))

    page.expose_function("fdCspViolation", lambda text: violations.append(text))
    page.add_init_script(CSP_LISTENER)
    page.on("console", on_console)
    page.on("response", on_response)

    account = register_and_enrol(page, backend_url, app_clock, name="Policy Walker")
    confirm_fresh_second_factor(page, backend_url, account, app_clock)
    page.get_by_role("button", name="New backup codes").click()
    expect(page).to_have_url(BACKUP_CODES)
    with page.expect_download() as download:  # rx.download: a data: URL
        page.get_by_role("button", name="Download").click()
    assert download.value.suggested_filename == "fuzzydice-backup-codes.txt"
    page.get_by_role("button", name="Continue").click()
    expect(page).to_have_url(HOME)
    open_page(page, f"{backend_url}{routes.SECURITY}")
    page.get_by_role("button", name="Set up a new authenticator").click()
    expect(page.get_by_role("img", name="QR code for your new authenticator")).to_be_visible()  # a data: image
    open_page(page, f"{backend_url}{routes.USER_HOME}")
    sign_out(page)  # the logout form POST
    wait_hydrated(page)
    sign_in_password(page, backend_url, account, path="")  # the claim form POST, twice
    expect(page).to_have_url(VERIFY)
    wait_hydrated(page)
    app_clock.advance(30)
    enter_code(page, code_now(account.secret, app_clock))
    expect(page).to_have_url(HOME)
    wait_hydrated(page)
    sign_out(page)
    expect(page).to_have_url(LOGIN)
    wait_hydrated(page)
    # EIP-6963 discovery, a data: icon, personal_sign: wallet scripts run through rx.call_script (eval).
    page.get_by_role("button", name="Sign in with a wallet").click()
    expect(page).to_have_url(SCAN)
    expect(page.get_by_role("img", name="QR code for your authenticator app")).to_be_visible()

    assert seen_csp and all("frame-ancestors 'none'" in csp for csp in seen_csp), seen_csp
    assert violations == []
    # The listener works: an image from another site is not allowed (only the site's own and data: images are).
    page.evaluate("() => { const probe = new Image(); probe.src = '%s'; document.body.append(probe); }" % CSP_PROBE)
    page.wait_for_timeout(500)
    assert [entry.split(" | ")[:2] for entry in violations if " | " in entry] == [["img-src", CSP_PROBE]]


# --- the middleware alone (no app): the edge cases of the rules above ----------------------------------

def _tiny_app(status: int = 200, headers: list[tuple[bytes, bytes]] | None = None, body: bytes = b"ok"):
    async def app(scope, receive, send):
        await send({"type": "http.response.start", "status": status, "headers": headers or []})
        await send({"type": "http.response.body", "body": body[: len(body) // 2], "more_body": True})
        await send({"type": "http.response.body", "body": body[len(body) // 2:]})

    return app


def _client(app, **settings_overrides):
    from starlette.testclient import TestClient

    from fuzzydice.api.security_headers import SecurityHeadersMiddleware
    from fuzzydice.settings import Settings

    settings = Settings(**{"secure_cookies": None, "hsts": True, **settings_overrides})
    return TestClient(SecurityHeadersMiddleware(app, settings=lambda: settings), base_url="http://testserver")


LOCATIONS = [  # (Host header, Location the app sent, Location the browser gets)
    ("evil.example", "http://evil.example/user/home/", "/user/home/"),
    ("EVIL.example:8080", "https://evil.example:8080/login/?next=/x", "/login/?next=/x"),
    ("evil.example", "http://evil.example//other.example/x/", "/other.example/x/"),  # never protocol-relative
    ("evil.example", "http://evil.example/\\other.example/", "/other.example/"),
    ("evil.example", "http://evil.example", "/"),
    ("evil.example", "http://evil.example.other/x", "http://evil.example.other/x"),  # not the Host: untouched
    ("evil.example", "http://127.0.0.1:3000/user/home", "http://127.0.0.1:3000/user/home"),
    ("evil.example", "/user/home/", "/user/home/"),
]


def test_location_naming_the_request_host_becomes_a_local_path():
    for host, location, expected in LOCATIONS:
        client = _client(_tiny_app(307, [(b"location", location.encode())]))
        response = client.get("/x", headers={"host": host}, follow_redirects=False)
        assert response.headers["location"] == expected, (host, location)


def test_gzip_html_is_hashed_decoded_and_crlf_normalized():
    import base64
    import gzip
    import hashlib

    html = b"<!doctype html><script>a=1;\r\nb=2</script><script src='/x.js'></script><p>hi</p>"
    headers = [(b"content-type", b"text/html; charset=utf-8"), (b"content-encoding", b"gzip"), (b"etag", b'"1"')]
    response = _client(_tiny_app(200, headers, gzip.compress(html))).get("/", headers={"accept-encoding": "gzip"})
    digest = base64.b64encode(hashlib.sha256(b"a=1;\nb=2").digest()).decode()
    assert f"script-src 'self' 'unsafe-eval' 'sha256-{digest}';" in response.headers["content-security-policy"]
    assert response.content == html and "etag" not in response.headers


def test_hsts_follows_the_scheme_and_the_settings():
    assert "strict-transport-security" not in _client(_tiny_app()).get("/").headers
    secure = _client(_tiny_app(), hsts_max_age=60).get("https://testserver/")
    assert secure.headers["strict-transport-security"] == "max-age=60"
    assert _client(_tiny_app(), secure_cookies=True).get("/").headers["strict-transport-security"] == "max-age=31536000"
    assert "strict-transport-security" not in _client(_tiny_app(), hsts=False).get("https://testserver/").headers


def test_html_sent_by_path_is_hashed_too(tmp_path):
    """Granian, the production server, lets FileResponse send a file's path (`http.response.pathsend`)."""
    page = tmp_path / "index.html"
    page.write_bytes(b"<script>go()</script>")

    async def app(scope, receive, send):
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/html")]})
        await send({"type": "http.response.pathsend", "path": str(page)})

    response = _client(app).get("/")
    assert response.content == b"<script>go()</script>"
    assert "'sha256-" in response.headers["content-security-policy"]
