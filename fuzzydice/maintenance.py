"""Periodic removal of expired rows (sessions, tickets, challenges, stale counters, old audit entries);
play sessions past their time are ended (kept as history); faucet reservations a crash left unsent are released."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from fuzzydice.audit import delete_expired_events
from fuzzydice.notify.outbox import delete_old_messages
from fuzzydice.auth.sessions import delete_expired_sessions
from fuzzydice.auth.throttle import delete_stale_throttles
from fuzzydice.auth.tickets import delete_expired_tickets
from fuzzydice.funding.faucet import release_abandoned
from fuzzydice.play.sessions import end_expired_plays
from fuzzydice.ratelimit import delete_old_windows
from fuzzydice.services import Services
from fuzzydice.wallet.challenges import delete_expired_challenges

log = logging.getLogger(__name__)


def delete_expired_rows(services: Services) -> dict[str, int]:
    """Delete every expired row once, and end the play sessions past their time; returns the count per table."""
    now = services.clock.now()
    with services.db() as session:
        return {
            "auth_sessions": delete_expired_sessions(session, now),
            "claim_tickets": delete_expired_tickets(session, now),
            "sign_in_throttles": delete_stale_throttles(
                session, now - services.settings.throttle_memory, known_since=now - services.settings.known_source_memory
            ),
            "siwe_challenges": delete_expired_challenges(session, now),
            "rate_limit_windows": delete_old_windows(session, now - timedelta(hours=1)),
            "audit_events": delete_expired_events(session, now - services.settings.audit_retention),
            "outbox_messages": delete_old_messages(session, now - services.settings.outbox_retention),
            "play_sessions": end_expired_plays(session, now),
            "faucet_grants": release_abandoned(session, now, services.settings),
        }


async def run_cleanup_forever(services: Services) -> None:
    """Clean up every `cleanup_interval` until cancelled (at app shutdown)."""
    interval = services.settings.cleanup_interval.total_seconds()
    while True:
        try:
            counts = await asyncio.to_thread(delete_expired_rows, services)
            if any(counts.values()):
                log.info("removed expired rows: %s", counts)
        except Exception:  # keep cleaning later; the next round may succeed
            log.exception("cleanup of expired rows failed")
        await asyncio.sleep(interval)
