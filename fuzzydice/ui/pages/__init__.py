"""One module per route, each with its own flat substate, and the list of them all.

Every page module ends with its declaration (`PAGE`, see `fuzzydice.ui.page_spec`);
a new page is added to `ALL_PAGES`, a state that belongs to no single page to
`SHARED_STATES`. The app registers the pages and builds the guard from these two.
"""

from __future__ import annotations

from fuzzydice.ui import session_state, wallet_signin
from fuzzydice.ui.page_spec import Page, StateAccess
from fuzzydice.ui.pages import backup_codes, connect, home, landing, login, outbox, register, scan, security, verify

ALL_PAGES: tuple[Page, ...] = (
    landing.PAGE,
    login.PAGE,
    register.PAGE,
    connect.PAGE,
    scan.PAGE,
    verify.PAGE,
    backup_codes.PAGE,
    home.PAGE,
    security.PAGE,
    outbox.PAGE,
)

SHARED_STATES: tuple[StateAccess, ...] = (
    session_state.ACCESS,
    wallet_signin.ACCESS,
)
