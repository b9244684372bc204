"""One module per route, each with its own flat substate, and the list of them all.

Every page module ends with its declaration (`PAGE`, see `fuzzydice.ui.page_spec`);
a new page is added to `ALL_PAGES`, a state that belongs to no single page to
`SHARED_STATES`. The app registers the pages and builds the guard from these two.
"""

from __future__ import annotations

from fuzzydice.ui import balances, session_state, wallet_signin
from fuzzydice.ui import funding
from fuzzydice.ui.page_spec import Page, StateAccess
from fuzzydice.ui.pages import backup_codes, connect, home, landing, launch, login, outbox, register, scan, security, verify
from fuzzydice.ui.pages import fund, wallet

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
    launch.PAGE,
    fund.PAGE,
    wallet.PAGE,
    outbox.PAGE,
)

SHARED_STATES: tuple[StateAccess, ...] = (
    session_state.ACCESS,
    wallet_signin.ACCESS,
    funding.ACCESS,
    balances.ACCESS,
)
