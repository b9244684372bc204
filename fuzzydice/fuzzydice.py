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
from fuzzydice.settings import get_settings
from fuzzydice.ui import session_state
from fuzzydice.ui.components import favicon_links
from fuzzydice.ui.guard import SessionGuard
from fuzzydice.ui.page_spec import register_pages
from fuzzydice.ui.pages import ALL_PAGES, SHARED_STATES
from fuzzydice.ui.pages.not_found import add_not_found_page
from fuzzydice.ui.session_state import SessionState

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

# Every page and every state's access level come from the declarations (fuzzydice.ui.pages).
guard = SessionGuard.from_declarations(ALL_PAGES, SHARED_STATES, get_settings())
app.add_middleware(guard)


def _is_connected(client_token: str) -> bool:
    namespace = app.event_namespace
    return namespace is None or client_token in namespace.token_to_sid


session_state.is_connected = _is_connected

pages = register_pages(app, ALL_PAGES, get_settings())
add_not_found_page(app)

__all__ = ["app", "SessionState"]
