"""safe_local_path: only paths on this site survive (no open redirects)."""

from __future__ import annotations

import pytest

from fuzzydice.urls import safe_local_path


@pytest.mark.parametrize("path", ["/", "/user/home", "/user/home?tab=keys#top", "/login?next=%2Fuser%2Fhome"])
def test_local_paths_are_kept(path: str) -> None:
    assert safe_local_path(path) == path


@pytest.mark.parametrize(
    "candidate",
    [
        "//evil.com",
        "//evil.com/user/home",
        "https://evil.com",
        "http://evil.com/user/home",
        "/\\evil.com",
        "\\\\evil.com",
        "",
        None,
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "user/home",
        "/\t/evil.com",
        "/\n/evil.com",
    ],
)
def test_foreign_or_malformed_targets_give_the_default(candidate: str | None) -> None:
    assert safe_local_path(candidate) == "/"
    assert safe_local_path(candidate, default="/login") == "/login"


def test_percent_encoded_slashes_stay_local() -> None:
    # The browser does not decode %2F in a path: this is a page of this site, not //evil.com.
    assert safe_local_path("/%2F%2Fevil.com") == "/%2F%2Fevil.com"
