"""Cookie routes: redeem a claim ticket for the HttpOnly session cookie, and sign out.

Both are reached by top-level form POSTs from the app's own pages, so the cookie
is set by a real navigation (no fetch, no CORS) and the answer is a 303 back to
the page.
"""

from __future__ import annotations

import asyncio
import html
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response

from fuzzydice.api.cookies import session_cookie_name, session_token_from_cookies, use_secure
from fuzzydice.auth import flows
from fuzzydice.services import get_services
from fuzzydice.urls import safe_local_path

router = APIRouter(prefix="/session")

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
CLAIM_FAILED = "This sign-in has expired or was already used. Please sign in again."


def page_origin(request: Request) -> str:
    """The page origin to send the browser back to: the POST's Origin when it names this host, else ''."""
    origin = request.headers.get("origin") or ""
    parts = urlsplit(origin)
    host = (request.headers.get("host") or "").rsplit(":", 1)[0].strip("[]")
    if parts.scheme in ("http", "https") and parts.hostname and parts.hostname == host:
        return f"{parts.scheme}://{parts.netloc}"
    return ""


def _cross_site(request: Request) -> bool:
    return request.headers.get("sec-fetch-site", "").lower() == "cross-site"


def _failure_page(request: Request, message: str, status: int = 400) -> HTMLResponse:
    back = html.escape(page_origin(request) + "/login")
    body = (
        "<!doctype html><html lang=en><meta charset=utf-8><title>Sign in again</title>"
        f"<meta name=viewport content='width=device-width'><main style='font-family:system-ui;margin:3rem'>"
        f"<h1>Sign in again</h1><p role=alert>{html.escape(message)}</p><p><a href='{back}'>Back to sign-in</a></p>"
        "</main></html>"
    )
    return HTMLResponse(body, status_code=status, headers=NO_STORE)


@router.post("/claim")
async def claim(request: Request, ticket: str = Form("")) -> Response:
    """Redeem a one-time ticket; set the session cookie and go back to the page."""
    services = get_services()
    settings = services.settings
    secure = use_secure(settings, request.url.scheme)
    if _cross_site(request):
        return _failure_page(request, CLAIM_FAILED, status=403)
    claimed = await asyncio.to_thread(
        flows.claim_session,
        services,
        ticket=ticket,
        bind=request.cookies.get(settings.bind_cookie_name),
        ip=request.client.host if request.client else None,
        user_agent=request.headers.get("user-agent"),
    )
    if claimed is None:
        response = _failure_page(request, CLAIM_FAILED)
    else:
        target = page_origin(request) + safe_local_path(claimed.next_path)
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
    response.delete_cookie(settings.bind_cookie_name, path="/", secure=secure, httponly=False, samesite="strict")
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    """End the session (if any), expire its cookie and go to the sign-in page."""
    services = get_services()
    settings = services.settings
    secure = use_secure(settings, request.url.scheme)
    if _cross_site(request):
        # Refuse outright: expiring the cookie here would let any site sign a user out
        # (and leave the server-side session alive).
        return PlainTextResponse("Sign-out must start from this site.", status_code=403, headers=NO_STORE)
    await asyncio.to_thread(flows.sign_out, services, session_token_from_cookies(settings, request.cookies))
    response = RedirectResponse(page_origin(request) + "/login", status_code=303, headers=NO_STORE)
    response.delete_cookie(session_cookie_name(settings, secure), path="/", secure=secure, httponly=True, samesite="lax")
    return response
