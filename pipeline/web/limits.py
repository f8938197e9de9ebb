"""Request body limits for every route, whatever the framing (Content-Length or chunked).

A declared length over the limit is refused before anything is read; a chunked body is
counted as it streams and cut off the moment it passes the limit, so nobody can make the
server buffer hundreds of megabytes before a route (or its authentication) runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

TOO_LARGE = "The request body is too large."


@dataclass(frozen=True)
class BodyLimits:
    """The largest body accepted under each path prefix (first match wins), else ``default``."""

    by_prefix: Sequence[tuple[str, int]]
    default: int

    def for_path(self, path: str) -> int:
        for prefix, limit in self.by_prefix:
            if path.startswith(prefix):
                return limit
        return self.default


# Public forms are small (one address and a name); the desk and API take CSV uploads of up
# to 5 MB plus multipart framing; webhooks have their own setting.
PUBLIC_BODY_BYTES = 1_000_000
DESK_BODY_BYTES = 6_000_000


def body_limits(webhook_max_body_bytes: int) -> BodyLimits:
    """The app's limits: ``PULSE_WEBHOOK_MAX_BODY_BYTES`` for webhooks, fixed ones elsewhere."""
    return BodyLimits(
        by_prefix=(
            ("/webhooks/", webhook_max_body_bytes),
            ("/admin/", DESK_BODY_BYTES),
            ("/api/", DESK_BODY_BYTES),
        ),
        default=PUBLIC_BODY_BYTES,
    )


class BodyLimitMiddleware:
    """Raises ``HTTPException(413)`` from ``receive`` once a body passes its path's limit.

    The exception travels up through the route into the app's HTTP error handler, so the
    caller gets the app's own 413 page (or JSON), never a 5xx.
    """

    def __init__(self, app: ASGIApp, limits: BodyLimits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limits.for_path(scope.get("path", ""))
        declared = _declared_length(scope)
        if declared is not None and declared > limit:
            await _refuse(send)
            return
        seen = 0

        async def counting_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise HTTPException(413, TOO_LARGE)
            return message

        await self.app(scope, counting_receive, send)


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            text = value.decode("latin-1").strip()
            return int(text) if text.isdigit() and len(text) < 19 else None
    return None


async def _refuse(send: Send) -> None:
    body = b'{"detail":"' + TOO_LARGE.encode() + b'"}'
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
