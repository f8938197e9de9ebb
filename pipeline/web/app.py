"""The FastAPI application."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from pipeline.admin.desk import install_desk
from pipeline.wiring import Pulse


def create_app(pulse: Pulse) -> FastAPI:
    """Build the web app around ``pulse``'s settings and database."""
    app = FastAPI(title="AISE Pulse Brief", docs_url=None, redoc_url=None)
    app.state.pulse = pulse

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> JSONResponse:
        return JSONResponse({"status": "ok"})

    install_desk(app)

    return app
