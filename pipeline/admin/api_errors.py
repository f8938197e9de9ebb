"""The API's error answers: one body per kind, declared in the schema as they are sent.

A request the API refuses for what it says gets ``{"detail": {"field", "message"}}``: 400 when
the body is not JSON at all, 422 when a field is wrong (the field named as the queue names it:
``title``, ``[1].high``, ``week``). A request refused before its content is read (no token, a
body over the size limit, a number no row can have) gets ``{"detail": "<message>"}``.

FastAPI would answer a malformed field with its own 422 list (``loc``/``msg``/``type``) and
declare that list in the schema; :func:`install_api_errors` answers with the shape above
instead, and the operations declare these responses in place of FastAPI's default.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from starlette.exceptions import HTTPException
from starlette.routing import Match

API_PREFIX = "/api/"
FASTAPI_UNPARSABLE = "There was an error parsing the body"
UNAUTHORIZED_MESSAGE = "a valid API token is required"
# What a 405's Allow header may name (HEAD goes with GET and is not declared on its own).
_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


class ErrorDetail(BaseModel):
    field: str
    message: str


class ApiError(BaseModel):
    """What was wrong with the request, by field."""

    detail: ErrorDetail


class ApiMessage(BaseModel):
    """Why the request was refused before its content was read."""

    detail: str


def _declared(model: type[BaseModel], description: str, **extra: Any) -> dict[str, Any]:
    return {"model": model, "description": description, **extra}


UNAUTHORIZED: dict[int | str, dict[str, Any]] = {
    401: _declared(
        ApiMessage,
        "No valid API token (missing, unknown, revoked or expired)",
        headers={"WWW-Authenticate": {"schema": {"type": "string"}, "required": True}},
    ),
}
# A number past what the database can hold answers 404 (pipeline.admin.desk): no row has it.
OUT_OF_RANGE: dict[int | str, dict[str, Any]] = {
    404: _declared(ApiMessage, "A value is out of range for any record; nothing was changed"),
}
INVALID_FIELD: dict[int | str, dict[str, Any]] = {
    422: _declared(ApiError, "A field is invalid; nothing was changed"),
}
PATH_ERRORS: dict[int | str, dict[str, Any]] = {**OUT_OF_RANGE, **INVALID_FIELD}
ALREADY_LISTED: dict[int | str, dict[str, Any]] = {
    409: _declared(ApiError, "The record is already there (field: url); nothing was changed"),
}
BODY_ERRORS: dict[int | str, dict[str, Any]] = {
    400: _declared(ApiError, "The body is not JSON (field: body)"),
    413: _declared(ApiMessage, "The body is larger than the API accepts"),
    **PATH_ERRORS,
}


def _field_name(location: Sequence[int | str]) -> str:
    """``("body", 1, "high")`` → ``[1].high``; ``("path", "week")`` → ``week``."""
    name = ""
    for part in location[1:]:
        name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else str(part))
    return name or "body"


def invalid_field(exc: RequestValidationError) -> JSONResponse:
    """The first error pydantic found, as the API's one error body (400 if not JSON)."""
    error = exc.errors()[0]
    location = tuple(error.get("loc", ("body",)))
    if error.get("type") == "json_invalid":
        message = f"is not valid JSON ({error.get('ctx', {}).get('error', 'decode error')})"
        return _error(400, "body", message)
    if location == ("body",) and isinstance(error.get("input"), bytes):
        return _error(400, "body", "must be JSON, sent as Content-Type: application/json")
    # pydantic's message, never the input: a lone surrogate echoed back cannot be encoded.
    return _error(422, _field_name(location), str(error.get("msg", "is invalid")))


def _error(status: int, field: str, message: str) -> JSONResponse:
    return JSONResponse({"detail": {"field": field, "message": message}}, status_code=status)


def install_api_errors(app: FastAPI) -> None:
    """Answer ``/api/`` requests with the declared error bodies; other paths keep theirs.

    Call after every other handler is installed: it wraps the app's validation and HTTP
    error handlers.
    """
    previous_invalid = app.exception_handlers.get(RequestValidationError)
    previous_http = app.exception_handlers.get(HTTPException)

    async def invalid_request(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        if request.url.path.startswith(API_PREFIX):
            return invalid_field(exc)
        return await _delegate(previous_invalid, request, exc)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if request.url.path.startswith(API_PREFIX) and exc.detail == FASTAPI_UNPARSABLE:
            # FastAPI raises this for a JSON body it cannot even decode (not UTF-8).
            return _error(400, "body", "is not valid JSON (not UTF-8 text)")
        if request.url.path.startswith(API_PREFIX) and exc.status_code == 405:
            return _method_not_allowed(request)
        return await _delegate(previous_http, request, exc)

    app.add_exception_handler(RequestValidationError, invalid_request)
    app.add_exception_handler(HTTPException, http_error)


def _method_not_allowed(request: Request) -> Response:
    """405 with every method the path has (RFC 9110 15.5.6), not just the first route's.

    Starlette names the methods of the first route whose path matches; a path with a GET
    and a POST route would claim to allow GET alone. Each method is tried against the app's
    own routing, so the answer is what the app would route.
    """
    methods = [
        method
        for method in _METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] is Match.FULL
            for route in request.app.router.routes
        )
    ]
    return JSONResponse(
        {"detail": "Method Not Allowed"}, status_code=405, headers={"Allow": ", ".join(methods)}
    )


async def _delegate(handler: Any, request: Request, exc: Exception) -> Response:
    if handler is None:
        raise exc
    response = handler(request, exc)
    answer: Response = await response if inspect.isawaitable(response) else response
    return answer
