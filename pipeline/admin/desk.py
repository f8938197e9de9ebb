"""Mounting the editors' desk (``/admin``) and its JSON API (``/api/v1``) on the web app."""

from __future__ import annotations

import inspect

from fastapi import FastAPI, Request
from fastapi.exception_handlers import request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import DataError

from pipeline.admin.api import api_router
from pipeline.admin.routes_analytics import analytics_router
from pipeline.admin.routes_auth import auth_router
from pipeline.admin.routes_content import content_router
from pipeline.admin.routes_dashboard import dashboard_router
from pipeline.admin.routes_deliverability import deliverability_router
from pipeline.admin.routes_growth import growth_router
from pipeline.admin.routes_imports import imports_router
from pipeline.admin.routes_issue import issue_router
from pipeline.admin.routes_jobs import jobs_router
from pipeline.admin.routes_people import people_router
from pipeline.admin.web import (
    LoginThrottle,
    current_actor,
    install_error_pages,
    page,
    web_templates,
)


async def _invalid_api_request(request: Request, exc: Exception) -> Response:
    """FastAPI's 422, except that input it cannot encode (lone surrogates) is left out."""
    assert isinstance(exc, RequestValidationError)
    try:
        return await request_validation_exception_handler(request, exc)
    except UnicodeEncodeError:
        # The default handler echoes the input back; a lone surrogate cannot be encoded.
        errors = [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in exc.errors()]
        return JSONResponse({"detail": errors}, status_code=422)


async def _number_out_of_range(request: Request, exc: Exception) -> Response:
    """A number the database cannot hold (a 30-digit id in a URL): a 4xx, not a 5xx.

    SQLite raises OverflowError past 64 bits, PostgreSQL a DataError past its column's range
    (int4 ids); date arithmetic past year 9999 raises OverflowError too. Whatever number
    did it, nothing can match it. The transaction has been rolled back by then.
    """
    message = (
        "A value in this request is out of range (such as an id no record can have); "
        "nothing was changed."
    )
    if request.url.path.startswith("/admin"):
        return page(request, "admin/error.html", current_actor(request), 404, message=message)
    return JSONResponse({"detail": message}, status_code=404)


def install_desk(app: FastAPI) -> None:
    """Add the desk's routes, error pages and per-process state to ``app``."""
    settings = app.state.pulse.settings
    app.state.login_throttle = LoginThrottle(settings.admin_login_attempts_per_minute)
    install_error_pages(app)
    # The desk and API answer bad input with FastAPI's 422; other pages keep their own handler.
    public_handler = app.exception_handlers.get(RequestValidationError)

    async def invalid_request(request: Request, exc: Exception) -> Response:
        if public_handler is None or request.url.path.startswith(("/admin", "/api/")):
            return await _invalid_api_request(request, exc)
        response = public_handler(request, exc)
        return await response if inspect.isawaitable(response) else response

    app.add_exception_handler(RequestValidationError, invalid_request)
    app.add_exception_handler(OverflowError, _number_out_of_range)
    app.add_exception_handler(DataError, _number_out_of_range)
    script = (web_templates() / "admin" / "desk.js").read_text(encoding="utf-8")

    stylesheet = (web_templates() / "admin" / "desk.css").read_text(encoding="utf-8")

    @app.get("/admin/static/desk.css", include_in_schema=False)
    def desk_stylesheet() -> Response:
        return Response(stylesheet, media_type="text/css")

    @app.get("/admin/static/desk.js", include_in_schema=False)
    def desk_script() -> Response:
        return Response(script, media_type="text/javascript")

    for router in (
        auth_router(),
        dashboard_router(),
        deliverability_router(),
        # Before the content routes: /admin/jobs/sources/remove must not be read as the
        # listing /admin/jobs/{job_id}/remove.
        jobs_router(),
        content_router(),
        issue_router(),
        people_router(),
        imports_router(),
        growth_router(),
        api_router(),
        analytics_router(),
    ):
        app.include_router(router)
