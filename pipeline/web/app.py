"""The FastAPI application."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from pipeline.events.webhooks import webhook_router
from pipeline.wiring import Pulse


def create_app(pulse: Pulse) -> FastAPI:
    """Build the web app around ``pulse``'s settings and database."""
    app = FastAPI(title="AISE Pulse Brief", docs_url=None, redoc_url=None)
    app.state.pulse = pulse
    app.include_router(webhook_router(pulse))

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> JSONResponse:
        return JSONResponse({"status": "ok"})

    return app
