"""Unknown public URLs answer a friendly HTML 404 page, whatever the client accepts.

The subscriber pages answer JSON to clients that do not ask for HTML; a person who types
a wrong address with ``curl`` or a link checker should still get a page, not ``{"detail":
"Not Found"}``. Machine endpoints (the API, webhooks, health checks) keep their JSON.
"""

from __future__ import annotations

import inspect

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from starlette.exceptions import HTTPException

from pipeline.issues.render import environment

MACHINE_PATHS = ("/api/", "/webhooks/", "/healthz", "/readyz", "/admin/static/")


def is_public_page(path: str) -> bool:
    return not path.startswith(MACHINE_PATHS)


def not_found_page(base_url: str) -> HTMLResponse:
    body = (
        environment()
        .get_template("web/not_found.html")
        .render(base_url=base_url, title="Page not found")
    )
    return HTMLResponse(body, status_code=404)


def install_not_found(app: FastAPI, base_url: str) -> None:
    """Wrap the app's HTTP error handler: public 404s become the HTML page."""
    previous = app.exception_handlers.get(HTTPException)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if exc.status_code == 404 and is_public_page(request.url.path):
            return not_found_page(base_url)
        if previous is None:
            raise exc
        response = previous(request, exc)
        return await response if inspect.isawaitable(response) else response

    app.add_exception_handler(HTTPException, http_error)
