"""The subscriber web app's router and error pages, mounted by the wiring."""

from __future__ import annotations

import logging
from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from subscribers.context import SubscriberContext
from subscribers.web.embed_routes import add_embed_routes
from subscribers.web.forms import WebPolicy
from subscribers.web.leaving_routes import add_leaving_routes
from subscribers.web.pages import Pages
from subscribers.web.screening import Limits
from subscribers.web.security import SecurityHeadersMiddleware, redact_access_log
from subscribers.web.signup_routes import add_signup_routes

log = logging.getLogger("subscribers.web")

_TITLES = {
    400: "That did not work",
    404: "Page not found",
    405: "Not allowed",
    413: "Too large",
    429: "Too many tries",
    500: "Something went wrong",
}


def subscriber_router(ctx: SubscriberContext, policy: WebPolicy, templates_dir: Path) -> APIRouter:
    """Routes for ``/``, ``/subscribe``, ``/confirm``, ``/u`` and ``/preferences``."""
    pages = Pages(templates_dir)
    router = APIRouter()
    limits = Limits(policy)  # one set for every signup form: the embed shares the main one's
    add_signup_routes(router, ctx, pages, policy, limits)
    add_embed_routes(router, ctx, pages, policy, limits)
    add_leaving_routes(router, ctx, pages)
    css = (templates_dir / "web" / "site.css").read_text(encoding="utf-8")
    timezone_js = (templates_dir / "web" / "timezone.js").read_text(encoding="utf-8")

    @router.get("/assets/site.css", include_in_schema=False)
    async def stylesheet() -> Response:
        return PlainTextResponse(
            css, media_type="text/css", headers={"Cache-Control": "public, max-age=3600"}
        )

    @router.get("/assets/timezone.js", include_in_schema=False)
    async def timezone_script() -> Response:
        return PlainTextResponse(
            timezone_js,
            media_type="text/javascript",
            headers={"Cache-Control": "public, max-age=3600"},
        )

    return router


def install_subscriber_web(
    app: FastAPI, ctx: SubscriberContext, policy: WebPolicy, templates_dir: Path
) -> None:
    """Mount the subscriber pages, security headers on every response, and error pages."""
    app.include_router(subscriber_router(ctx, policy, templates_dir))
    app.add_middleware(SecurityHeadersMiddleware, hsts=policy.secure_cookies)
    redact_access_log()
    pages = Pages(templates_dir)

    def error_page(request: Request, status_code: int, detail: str) -> Response:
        if "text/html" not in request.headers.get("accept", ""):
            return JSONResponse({"detail": detail}, status_code=status_code)
        title = _TITLES.get(status_code, "That did not work")
        return pages.message(title, detail, status_code, actions=[("/", "Home")])

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if "text/html" not in request.headers.get("accept", ""):
            # API clients get the detail as raised, structured or not.
            response: Response = JSONResponse({"detail": exc.detail}, status_code=exc.status_code)
        else:
            detail = exc.detail if isinstance(exc.detail, str) else "The request was not valid."
            response = error_page(request, exc.status_code, detail)
        for name, value in (exc.headers or {}).items():
            response.headers[name] = value
        return response

    async def invalid_request(request: Request, exc: Exception) -> Response:
        return error_page(request, 400, "The request was not valid.")

    async def server_error(request: Request, exc: Exception) -> Response:
        # Only the first path segment: the rest may be a personal token, never logged.
        section = request.url.path.split("/")[1] if "/" in request.url.path else ""
        log.error("unhandled error on %s /%s/…", request.method, section, exc_info=exc)
        return error_page(request, 500, "Please try again in a moment.")

    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(RequestValidationError, invalid_request)
    app.add_exception_handler(Exception, server_error)
