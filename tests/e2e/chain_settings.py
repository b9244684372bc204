"""Point the running app at other chain URLs for a while, and a chain whose RPC answers slowly.

`app_chains` swaps the app's process-wide services for ones whose settings name other RPC
URLs (same database engine, keys and clock; a new chain client), as `app_database` swaps the
database, and puts the old ones back afterwards. `SlowRpcProxy` forwards to a real node but
holds the chosen methods for a bounded delay (before asking the node, or after).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

from fuzzydice.chain.devchain import free_port
from tests.chain.rpc_proxy import RpcProxy

MAX_DELAY_S = 10.0


@contextlib.contextmanager
def app_chains(urls: dict[int, str], **overrides: Any) -> Iterator[None]:
    """While inside: the running app reads the chains at `urls` (chain id → RPC URL), with other settings
    from `overrides` (e.g. `chain_rpc_timeout`)."""
    from fuzzydice.services import Services, get_services, set_services

    current = get_services()
    settings = current.settings.model_copy(update={"chains": dict(urls), **overrides})
    swapped = Services(
        settings=settings, clock=current.clock, engine=current.engine, keys=current.keys, notifier=current.notifier
    )
    set_services(swapped)
    try:
        yield
    finally:
        set_services(current)


def dead_url() -> str:
    """An RPC URL where nothing listens (a stopped chain)."""
    return f"http://127.0.0.1:{free_port()}"


class SlowRpcProxy(RpcProxy):
    """Forwards JSON-RPC to `upstream`; each request of `methods` waits `delay` seconds first (at most 10)."""

    def __init__(
        self, upstream: str, *, delay: float, methods: tuple[str, ...] = ("eth_call",), answer_late: bool = False
    ) -> None:
        super().__init__(upstream)
        self.delay = min(delay, MAX_DELAY_S)
        self.slowed = methods
        self.answer_late = answer_late
        """Wait after asking the node instead of before: the answer is as the chain was when it was asked."""
        self._released = threading.Event()
        self.asked: list[str] = []
        """The methods that came in so far, in order (a slowed one as soon as it arrives)."""
        self.answered: list[str] = []
        """The methods answered so far, in order (a slowed one once its delay is over)."""

    def _one(self, request: dict[str, Any]) -> dict[str, Any]:
        slowed = request.get("method") in self.slowed
        with self._lock:
            self.asked.append(request.get("method", ""))
        if slowed and not self.answer_late:
            self._released.wait(self.delay)  # ends early when the proxy shuts down
        answer = super()._one(request)
        if slowed and self.answer_late:
            self._released.wait(self.delay)
        with self._lock:
            self.answered.append(request.get("method", ""))
        return answer

    def __exit__(self, *exc_info: object) -> None:
        self._released.set()
        super().__exit__(*exc_info)
