"""Cookie routes: redeem a claim ticket for the HttpOnly session cookie, and sign out.

Both are reached by top-level form POSTs from the app's own pages, so the cookie
is set by a real navigation (no fetch, no CORS) and the answer is a 303 back to
the page. Only the app's own pages may post here: a request must be same-origin
or carry an `Origin` from the allow-list (`public_origins`). SameSite=Lax does
not stop a page on another port of the same host (same site): without this
check it could sign a user out, or post its own ticket and sign the victim's
browser into the attacker's account. Redirects go to an allow-listed origin or
stay relative; the `Host` header is never reflected.
"""

from __future__ import annotations

import asyncio
import html
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response

from fuzzydice.api.cookies import HOST_PREFIX, session_cookie_name, session_token_from_cookies, use_secure
from fuzzydice.auth import flows
from fuzzydice.auth.tickets import TAG_PATTERN
from fuzzydice.services import get_services
from fuzzydice.settings import Settings
from fuzzydice.urls import safe_local_path

router = APIRouter(prefix="/session")

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
CLAIM_FAILED = "This sign-in has expired or was already used. Please sign in again."


def _origin(request: Request) -> str:
    parts = urlsplit(request.headers.get("origin") or "")
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme in ("http", "https") and parts.netloc else ""


def page_origin(request: Request, settings: Settings) -> str:
    """The page origin to send the browser back to: the POST's Origin when it is allow-listed, else '' (relative)."""
    origin = _origin(request)
    return origin if origin in settings.public_origins else ""


def from_our_pages(request: Request, settings: Settings) -> bool:
    """Whether the POST comes from one of the app's own pages: same-origin, or an allow-listed Origin."""
    if request.headers.get("sec-fetch-site", "").lower() == "same-origin":
        return True
    return _origin(request) in settings.public_origins


def _failure_page(request: Request, settings: Settings, message: str, status: int = 400) -> HTMLResponse:
    back = html.escape(page_origin(request, settings) + "/login")
    body = (
        "<!doctype html><html lang=en><meta charset=utf-8><title>Sign in again</title>"
        f"<meta name=viewport content='width=device-width'><main style='font-family:system-ui;margin:3rem'>"
        f"<h1>Sign in again</h1><p role=alert>{html.escape(message)}</p><p><a href='{back}'>Back to sign-in</a></p>"
        "</main></html>"
    )
    return HTMLResponse(body, status_code=status, headers=NO_STORE)


def bind_cookie_name(settings: Settings, tag: str, secure: bool) -> str:
    """The ticket's bind cookie: `__Host-` prefixed over https, so no other origin of the host can plant it."""
    return f"{HOST_PREFIX if secure else ''}{settings.bind_cookie_name}_{tag}"


@router.post("/claim")
async def claim(request: Request, ticket: str = Form(""), tag: str = Form(""), tab: str = Form("")) -> Response:
    """Redeem a one-time ticket; set the session cookie and go back to the page."""
    services = get_services()
    settings = services.settings
    secure = use_secure(settings, request.url.scheme)
    if not from_our_pages(request, settings):
        return _failure_page(request, settings, CLAIM_FAILED, status=403)
    tag = tag if TAG_PATTERN.match(tag or "") else ""
    bind_name = bind_cookie_name(settings, tag, secure)
    claimed = None
    if tag:
        claimed = await asyncio.to_thread(
            flows.claim_session,
            services,
            ticket=ticket[:200],
            bind=request.cookies.get(bind_name),
            tab=tab[:200],
            ip=request.client.host if request.client else None,
            user_agent=request.headers.get("user-agent"),
        )
    if claimed is None:
        response = _failure_page(request, settings, CLAIM_FAILED)
    else:
        target = page_origin(request, settings) + safe_local_path(claimed.next_path)
        response = RedirectResponse(target, status_code=303, headers=NO_STORE)
        max_age = None
        if claimed.remember:
            max_age = max(0, int((claimed.absolute_expires_at - services.clock.now()).total_seconds()))
        response.set_cookie(
            session_cookie_name(settings, secure),
            claimed.token,
            max_age=max_age,
            path="/",
            secure=secure,
            httponly=True,
            samesite="lax",
        )
    if tag:
        response.delete_cookie(bind_name, path="/", secure=secure, httponly=False, samesite="strict")
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    """End the session (if any), expire its cookie and go to the sign-in page."""
    services = get_services()
    settings = services.settings
    secure = use_secure(settings, request.url.scheme)
    if not from_our_pages(request, settings):
        # Refuse outright: expiring the cookie here would let any page of the same site
        # sign a user out (and leave the server-side session alive).
        return PlainTextResponse("Sign-out must start from this site.", status_code=403, headers=NO_STORE)
    await asyncio.to_thread(
        flows.sign_out,
        services,
        session_token_from_cookies(settings, request.cookies),
        ip=request.client.host if request.client else None,
        user_agent=request.headers.get("user-agent"),
    )
    response = RedirectResponse(page_origin(request, settings) + "/login", status_code=303, headers=NO_STORE)
    response.delete_cookie(session_cookie_name(settings, secure), path="/", secure=secure, httponly=True, samesite="lax")
    return response
