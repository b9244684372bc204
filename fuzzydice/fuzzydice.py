"""The Reflex app: pages, the session guard and the mounted `/api` app."""

from __future__ import annotations

import asyncio
import contextlib

import reflex as rx

from fuzzydice.api.app import create_api
from fuzzydice.api.security_headers import security_headers
from fuzzydice.log_redaction import install_redaction
from fuzzydice.maintenance import run_cleanup_forever
from fuzzydice.services import get_services
from fuzzydice.ui import routes, session_state
from fuzzydice.ui.components import favicon_links
from fuzzydice.ui.guard import SessionGuard
from fuzzydice.ui.pages.backup_codes import BackupCodesState, backup_codes_page
from fuzzydice.ui.pages.connect import connect_page
from fuzzydice.ui.pages.home import HomeState, home_page
from fuzzydice.ui.pages.landing import landing_page
from fuzzydice.ui.pages.login import LoginState, login_page
from fuzzydice.ui.pages.register import RegisterState, register_page
from fuzzydice.ui.pages.scan import ScanState, scan_page
from fuzzydice.ui.pages.security import SecurityState, security_page
from fuzzydice.ui.pages.verify import VerifyState, verify_page
from fuzzydice.ui.session_state import SessionState
from fuzzydice.ui.wallet_signin import WalletSignInState

install_redaction()


@contextlib.asynccontextmanager
async def check_services():
    """Refuse to start without valid secrets (production) or with keys the database does not know; clean up."""
    services = await asyncio.to_thread(get_services)
    await asyncio.to_thread(services.hasher.dummy_hash)  # the unknown-user path costs the same from the first try
    cleanup = asyncio.create_task(run_cleanup_forever(services), name="fuzzydice-cleanup")
    try:
        yield
    finally:
        cleanup.cancel()


app = rx.App(
    api_transformer=[create_api(), security_headers],  # headers wrap pages and /api alike
    head_components=favicon_links(),
)
app.register_lifespan_task(check_services)

guard = SessionGuard()
guard.protect(HomeState, "full")
guard.protect(BackupCodesState, "full")
guard.protect(SecurityState, "full")
guard.protect(ScanState, "pending")
guard.protect(VerifyState, "pending")
app.add_middleware(guard)


def _is_connected(client_token: str) -> bool:
    namespace = app.event_namespace
    return namespace is None or client_token in namespace.token_to_sid


session_state.is_connected = _is_connected

app.add_page(landing_page, route=routes.LANDING, title="Fuzzy Dice")
app.add_page(
    login_page, route=routes.LOGIN, title="Sign in · Fuzzy Dice", on_load=[LoginState.on_load, WalletSignInState.on_load]
)
app.add_page(register_page, route=routes.REGISTER, title="Create account · Fuzzy Dice", on_load=RegisterState.on_load)
app.add_page(connect_page, route=routes.CONNECT, title="Get a wallet · Fuzzy Dice", on_load=WalletSignInState.on_load)
app.add_page(scan_page, route=routes.SCAN, title="Set up your authenticator · Fuzzy Dice", on_load=ScanState.on_load)
app.add_page(verify_page, route=routes.VERIFY, title="Two-step verification · Fuzzy Dice", on_load=VerifyState.on_load)
app.add_page(
    backup_codes_page, route=routes.BACKUP_CODES, title="Backup codes · Fuzzy Dice", on_load=BackupCodesState.on_load
)
app.add_page(home_page, route=routes.USER_HOME, title="Home · Fuzzy Dice", on_load=HomeState.on_load)
app.add_page(security_page, route=routes.SECURITY, title="Security · Fuzzy Dice", on_load=SecurityState.on_load)

__all__ = ["app", "SessionState"]
