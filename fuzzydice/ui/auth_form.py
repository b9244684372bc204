"""What the sign-in and registration forms share: busy flag, password toggle, signed-in redirect."""

from __future__ import annotations

import reflex as rx

from fuzzydice.auth.sessions import FIRST_FACTOR
from fuzzydice.ui import routes
from fuzzydice.ui.session_state import SessionState


class AuthFormMixin(rx.State, mixin=True):
    """Mixed into a page's own state (a mixin adds vars and handlers, not a parent substate)."""

    busy: bool = False
    show_password: bool = False

    @rx.event
    def toggle_password(self):
        """Show or hide the password."""
        self.show_password = not self.show_password

    @rx.event
    async def on_load(self):
        """A signed-in browser goes straight home."""
        self.busy = False
        session = await self.get_state(SessionState)
        if session._level >= FIRST_FACTOR:
            return rx.redirect(routes.USER_HOME, replace=True)
        self._after_load()

    def _after_load(self) -> None:
        """A page's own start (overridden where needed)."""
