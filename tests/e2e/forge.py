"""Forged websocket events: raw socket.io frames sent through the page's own socket.

A malicious script or a modified client can send any frame; these helpers do the
same from a test. Add `HOOK_SOCKET` as an init script before the page loads.
"""

from __future__ import annotations

import json
from typing import Any

HOOK_SOCKET = """
const send = WebSocket.prototype.send;
WebSocket.prototype.send = function (data) { window.__fdSocket = this; return send.call(this, data); };
"""
ROOT_STATE = "reflex___state____state"
HOME_STATE = f"{ROOT_STATE}.fuzzydice___ui___pages___home____home_state"
LOGIN_STATE = f"{ROOT_STATE}.fuzzydice___ui___pages___login____login_state"
SECURITY_STATE = f"{ROOT_STATE}.fuzzydice___ui___pages___security____security_state"
SESSION_STATE = f"{ROOT_STATE}.fuzzydice___ui___session_state____session_state"
VERIFY_STATE = f"{ROOT_STATE}.fuzzydice___ui___pages___verify____verify_state"
WALLET_STATE = f"{ROOT_STATE}.fuzzydice___ui___wallet_signin____wallet_sign_in_state"


def send_event(page, event: dict[str, Any]) -> None:
    """Send `event` (name, payload, router_data, as given) as one `/_event` frame."""
    page.wait_for_function("() => window.__fdSocket && window.__fdSocket.readyState === 1")
    page.evaluate("(frame) => window.__fdSocket.send('42/_event,' + frame)", json.dumps(["event", event]))


def forge(page, name: str, payload: Any = None, *, raw: bool = False) -> None:
    """Send the event `name` from the page's current path.

    Args:
        page: The Playwright page (with `HOOK_SOCKET` installed).
        name: The full event name, `<state full name>.<handler>`.
        payload: The payload; None means `{}` unless `raw`.
        raw: Send `payload` exactly as given (None as JSON null).
    """
    path = page.evaluate("() => window.location.pathname")
    event = {
        "name": name,
        "payload": payload if raw or payload is not None else {},
        "router_data": {"pathname": path, "asPath": path},
    }
    send_event(page, event)
