"""The logo and the favicons (assets/) load on the production stack, under its Content-Security-Policy."""

from __future__ import annotations

import httpx
from playwright.sync_api import expect

from tests.security.tab_state import CSP_LISTENER, wait_hydrated

IMAGE_LOADS_JS = """async (href) => await new Promise((resolve) => {
  const image = new Image();
  image.onload = () => resolve(image.naturalWidth);
  image.onerror = () => resolve(0);
  image.src = href;
})"""


def test_favicon_files_answer_as_images(backend_url, base_url):
    """Both servers of the build (`make run`'s one origin, and the static one) serve assets/ at the root."""
    for origin in (backend_url, base_url):
        for path, kind in (("/favicon.ico", ("image/x-icon", "image/vnd.microsoft.icon")),
                           ("/favicon.svg", ("image/svg+xml",)),
                           ("/logo.svg", ("image/svg+xml",))):
            response = httpx.get(origin + path, timeout=10)
            assert response.status_code == 200, (origin, path)
            assert response.headers["content-type"].split(";")[0] in kind, (origin, path, response.headers)
            assert len(response.content) > 100, (origin, path)
    assert httpx.get(backend_url + "/favicon.ico", timeout=10).content[:4] == b"\x00\x00\x01\x00"  # an ICO header


def test_landing_and_sign_in_show_the_logo_and_link_the_favicons_without_errors(page, backend_url):
    violations: list[str] = []
    errors: list[str] = []
    missing: list[str] = []
    page.expose_function("fdCspViolation", lambda text: violations.append(text))
    page.add_init_script(CSP_LISTENER)
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("response", lambda response: missing.append(response.url) if response.status >= 400 else None)

    for path in ("/", "/login", "/register"):
        page.goto(backend_url + path)
        wait_hydrated(page)
        logo = page.locator("#brand-logo")
        expect(logo).to_be_visible()
        expect(logo).to_have_attribute("src", "/logo.svg")
        page.wait_for_function("() => document.querySelector('#brand-logo').complete")
        assert logo.evaluate("(image) => image.naturalWidth") > 0, path
        # The link keeps its name: the logo beside the words is decorative.
        expect(page.get_by_role("link", name="Fuzzy Dice", exact=True)).to_have_attribute("href", "/")

        icons = page.evaluate("() => [...document.querySelectorAll('link[rel=icon]')].map((link) => link.href)")
        assert sorted(icons) == [f"{backend_url}/favicon.ico", f"{backend_url}/favicon.svg"], (path, icons)
        for href in icons:  # loaded as the page loads images: through the page's CSP (img-src)
            assert page.evaluate(IMAGE_LOADS_JS, href) > 0, href

    assert violations == []
    assert missing == []
    assert not [text for text in errors if "favicon" in text or "Content Security Policy" in text or "404" in text], errors
