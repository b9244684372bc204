"""What a browser tab holds of a user: the websocket frames it receives and its whole state on the server;
when its page is hydrated, and the Content-Security-Policy violations it reports."""

from __future__ import annotations

import json
import re
import time
from typing import Any



FIELD_MARKER = "_rx_state_"  # Reflex suffixes every var name in a delta with it
SECURITY_STATE = "fuzzydice___ui___pages___security____security_state"
SESSION_STATE = "fuzzydice___ui___session_state____session_state"
HYDRATED = f'"is_hydrated{FIELD_MARKER}":true'  # the last delta of a page load, after its on_load handlers
SHOWN_TIME = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC")  # how the pages show a sign-in time


class ReceivedFrames:
    """Every websocket frame the page receives, over all its sockets (one per page load)."""

    def __init__(self, page) -> None:
        self.texts: list[str] = []
        page.on("websocket", lambda ws: ws.on("framereceived", self._add))

    def _add(self, payload: str | bytes) -> None:
        self.texts.append(payload if isinstance(payload, str) else bytes(payload).decode("utf-8", "replace"))

    def mark(self) -> int:
        return len(self.texts)

    def wait_until_hydrated(self, page, mark: int, route: str, timeout: float = 15.0) -> None:
        """Wait for a load of page `route` since `mark` to be hydrated and its on_load handlers done.

        A prerendered page shows its static parts before the socket connects, so a
        visible heading says nothing about what the tab has received.
        """
        loaded = f'"rx_router_route_id{FIELD_MARKER}":{json.dumps(route)}'
        deadline = time.monotonic() + timeout
        while True:
            text = self.text_since(mark)
            at = text.rfind(loaded)
            if at >= 0 and HYDRATED in text[at:]:
                return
            assert time.monotonic() < deadline, f"{route} was not hydrated in time"
            page.wait_for_timeout(100)  # lets Playwright deliver the frames received meanwhile

    def text_since(self, mark: int) -> str:
        return "\n".join(self.texts[mark:])

    def deltas_since(self, mark: int) -> list[dict[str, dict[str, Any]]]:
        """The state deltas (hydrate snapshots included) of the Socket.IO `event` packets since `mark`."""
        deltas = []
        for text in self.texts[mark:]:
            start = text.find("[")
            if start < 0:
                continue
            try:
                packet = json.loads(text[start:])
            except ValueError:
                continue
            if isinstance(packet, list) and len(packet) == 2 and packet[0] == "event":
                update = json.loads(packet[1]) if isinstance(packet[1], str) else packet[1]
                if isinstance(update, dict) and isinstance(update.get("delta"), dict):
                    deltas.append(update["delta"])
        return deltas


def sent_value(deltas: list[dict[str, dict[str, Any]]], state_suffix: str, var: str) -> list[Any]:
    """Every value the tab received for `var` of the state whose full name ends with `state_suffix`."""
    return [
        changes[var + FIELD_MARKER]
        for delta in deltas
        for name, changes in delta.items()
        if name.endswith(state_suffix) and isinstance(changes, dict) and var + FIELD_MARKER in changes
    ]


def client_token(page) -> str:
    token = page.evaluate("() => window.sessionStorage.getItem('token')")
    assert token, "the tab has no Reflex client token"
    return token


def server_state(app_harness, backend_call, page) -> dict[str, dict[str, Any]]:
    """Every field of every state of the tab, backend vars included, as the server holds it now."""
    from reflex.istate.manager.token import BaseStateToken
    from reflex.state import State

    manager = app_harness.app_instance.state_manager
    token = client_token(page)

    async def dump() -> dict[str, dict[str, Any]]:
        root = await manager.get_state(BaseStateToken(ident=token, cls=State))
        found: dict[str, dict[str, Any]] = {}
        todo = [root]
        while todo:
            state = todo.pop()
            fields = type(state).get_fields()
            found[state.get_full_name()] = {name: value for name, value in vars(state).items() if name in fields}
            todo.extend(state.substates.values())
        return found

    return backend_call(dump())


def state_of(dump: dict[str, dict[str, Any]], suffix: str) -> dict[str, Any]:
    matches = [fields for name, fields in dump.items() if name.endswith(suffix)]
    assert len(matches) == 1, sorted(dump)
    return matches[0]


def found_in(text: str, values: dict[str, str]) -> list[str]:
    """The labels of `values` that occur in `text` (case-insensitive)."""
    lowered = text.lower()
    return [label for label, value in values.items() if value and value.lower() in lowered]


def wait_for_server(check, timeout: float = 10.0) -> None:
    """Poll `check()` (a server-side condition) until it holds."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "the server-side condition did not hold in time"
        time.sleep(0.1)


HYDRATED_JS = """() => {
  const element = document.querySelector('form, button');
  return !!element && Object.keys(element).some((key) => key.startsWith('__reactProps$'));
}"""


def wait_hydrated(page) -> None:
    """After a full page load: React has attached its handlers (the prerendered HTML is clickable earlier)."""
    page.wait_for_function(HYDRATED_JS)


CSP_LISTENER = """
document.addEventListener('securitypolicyviolation', (e) => {
  window.fdCspViolation([e.violatedDirective, e.blockedURI, e.sourceFile, e.lineNumber, document.location.href].join(' | '));
});
"""
"""An init script that reports every Content-Security-Policy violation of the page to `fdCspViolation`
(expose that function first)."""
