"""The FastAPI application."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from pipeline.admin.api_errors import install_api_errors
from pipeline.admin.desk import install_desk
from pipeline.db import is_current
from pipeline.events.webhooks import webhook_router
from pipeline.resources import templates_dir
from pipeline.subscriber_wiring import web_policy
from pipeline.web.archive import archive_router
from pipeline.web.clicks import clicks_router
from pipeline.web.limits import BodyLimitMiddleware, body_limits
from pipeline.web.mail_sender import signup_mail_lifespan
from pipeline.web.metrics import install_metrics
from pipeline.web.not_found import install_not_found
from pipeline.wiring import Pulse
from subscribers.web.routes import install_subscriber_web


def create_app(pulse: Pulse) -> FastAPI:
    """Build the web app around ``pulse``'s settings and database."""
    app = FastAPI(
        title="AISE Pulse Brief",
        docs_url=None,
        redoc_url=None,
        lifespan=signup_mail_lifespan(pulse.subscribers),
    )
    app.state.pulse = pulse
    # Added before the security headers so that even a refused body gets them.
    app.add_middleware(
        BodyLimitMiddleware, limits=body_limits(pulse.settings.webhook_max_body_bytes)
    )
    app.include_router(archive_router(pulse))
    install_subscriber_web(app, pulse.subscribers, web_policy(pulse.settings), templates_dir())
    app.include_router(webhook_router(pulse.webhooks))
    app.include_router(clicks_router(pulse))

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> JSONResponse:
        """The process is up."""
        return JSONResponse({"status": "ok"})

    @app.get("/readyz", include_in_schema=False)
    def readyz() -> JSONResponse:
        """The database answers and its schema is current."""
        try:
            with pulse.db.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            current = is_current(pulse.db.engine)
        except SQLAlchemyError:
            return JSONResponse({"status": "unavailable", "database": "unreachable"}, 503)
        if not current:
            return JSONResponse({"status": "unavailable", "database": "migrations pending"}, 503)
        return JSONResponse({"status": "ok", "database": "ok"})

    install_metrics(app, pulse)
    install_desk(app)
    install_not_found(app, pulse.settings.base_url)
    # Last: it wraps the handlers above for /api/ paths (their errors, as the schema declares).
    install_api_errors(app)

    return app
