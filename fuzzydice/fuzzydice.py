"""The Reflex app: pages, the session middleware and the mounted `/api` app."""

import reflex as rx


def landing() -> rx.Component:
    return rx.container(rx.heading("Fuzzy Dice", size="8"), rx.text("Sign in"))


app = rx.App()
app.add_page(landing, route="/", title="Fuzzy Dice")
