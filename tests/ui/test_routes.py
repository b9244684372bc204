"""Route classes of the pages (pure python; the guard decides access from these)."""

from __future__ import annotations

import pytest

from fuzzydice.auth.sessions import FIRST_FACTOR
from fuzzydice.ui import routes


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("/user/home/", "/user/home"),
        ("/user/home?x=1", "/user/home"),
        ("/user/home/#top", "/user/home"),
        ("/", "/"),
        ("", "/"),
        ("///", "/"),
        ("/login/?next=/user/home", "/login"),
    ],
)
def test_normalize_path(raw: str, normalized: str) -> None:
    assert routes.normalize_path(raw) == normalized


@pytest.mark.parametrize("path", ["/", "/login", "/login/", "/register", "/register?next=/x", "/login/connect"])
def test_public_routes(path: str) -> None:
    assert routes.route_class(path) == "public"
    assert routes.required_level("public") == 0


@pytest.mark.parametrize("path", ["/login/scan", "/login/verify/"])
def test_pending_routes(path: str) -> None:
    assert routes.route_class(path) == "pending"


@pytest.mark.parametrize("path", ["/user/home", "/user/home/", "/user/anything", "/admin", "/login/other", "/LOGIN"])
def test_everything_else_is_a_full_page(path: str) -> None:
    assert routes.route_class(path) == "full"
    assert routes.required_level("full") >= FIRST_FACTOR


def test_only_public_pages_need_no_session() -> None:
    assert routes.required_level("public") == 0
    assert routes.required_level("pending") >= FIRST_FACTOR
    assert routes.required_level("full") >= routes.required_level("pending")
