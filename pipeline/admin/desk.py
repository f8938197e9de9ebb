"""Mounting the editors' desk (``/admin``) and its JSON API (``/api/v1``) on the web app."""

from __future__ import annotations

import threading

from fastapi import FastAPI
from fastapi.responses import Response

from pipeline.admin.api import api_router
from pipeline.admin.routes_auth import auth_router
from pipeline.admin.routes_content import content_router
from pipeline.admin.routes_dashboard import dashboard_router
from pipeline.admin.routes_issue import issue_router
from pipeline.admin.routes_people import people_router
from pipeline.admin.web import TEMPLATES_DIR, LoginThrottle, install_error_pages


def install_desk(app: FastAPI) -> None:
    """Add the desk's routes, error pages and per-process state to ``app``."""
    settings = app.state.pulse.settings
    app.state.login_throttle = LoginThrottle(settings.admin_login_attempts_per_minute)
    # Background "send now" threads, kept so tests (and shutdown) can wait for them.
    send_threads: list[threading.Thread] = []
    app.state.send_threads = send_threads
    install_error_pages(app)
    script = (TEMPLATES_DIR / "admin" / "desk.js").read_text(encoding="utf-8")

    @app.get("/admin/static/desk.js", include_in_schema=False)
    def desk_script() -> Response:
        return Response(script, media_type="text/javascript")

    for router in (
        auth_router(),
        dashboard_router(),
        content_router(),
        issue_router(),
        people_router(),
        api_router(),
    ):
        app.include_router(router)
