"""Route constants, route classes (public, pending, full) and where a session may be.

The class of each route comes from the pages' declarations (`fuzzydice.ui.pages.ALL_PAGES`):
`PUBLIC_ROUTES` and `PENDING_ROUTES` are read from them on first use.
"""

from __future__ import annotations

import functools
from typing import Literal
from urllib.parse import quote

from fuzzydice import journey
from fuzzydice.auth.sessions import FIRST_FACTOR, FULL, SessionInfo
from fuzzydice.journey import Step, StepKind
from fuzzydice.urls import safe_local_path

LANDING = "/"
LOGIN = "/login"
REGISTER = "/register"
CONNECT = "/login/connect"
SCAN = "/login/scan"
VERIFY = "/login/verify"
BACKUP_CODES = "/login/backup-codes"
USER_HOME = "/user/home"
SECURITY = "/user/security"
USER_WALLET = "/user/wallet"
FUND = "/user/fund"
LAUNCH = "/launch"
DEMO_OUTBOX = "/demo/outbox"

RouteClass = Literal["public", "pending", "full"]

_REQUIRED_LEVEL: dict[RouteClass, int] = {"public": 0, "pending": FIRST_FACTOR, "full": FULL}


@functools.cache
def _declared_routes() -> dict[RouteClass, frozenset[str]]:
    from fuzzydice.ui.page_spec import route_classes
    from fuzzydice.ui.pages import ALL_PAGES  # the page modules import this one: read on first use

    return route_classes(ALL_PAGES)


def __getattr__(name: str) -> frozenset[str]:
    """`PUBLIC_ROUTES` and `PENDING_ROUTES`: the routes the pages declare public, or pending."""
    if name == "PUBLIC_ROUTES":
        return _declared_routes()["public"]
    if name == "PENDING_ROUTES":
        return _declared_routes()["pending"]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def normalize_path(path: str) -> str:
    """Strip the query and a trailing slash (prod serves `/user/home/`)."""
    path = (path or "/").split("?", 1)[0].split("#", 1)[0]
    return path.rstrip("/") or "/"


def route_class(path: str) -> RouteClass:
    """The class of a page path, as its page declares it; anything not declared is a full page."""
    path = normalize_path(path)
    declared = _declared_routes()
    if path in declared["public"]:
        return "public"
    if path in declared["pending"]:
        return "pending"
    return "full"


def required_level(cls: RouteClass) -> int:
    """The session factor level a route class needs (0: none)."""
    return _REQUIRED_LEVEL[cls]


def with_next(path: str, next_path: str | None) -> str:
    """`path?next=…` (nothing added when there is no next page)."""
    return f"{path}?next={quote(next_path, safe='/')}" if next_path else path


def final_destination(requested: str | None) -> str:
    """The full page to land on after signing in: the requested one if it is a full page, else home."""
    path = normalize_path(safe_local_path(requested, USER_HOME))
    return path if route_class(path) == "full" and path != BACKUP_CODES else USER_HOME


def second_step_after_password(step: Step, requested: str | None) -> str:
    """The page after a first factor: the journey's step (enrolment or a code), carrying where the user was going."""
    destination = final_destination(requested)
    return with_next(page_for(step), None if destination == USER_HOME else destination)


STEP_PAGES: dict[StepKind, str] = {
    StepKind.ENROL: SCAN,
    StepKind.SECOND_FACTOR: VERIFY,
    StepKind.SHOW_BACKUP_CODES: BACKUP_CODES,
}
"""The page of each step of the journey (`fuzzydice.journey`); done lands on a full page."""

STEP_ROUTES: dict[StepKind, frozenset[str]] = {
    StepKind.ENROL: frozenset({SCAN, VERIFY}),  # scan the secret, then confirm it with a code
    StepKind.SECOND_FACTOR: frozenset({VERIFY}),  # an enrolled user never sees the secret again
    StepKind.SHOW_BACKUP_CODES: frozenset({BACKUP_CODES}),
}
"""The pages a session may be on at each step before it is done."""


def page_for(step: Step) -> str:
    """The page of a step (a finished sign-in lands where the step says, or home)."""
    if step.kind == StepKind.DONE:
        return step.landing or USER_HOME
    return STEP_PAGES[step.kind]


def where_to(info: SessionInfo | None, path: str, *, pending_expired: bool = False) -> str | None:
    """Where a session must go instead of `path`, or None when it may stay.

    No session: the sign-in page (saying so when a sign-in ran out before its second
    step). Otherwise the journey decides: a session not done yet stays on its step's
    pages (carrying the full page it asked for); a finished one is done with them.
    """
    path = normalize_path(path)
    cls = route_class(path)
    if cls == "public":
        return None
    if info is None:
        return f"{LOGIN}?expired=1" if pending_expired else with_next(LOGIN, path)
    step = journey.step_of(info)
    if step.kind == StepKind.DONE:
        return USER_HOME if cls == "pending" or path == BACKUP_CODES else None
    if path in STEP_ROUTES[step.kind]:
        return None
    return with_next(page_for(step), path if cls == "full" and not info.is_full else None)
