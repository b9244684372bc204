"""JavaScript the server sends to the browser: the session hand-off and hard navigations.

Every change of the session cookie is followed by a full page load, because the
websocket keeps the Cookie header it was opened with.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from fuzzydice.settings import Settings


def api_base(origin: str, host: str) -> str:
    """'' when the page and the backend share an origin (prod), else the backend's absolute base (dev)."""
    parts = urlsplit(origin or "")
    if not parts.netloc or not host or parts.netloc == host:
        return ""
    return f"{parts.scheme or 'http'}://{host}"


def post_form_script(action: str, fields: dict[str, str], *, js_fields: str = "{}") -> str:
    """JS that submits a hidden top-level form POST to `action` (`js_fields`: a JS object expression of more fields)."""
    return (
        "(function(){var f=document.createElement('form');f.method='POST';"
        f"f.action={json.dumps(action)};"
        f"var v=Object.assign({json.dumps(fields)},{js_fields});"
        "for(var k in v){var i=document.createElement('input');i.type='hidden';i.name=k;i.value=v[k];f.appendChild(i);}"
        "document.body.appendChild(f);f.submit();})();"
    )


# The tab's own client token, as Reflex keeps it: only the tab that asked can redeem its ticket.
TAB_TOKEN_JS = "{tab: window.sessionStorage.getItem('token') || ''}"


def handoff_script(settings: Settings, *, base: str, ticket: str, bind: str, tag: str) -> str:
    """Set the ticket's bind cookie (`__Host-` over https), then post the ticket with the tab's token to the claim route."""
    ttl = int(settings.claim_ticket_ttl.total_seconds())
    name = f"{settings.bind_cookie_name}_{tag}"
    attributes = f"={bind}; Path=/; Max-Age={ttl}; SameSite=Strict"
    return (
        "(function(){var s=location.protocol==='https:';"
        f"document.cookie=(s?'__Host-':'')+{json.dumps(name + attributes)}+(s?'; Secure':'');}})();"
        + post_form_script(f"{base}/api/session/claim", {"ticket": ticket, "tag": tag}, js_fields=TAB_TOKEN_JS)
    )


def logout_script(base: str) -> str:
    """Post to the logout route, which expires the cookie and lands on the sign-in page."""
    return post_form_script(f"{base}/api/session/logout", {})


def hard_redirect_script(path: str) -> str:
    """A full page load of `path`, replacing the current history entry."""
    return f"window.location.replace({json.dumps(path)});"


def reload_script() -> str:
    """A full reload of the current page (a new websocket carries the current cookie)."""
    return "window.location.reload();"
