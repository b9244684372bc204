"""`/demo/outbox` (demo mode only): the mail and SMS this demo would have sent, newest first.

Someone who registers reads their confirmation code here before they can sign in,
so the page is public; outside demo mode it is not registered and its state is
refused by the guard. Mail HTML is shown as text, never rendered.
"""

from __future__ import annotations

import asyncio

import reflex as rx

from fuzzydice.notify.outbox import StoredMessage, recent_messages
from fuzzydice.services import get_services
from fuzzydice.settings import Settings
from fuzzydice.ui import routes
from fuzzydice.ui.components import page_card
from fuzzydice.ui.page_spec import Page


def _view(message: StoredMessage) -> dict[str, str]:
    return {
        "id": str(message.id),
        "channel": "Email" if message.channel == "mail" else "SMS",
        "recipient": message.recipient,
        "subject": message.subject or "",
        "time": message.created_at.strftime("%Y-%m-%d %H:%M:%S UTC"),
        "text": message.body_text,
        "html": message.body_html or "",
    }


class OutboxState(rx.State):
    """The listed messages (read again on every load and on "Refresh")."""

    messages: list[dict[str, str]] = []
    loaded: bool = False

    @rx.event
    async def on_load(self):
        """Read the newest messages in a worker thread."""
        # Outside demo mode the guard refuses this state: this runs in demo mode only.
        rows = await asyncio.to_thread(recent_messages, get_services().engine)
        self.messages = [_view(row) for row in rows]
        self.loaded = True


_WRAP = {"white_space": "pre-wrap", "overflow_wrap": "anywhere"}  # long links and codes wrap at 390 px


def _message(item: rx.Var[dict[str, str]]) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.badge(item["channel"], color_scheme="violet"),
                rx.text(item["time"], size="1", color_scheme="gray"),
                spacing="2",
                align="center",
                wrap="wrap",
            ),
            rx.text("To: ", rx.text.strong(item["recipient"]), size="2", style={"overflow_wrap": "anywhere"}),
            rx.cond(item["subject"] != "", rx.heading(item["subject"], size="3", as_="h2", style=_WRAP)),
            rx.text(item["text"], size="2", style=_WRAP, class_name="outbox-body"),
            rx.cond(
                item["html"] != "",
                rx.el.details(
                    rx.el.summary("HTML version (shown as text)", style={"font_size": "var(--font-size-2)", "cursor": "pointer"}),
                    rx.el.pre(item["html"], style={**_WRAP, "font_size": "0.75rem", "margin": "0"}),
                ),
            ),
            spacing="2",
            width="100%",
        ),
        width="100%",
        class_name="outbox-message",
    )


def outbox_page() -> rx.Component:
    """The demo outbox."""
    return page_card(
        rx.text(
            "This demo sends no real mail or SMS: every message it would have sent is listed here, newest first.",
            size="2",
        ),
        rx.button("Refresh", on_click=OutboxState.on_load, variant="outline", size="2"),
        rx.cond(
            OutboxState.messages.length() > 0,
            rx.vstack(rx.foreach(OutboxState.messages, _message), spacing="3", width="100%", id="outbox-messages"),
            rx.cond(OutboxState.loaded, rx.text("No messages yet.", size="2", color_scheme="gray")),
        ),
        heading="Demo outbox",
        width="40rem",
    )


def _demo_only(settings: Settings) -> bool:
    return settings.is_demo


PAGE = Page(
    route=routes.DEMO_OUTBOX,
    title="Demo outbox · Fuzzy Dice",
    access="public",
    component=outbox_page,
    on_load=(OutboxState.on_load,),
    states=(OutboxState,),
    when=_demo_only,
)
