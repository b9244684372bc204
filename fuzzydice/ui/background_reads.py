"""Slow reads (chain RPC) in background events, kept to the user who asked for them.

A background event (`@rx.event(background=True)`) holds the tab's state lock only inside
`async with self`, so the page keeps answering its other events while a chain is slow.
The pattern, for a state with a loading flag and a run token::

    @rx.event(background=True)
    async def refresh(self):
        async with self:
            run = await begin_read(self, "loading", "_run", "_started", stale_after=30)
        if run is None:
            return
        try:
            rows = await slow_read(run.user_id)     # outside the lock; failures become words
        except asyncio.CancelledError:              # the tab navigated away or disconnected
            await drop_read(self, run, "loading", "_run")
            raise
        async with self:
            if await still_current(self, run, "_run"):
                self.rows, self.loading = rows, False

`still_current` is false when the tab's session changed meanwhile (signed out, another
user: the guard wiped the tab, see `fuzzydice.ui.guard.wipe_tab`) or a newer read of the
same state took over: the result is then dropped, never shown to someone else.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

from fuzzydice.ui.session_state import SessionState


@dataclass(frozen=True)
class Run:
    """One background read: whose it is and its token."""

    user_id: int
    owner: str
    """The session the tab's data belongs to (`SessionState._data_owner`) when the read began."""
    token: str


async def begin_read(state, loading: str, run_attr: str, started_attr: str, *, stale_after: float) -> Run | None:
    """Under `async with state`: mark the read begun and return it; None when nobody is signed in or one runs.

    A read still marked running after `stale_after` seconds (its task died with the server) is taken over.
    """
    session = await state.get_state(SessionState)
    if session._user_id is None:
        return None
    if getattr(state, loading) and time.time() - getattr(state, started_attr) < stale_after:
        return None
    run = Run(user_id=session._user_id, owner=session._data_owner, token=secrets.token_hex(8))
    setattr(state, run_attr, run.token)
    setattr(state, started_attr, time.time())
    setattr(state, loading, True)
    return run


async def drop_read(state, run: Run, loading: str, run_attr: str) -> None:
    """Outside the lock, when the read was cancelled: bring its loading flag down if it is still this read's.

    Reflex cancels the unfinished tasks a page load started when the tab navigates away or disconnects;
    without this the flag would stay up and hold off the next page load's read until it is stale.
    """
    async with state:
        if await still_current(state, run, run_attr):
            setattr(state, loading, False)


async def still_current(state, run: Run, run_attr: str) -> bool:
    """Under `async with state`: whether `run`'s result may still be written (same session, same read)."""
    session = await state.get_state(SessionState)
    return (
        getattr(state, run_attr) == run.token
        and session._user_id == run.user_id
        and session._data_owner == run.owner
    )
