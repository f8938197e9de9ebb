"""The FastAPI application."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from pipeline.issues.render import TEMPLATES_DIR
from pipeline.subscriber_wiring import web_policy
from pipeline.wiring import Pulse
from subscribers.web.routes import install_subscriber_web


def create_app(pulse: Pulse) -> FastAPI:
    """Build the web app around ``pulse``'s settings and database."""
    app = FastAPI(title="AISE Pulse Brief", docs_url=None, redoc_url=None)
    app.state.pulse = pulse
    install_subscriber_web(app, pulse.subscribers, web_policy(pulse.settings), TEMPLATES_DIR)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> JSONResponse:
        return JSONResponse({"status": "ok"})

    return app
