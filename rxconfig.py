"""Reflex configuration: values come from the typed Fuzzy Dice settings."""

import reflex as rx
from reflex.plugins.sitemap import SitemapPlugin

from fuzzydice.settings import get_settings

_settings = get_settings()

config = rx.Config(
    app_name="fuzzydice",
    telemetry_enabled=False,
    show_built_with_reflex=False,
    cors_allowed_origins=list(_settings.public_origins),
    default_color_mode="system",
    disable_plugins=[SitemapPlugin],
    plugins=[
        rx.plugins.RadixThemesPlugin(
            theme=rx.theme(appearance="inherit", accent_color="violet", radius="large"),
        )
    ],
)
