"""Route constants and route classes (public, pending, full)."""

from __future__ import annotations

from typing import Literal

from fuzzydice.auth.sessions import FIRST_FACTOR

LANDING = "/"
LOGIN = "/login"
REGISTER = "/register"
CONNECT = "/login/connect"
SCAN = "/login/scan"
VERIFY = "/login/verify"
USER_HOME = "/user/home"

RouteClass = Literal["public", "pending", "full"]

PUBLIC_ROUTES = frozenset({LANDING, LOGIN, REGISTER, CONNECT})
PENDING_ROUTES = frozenset({SCAN, VERIFY})

# Until a second factor exists (Foundation II), full pages need the first factor.
_REQUIRED_LEVEL: dict[RouteClass, int] = {"public": 0, "pending": FIRST_FACTOR, "full": FIRST_FACTOR}


def normalize_path(path: str) -> str:
    """Strip the query and a trailing slash (prod serves `/user/home/`)."""
    path = (path or "/").split("?", 1)[0].split("#", 1)[0]
    return path.rstrip("/") or "/"


def route_class(path: str) -> RouteClass:
    """The class of a page path; anything not listed is a full page."""
    path = normalize_path(path)
    if path in PUBLIC_ROUTES:
        return "public"
    if path in PENDING_ROUTES:
        return "pending"
    return "full"


def required_level(cls: RouteClass) -> int:
    """The session factor level a route class needs (0: none)."""
    return _REQUIRED_LEVEL[cls]
