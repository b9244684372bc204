"""Pages declared once, default deny: every state has a declared level, and the guard enforces it.

The app module is imported in child processes: importing it here would leave its
states (and the test's own stray state) behind for the app-running tests of the
same session. Each child prints one JSON report; the tests read it.
"""

from __future__ import annotations

import pytest

from fuzzydice.auth.sessions import FIRST_FACTOR, FULL
from tests.app_fixtures import app_child_report
from tests.conftest import sqlite_url

DECLARATIONS = """
import json
import reflex as rx
import fuzzydice.fuzzydice as app_module
from fuzzydice.ui import routes
from fuzzydice.ui.app_states import app_state_classes
from fuzzydice.ui.pages import ALL_PAGES

guard = app_module.guard
print(json.dumps({
    "app_states": sorted(c.__name__ for c in app_state_classes(rx.State)),
    "undeclared": sorted(c.__name__ for c in guard.undeclared_states(rx.State)),
    "levels": {
        rule.state.__name__: [rule.level, dict(rule.events)] for rule in guard.rules.values()
    },
    "declared_routes": [page.route for page in ALL_PAGES],
    "declared_access": {page.route: page.access for page in ALL_PAGES},
    "registered_routes": [page.route for page in app_module.pages],
    "app_routes": sorted(app_module.app._unevaluated_pages),
    "public": sorted(routes.PUBLIC_ROUTES),
    "pending": sorted(routes.PENDING_ROUTES),
}))
"""

GUARD = """
import asyncio, json, logging, sys
from pathlib import Path

import reflex as rx
from reflex.event import Event
from reflex_base.registry import RegistrationContext

import fuzzydice.fuzzydice as app_module
from fuzzydice import services as services_module
from fuzzydice.auth import flows
from fuzzydice.clock import FixedClock
from fuzzydice.services import build_services
from fuzzydice.ui.guard import SessionGuard
from fuzzydice.ui.page_spec import Page, register_pages
from fuzzydice.ui.pages import ALL_PAGES, SHARED_STATES
from fuzzydice.ui.pages.home import HomeState
from fuzzydice.ui.pages.login import LoginState
from fuzzydice.ui.pages.verify import VerifyState
from fuzzydice.ui.session_state import SessionState
from fuzzydice.ui.wallet_signin import WalletSignInState
from tests.conftest import STRONG_PASSWORD, full_session, make_settings, pending_session


class StrayState(rx.State):
    \"\"\"A page's state that no declaration names.\"\"\"

    __module__ = "fuzzydice.ui.pages.stray"
    poked: bool = False

    @rx.event
    def poke(self):
        self.poked = True


class Warnings(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


warnings = Warnings()
logging.getLogger("fuzzydice.ui.guard").addHandler(warnings)

tmp, url = Path(sys.argv[1]), sys.argv[2]
settings = make_settings(tmp, url)
services = build_services(settings, FixedClock())
services_module.set_services(services)
user_id = flows.register(services, name="Ada Lovelace", email="ada@example.com", password=STRONG_PASSWORD).value.user_id
FULL_TOKEN = full_session(services, user_id)
PENDING_TOKEN, _ = pending_session(services, user_id)
TOKENS = {"none": None, "pending": PENDING_TOKEN, "full": FULL_TOKEN}

demo_page = Page(
    route="/demo/stray", title="Stray", access="public", component=lambda: rx.text("stray"),
    states=(StrayState,), when=lambda s: s.is_demo,
)
DEMO = SessionGuard.from_declarations((*ALL_PAGES, demo_page), SHARED_STATES, settings)
PRODUCTION = SessionGuard.from_declarations(
    (*ALL_PAGES, demo_page), SHARED_STATES, settings.model_copy(update={"mode": "production"})
)
GUARDS = {"app": app_module.guard, "demo": DEMO, "production": PRODUCTION}


async def decide(guard, state_cls, handler, path, session):
    root = rx.State(_reflex_internal_init=True)
    headers = {"origin": "http://127.0.0.1:3000"}
    if TOKENS[session]:
        headers["cookie"] = f"{settings.session_cookie_name}={TOKENS[session]}"
    data = {"pathname": path, "asPath": path, "headers": headers, "token": "tab-" + session}
    root.router_data = root._update_router_vars(data, {})
    update = await GUARDS[guard].preprocess(
        app_module.app, root, Event(name=f"{state_cls.get_full_name()}.{handler}", payload={})
    )
    if update is None:
        return {"allowed": True}
    scripts = [event.payload.get("javascript_code", "") for event in update.events]
    return {"allowed": False, "scripts": scripts}


CASES = {
    "undeclared, no session, public page": ("app", StrayState, "poke", "/login", "none"),
    "undeclared again": ("app", StrayState, "poke", "/", "none"),
    "undeclared, first factor": ("app", StrayState, "poke", "/login/verify", "pending"),
    "undeclared, full session": ("app", StrayState, "poke", "/user/home", "full"),
    "full state, no session, public page": ("app", HomeState, "dismiss_alerts", "/login", "none"),
    "full state, first factor, second-step page": ("app", HomeState, "dismiss_alerts", "/login/verify", "pending"),
    "full state, full session": ("app", HomeState, "dismiss_alerts", "/user/home", "full"),
    "pending state, no session, public page": ("app", VerifyState, "toggle_backup", "/login", "none"),
    "pending state, first factor": ("app", VerifyState, "toggle_backup", "/login/verify", "pending"),
    "public state, no session": ("app", LoginState, "toggle_password", "/login", "none"),
    "shared public state, no session": ("app", WalletSignInState, "start", "/login/connect", "none"),
    "session watcher, no session": ("app", SessionState, "watch_session", "/login", "none"),
    "session watcher, first factor": ("app", SessionState, "watch_session", "/login/verify", "pending"),
    "sign-out, no session": ("app", SessionState, "sign_out", "/login", "none"),
    "sign-out, first factor": ("app", SessionState, "sign_out", "/login/scan", "pending"),
    "demo-only page, demo mode": ("demo", StrayState, "poke", "/", "none"),
    "demo-only page, production, no session": ("production", StrayState, "poke", "/login", "none"),
    "demo-only page, production, full session": ("production", StrayState, "poke", "/user/home", "full"),
}


async def main():
    report = {name: await decide(*case) for name, case in CASES.items()}
    report["undeclared warnings"] = [m for m in warnings.messages if "no declared access level" in m]
    report["undeclared states"] = [c.__name__ for c in app_module.guard.undeclared_states(rx.State)]
    for mode in ("demo", "production"):
        context = RegistrationContext.set(RegistrationContext.get().fork())  # one App per context
        try:
            other_app = rx.App()
            register_pages(other_app, (demo_page,), settings.model_copy(update={"mode": mode}))
            report[f"registered in {mode}"] = sorted(other_app._unevaluated_pages)
        finally:
            RegistrationContext.reset(context)
    print(json.dumps(report))


asyncio.run(main())
"""


@pytest.fixture(scope="module")
def declarations(tmp_path_factory) -> dict:
    return app_child_report(DECLARATIONS, tmp_path_factory.mktemp("declarations"))


def test_every_state_of_the_app_has_a_declared_level(declarations):
    """Deny by default is the safety net; a state without a declaration is a mistake caught here."""
    assert {"HomeState", "SessionState", "WalletSignInState", "LoginState"} <= set(declarations["app_states"])
    assert declarations["undeclared"] == [], f"no declared access level: {declarations['undeclared']}"
    assert sorted(declarations["levels"]) == declarations["app_states"]


def test_the_declared_levels(declarations):
    levels = declarations["levels"]
    for name in ("HomeState", "SecurityState", "BackupCodesState"):
        assert levels[name] == [FULL, {}], name
    for name in ("ScanState", "VerifyState"):
        assert levels[name] == [FIRST_FACTOR, {}], name
    for name in ("LoginState", "RegisterState", "WalletSignInState"):
        assert levels[name] == [0, {}], name
    # The session state serves the second-step pages (sign-out link, watcher): pending, sign-out open.
    assert levels["SessionState"] == [FIRST_FACTOR, {"sign_out": 0}]


def test_the_app_registers_every_declared_page_and_the_route_classes_come_from_them(declarations):
    assert declarations["registered_routes"] == declarations["declared_routes"]
    # Every page but the 404 (pages/not_found.py: no state, shown for any unknown path) is declared.
    assert "404" in declarations["app_routes"]
    assert len(declarations["app_routes"]) == len(declarations["declared_routes"]) + 1
    assert {"index", "login", "user/home", "login/verify"} <= set(declarations["app_routes"])
    access = declarations["declared_access"]
    assert declarations["public"] == sorted(route for route, level in access.items() if level == "public")
    assert declarations["pending"] == sorted(route for route, level in access.items() if level == "pending")
    assert {"/", "/login", "/register", "/login/connect"} <= set(declarations["public"])
    assert declarations["pending"] == ["/login/scan", "/login/verify"]
    assert {"/user/home", "/user/security", "/login/backup-codes"} <= {r for r, a in access.items() if a == "full"}


@pytest.fixture(scope="module")
def guard_report(tmp_path_factory, migrated_template_db) -> dict:
    import shutil

    tmp = tmp_path_factory.mktemp("guard")
    db = tmp / "fd.db"
    shutil.copyfile(migrated_template_db, db)
    url = sqlite_url(db)
    return app_child_report(GUARD, tmp, str(tmp), url, database_url=url)


REFUSED = {
    "undeclared, no session, public page": "/login",
    "undeclared, first factor": "/login/scan?next=/user/home",
    "full state, no session, public page": "/login",
    "full state, first factor, second-step page": "/login/scan?next=/user/home",
    "pending state, no session, public page": "/login",
    "session watcher, no session": "/login",
    "demo-only page, production, no session": "/login",
    "demo-only page, production, full session": "/user/home",
}
ALLOWED = [
    "undeclared, full session",
    "full state, full session",
    "pending state, first factor",
    "public state, no session",
    "shared public state, no session",
    "session watcher, first factor",
    "sign-out, no session",
    "sign-out, first factor",
    "demo-only page, demo mode",
]


@pytest.mark.parametrize("case", list(REFUSED))
def test_the_guard_refuses_an_event_below_its_states_level(guard_report, case):
    decision = guard_report[case]
    assert decision["allowed"] is False
    # A hard redirect (full page load) to where this session belongs.
    assert decision["scripts"] == [f'window.location.replace("{REFUSED[case]}");']


@pytest.mark.parametrize("case", ALLOWED)
def test_the_guard_lets_an_event_through_at_its_states_level(guard_report, case):
    assert guard_report[case] == {"allowed": True}


def test_an_undeclared_state_needs_a_full_session_and_is_logged_once(guard_report):
    assert guard_report["undeclared states"] == ["StrayState"]
    assert guard_report["undeclared, no session, public page"]["allowed"] is False
    assert guard_report["undeclared again"]["allowed"] is False
    assert len(guard_report["undeclared warnings"]) == 1
    assert "fuzzydice.ui.pages.stray.StrayState" in guard_report["undeclared warnings"][0]


def test_a_page_declared_for_demo_mode_is_registered_only_there(guard_report):
    assert guard_report["registered in demo"] == ["demo/stray"]
    assert guard_report["registered in production"] == []
