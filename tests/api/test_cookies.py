"""Cookie names and parsing (pure functions of the settings)."""

from __future__ import annotations

from pathlib import Path

import pytest

from fuzzydice.api import cookies
from tests.conftest import make_settings


@pytest.fixture
def cookie_settings(tmp_path: Path):
    return make_settings(tmp_path, "sqlite://")


def test_secure_follows_the_scheme_unless_forced(tmp_path: Path, cookie_settings) -> None:
    assert cookies.use_secure(cookie_settings, "https") is True
    assert cookies.use_secure(cookie_settings, "http") is False
    behind_tls_proxy = make_settings(tmp_path, "sqlite://", secure_cookies=True)
    assert cookies.use_secure(behind_tls_proxy, "http") is True
    assert cookies.use_secure(make_settings(tmp_path, "sqlite://", secure_cookies=False), "https") is False


def test_session_cookie_name(cookie_settings) -> None:
    assert cookies.session_cookie_name(cookie_settings, secure=True) == "__Host-fd_session"
    assert cookies.session_cookie_name(cookie_settings, secure=False) == "fd_session"


def test_token_from_header_prefers_the_host_cookie(cookie_settings) -> None:
    header = "fd_session=plain; other=1; __Host-fd_session=hosted"
    assert cookies.session_token_from_header(cookie_settings, header) == "hosted"
    assert cookies.session_token_from_header(cookie_settings, "a=1; fd_session=plain") == "plain"
    assert cookies.session_token_from_cookies(cookie_settings, {"fd_session": "plain", "__Host-fd_session": "h"}) == "h"
    assert cookies.session_token_from_cookies(cookie_settings, {"fd_session": "plain"}) == "plain"


@pytest.mark.parametrize("header", [None, "", "fd_session=", "no cookie here", "=;=;", "; ;", "fd_session"])
def test_token_from_a_missing_or_malformed_header_is_none(cookie_settings, header) -> None:
    assert cookies.session_token_from_header(cookie_settings, header) is None


@pytest.mark.parametrize(
    "header",
    [
        'prefs={"theme": "dark"}; fd_session=tok',  # JSON written by some page script
        "theme=dark mode; fd_session=tok",  # a space in another cookie's value
        "name=Zoë; fd_session=tok",  # non-ASCII in another cookie
        'fd_session=tok; broken="x',
    ],
)
def test_other_unusual_cookies_do_not_hide_the_session(cookie_settings, header: str) -> None:
    # Browsers send such cookies verbatim; the session must still be found (as request.cookies does).
    assert cookies.session_token_from_header(cookie_settings, header) == "tok"
