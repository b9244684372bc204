"""Slow reads (chain RPC) in background events, kept to the user who asked for them.

A background event (`@rx.event(background=True)`) holds the tab's state lock only inside
`async with self`, so the page keeps answering its other events while a chain is slow.
The pattern, for a state with a loading flag and a run token::

    @rx.event(background=True)
    async def refresh(self):
        async with self:
            run = await begin_read(self, "loading", "_run")
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

import asyncio
import secrets
from dataclasses import dataclass

from fuzzydice.ui.session_state import SessionState


@dataclass(frozen=True)
class Run:
    """One background read: whose it is and its token."""

    user_id: int
    owner: str
    """The session the tab's data belongs to (`SessionState._data_owner`) when the read began."""
    token: str


_tasks: dict[str, asyncio.Task] = {}
"""The task of every read of this process still running, by run token (a finished one removes itself)."""


def _running(token: str) -> bool:
    """Whether the read `token` still has a live task in this process."""
    task = _tasks.get(token)
    return task is not None and not task.done()


async def begin_read(state, loading: str, run_attr: str) -> Run | None:
    """Under `async with state`: mark the read begun and return it; None when nobody is signed in or one runs.

    A read counts as running while its task lives: one Reflex cancelled (the tab left the page that
    started it) or that died with the server is taken over at once, wherever its cancellation struck.
    """
    session = await state.get_state(SessionState)
    if session._user_id is None:
        return None
    if getattr(state, loading) and _running(getattr(state, run_attr)):
        return None
    run = Run(user_id=session._user_id, owner=session._data_owner, token=secrets.token_hex(8))
    task = asyncio.current_task()
    if task is not None:
        _tasks[run.token] = task
        task.add_done_callback(lambda _task, token=run.token: _tasks.pop(token, None))
    setattr(state, run_attr, run.token)
    setattr(state, loading, True)
    return run


async def drop_read(state, run: Run, loading: str, run_attr: str) -> None:
    """Outside the lock, when the read was cancelled: bring its loading flag down if it is still this read's.

    Reflex cancels the unfinished tasks a page load started when the tab navigates away or disconnects.
    (The next read would take over anyway, see `begin_read`; this keeps the spinner honest meanwhile.)
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
