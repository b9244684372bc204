"""`GET /api/check?address=0x…`: whether a wallet has an account (design 000).

An accepted, documented disclosure: addresses are public and the wallet page
needs it. It says only whether an account exists and has a second factor,
is limited per IP, and can be switched off (`FUZZYDICE_CHECK_API_ENABLED=false`).
"""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from fuzzydice.services import get_services
from fuzzydice.wallet import flows as wallet_flows
from fuzzydice.wallet.addresses import AddressError, checksum_address

router = APIRouter()


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
    outcome = await asyncio.to_thread(wallet_flows.check_wallet, services, address=normalized, ip=ip)
    if not outcome.ok:
        return JSONResponse(
            {"error": "Too many requests: try again in a minute."},
            status_code=429,
            headers={"Retry-After": str(int(wallet_flows.CHECK_WINDOW.total_seconds()))},
        )
    found = outcome.value
    answer = {"address": normalized, "second_factor": found.second_factor} if found.exists else None
    return JSONResponse({"result": found.exists, "data": answer}, headers={"Cache-Control": "no-store"})
