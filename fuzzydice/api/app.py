"""The `/api` FastAPI app, mounted into Reflex through `api_transformer`."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from fuzzydice.api import check_route, session_routes


def create_api() -> FastAPI:
    """Build the FastAPI app; its routes all live under `/api`."""
    api = FastAPI(title="Fuzzy Dice API", docs_url=None, redoc_url=None, openapi_url="/api/openapi.json")
    api.include_router(session_routes.router, prefix="/api")
    api.include_router(check_route.router, prefix="/api")

    @api.get("/api/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @api.exception_handler(RequestValidationError)
    async def bad_input(_request: Request, exc: RequestValidationError) -> JSONResponse:
        fields = [".".join(str(part) for part in err.get("loc", ())[1:]) or "request" for err in exc.errors()]
        return JSONResponse({"error": "invalid input", "fields": fields}, status_code=400)

    return api
