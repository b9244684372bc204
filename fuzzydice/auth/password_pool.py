"""A dedicated, bounded executor for the password flows the UI runs.

A password flow holds a thread for a bcrypt check (~0.2 s of a core, longer while it
waits for a hashing slot). Run through `asyncio.to_thread`, a flood of sign-ins filled
the default executor, and the session guard's lookups before every event queued behind
them: a real sign-in went from 0.31 s to 16.7 s. Password flows run here instead, on
`password_threads` threads with at most `password_queue` flows waiting; beyond that the
caller hears at once that the server is busy. The default executor stays free for the
guard.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

from fuzzydice.settings import Settings

T = TypeVar("T")


class PoolBusy(Exception):
    """The executor's threads and queue are all taken."""


class PasswordPool:
    """A thread pool that refuses work beyond `threads + queue` flows in flight."""

    def __init__(self, threads: int, queue: int) -> None:
        self._executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="fuzzydice-password")
        self._limit = threads + queue
        self._in_flight = 0
        self._lock = threading.Lock()

    def _done(self, _future: Future) -> None:
        with self._lock:
            self._in_flight -= 1

    async def run(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """Run `fn(*args, **kwargs)` on a pool thread (with this context) and await it.

        Raises:
            PoolBusy: too many flows in flight; nothing was started.
        """
        with self._lock:
            if self._in_flight >= self._limit:
                raise PoolBusy
            self._in_flight += 1
        try:
            future = self._executor.submit(contextvars.copy_context().run, fn, *args, **kwargs)
        except BaseException:
            with self._lock:
                self._in_flight -= 1
            raise
        future.add_done_callback(self._done)  # counted until the thread is done, even if the caller gives up
        return await asyncio.wrap_future(future)


_lock = threading.Lock()
_pool: PasswordPool | None = None


def password_pool(settings: Settings) -> PasswordPool:
    """The process-wide pool, built from `settings` on first use."""
    global _pool
    with _lock:
        if _pool is None:
            _pool = PasswordPool(settings.password_threads, settings.password_queue)
        return _pool


_RAISE: Any = object()


async def run_password_flow(
    settings: Settings, fn: Callable[..., T], /, *args: Any, when_busy: T = _RAISE, **kwargs: Any
) -> T:
    """Run a flow that hashes a password on the process's password pool (never the default executor).

    Args:
        when_busy: the flow's own "busy, try again in a few seconds" answer, returned when the
            pool is full (as the flow itself answers when every hashing slot stays taken).

    Raises:
        PoolBusy: the pool is full and no `when_busy` answer was given.
    """
    try:
        return await password_pool(settings).run(fn, *args, **kwargs)
    except PoolBusy:
        if when_busy is _RAISE:
            raise
        return when_busy
