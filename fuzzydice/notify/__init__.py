"""Sending mail and SMS behind one small protocol, so flows never know the provider.

Synchronous like the rest of the core: callers on the event loop use
`asyncio.to_thread`. Messages may carry codes meant for the user only: no
implementation logs a body (nor a recipient).

    outcome = services.notifier.send_mail(to, subject, text)
    if not outcome.ok:          # Failure(Code.SEND_FAILED)
        ...
"""

from __future__ import annotations

import logging
from typing import Protocol

from sqlalchemy.engine import Engine

from fuzzydice.clock import Clock
from fuzzydice.outcome import Code, Outcome, fail
from fuzzydice.settings import Settings

log = logging.getLogger(__name__)


class Notifier(Protocol):
    """Sends mail and SMS; each call answers Ok(a message id) or Failure(SEND_FAILED)."""

    def send_mail(self, to: str, subject: str, text: str, html: str | None = None) -> Outcome[str]:
        """Send one mail to `to` with a plain-text body and an optional HTML one."""
        ...

    def send_sms(self, to: str, text: str) -> Outcome[str]:
        """Send one SMS to `to` (E.164)."""
        ...


class NoNotifier:
    """No provider is set up (production before one is chosen): every send fails, nothing is kept."""

    def send_mail(self, to: str, subject: str, text: str, html: str | None = None) -> Outcome[str]:
        log.warning("mail not sent: no mail provider is configured")
        return fail(Code.SEND_FAILED)

    def send_sms(self, to: str, text: str) -> Outcome[str]:
        log.warning("SMS not sent: no SMS provider is configured")
        return fail(Code.SEND_FAILED)


def build_notifier(settings: Settings, engine: Engine, clock: Clock) -> Notifier:
    """The notifier the settings ask for.

    Demo mode keeps every message in the outbox table (read at /demo/outbox).
    Production has no provider yet: sends fail with SEND_FAILED rather than go
    nowhere silently. Real providers (Resend, SMTP, Twilio) are chosen here by
    settings when they arrive.
    """
    if settings.is_demo:
        from fuzzydice.notify.outbox import Outbox

        return Outbox(engine, clock)
    return NoNotifier()


__all__ = ["Notifier", "NoNotifier", "build_notifier"]
