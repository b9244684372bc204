"""`GET /api/check?address=0x…`: whether a wallet has an account (design 000).

An accepted, documented disclosure: addresses are public and the wallet page
needs it. It says only whether an account exists and has a second factor,
is limited per IP, and can be switched off (`FUZZYDICE_CHECK_API_ENABLED=false`).
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlmodel import select

from fuzzydice import ratelimit
from fuzzydice.auth import identity_rows
from fuzzydice.models import Identity, User
from fuzzydice.mfa.registry import usable_kinds
from fuzzydice.services import Services, get_services
from fuzzydice.wallet.addresses import AddressError, checksum_address

router = APIRouter()
WINDOW = timedelta(minutes=1)


def _lookup(services: Services, address: str, ip: str) -> dict | None:
    """None when over the limit, else the answer."""
    with services.db() as session:
        if not ratelimit.allow(
            session, f"check:{ip}", limit=services.settings.check_api_per_minute, window=WINDOW, now=services.clock.now()
        ):
            return None
        user = session.exec(
            select(User).join(Identity, Identity.user_id == User.id).where(identity_rows.wallet_of(address))
        ).first()
        second_factor = user is not None and bool(usable_kinds(session, user.id))
    if user is None:
        return {"result": False, "data": None}
    return {"result": True, "data": {"address": address, "second_factor": second_factor}}


@router.get("/check")
async def check(request: Request, address: str = "") -> JSONResponse:
    """Answer `{"result": bool, "data": …}`; a malformed address gets a 400 with the reason."""
    services = get_services()
    if not services.settings.check_api_enabled:
        return JSONResponse({"error": "This endpoint is switched off."}, status_code=404)
    try:
        normalized = checksum_address(address)
    except AddressError as exc:
        return JSONResponse({"result": False, "data": None, "error": str(exc)}, status_code=400)
    ip = request.client.host if request.client else "unknown"
    answer = await asyncio.to_thread(_lookup, services, normalized, ip)
    if answer is None:
        return JSONResponse(
            {"error": "Too many requests: try again in a minute."},
            status_code=429,
            headers={"Retry-After": str(int(WINDOW.total_seconds()))},
        )
    return JSONResponse(answer, headers={"Cache-Control": "no-store"})
