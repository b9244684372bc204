"""The Reflex UI: one module per page, a shared session state and the guard."""
