"""Security headers on every response: CSP, no framing, no referrer leaks, no sniffing."""

from __future__ import annotations

import logging
import re

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Styles may be inline because the web version of an issue is email HTML (inline styles by
# nature); scripts only from this origin (never inline, so injected markup cannot run),
# and forms may only post back to this site.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: https:; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)

SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "interest-cohort=(), camera=(), microphone=(), geolocation=()",
}


# Sent only when the site's base URL is https: a year, this host only (the operator's
# other subdomains may not all speak https).
HSTS = "max-age=31536000"


class SecurityHeadersMiddleware:
    """Adds :data:`SECURITY_HEADERS` to every HTTP response (unless a route set its own).

    With ``hsts`` (the base URL is https) browsers are also told to use https only.
    """

    def __init__(self, app: ASGIApp, *, hsts: bool = False) -> None:
        self.app = app
        self.headers = {**SECURITY_HEADERS, **({"Strict-Transport-Security": HSTS} if hsts else {})}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                # A page that may be framed (the embed's, by its CSP frame-ancestors) must not
                # also get X-Frame-Options: DENY, which would forbid what its CSP allows.
                framable = "frame-ancestors 'none'" not in headers.get(
                    "Content-Security-Policy", "frame-ancestors 'none'"
                )
                for name, value in self.headers.items():
                    if name not in headers and not (framable and name == "X-Frame-Options"):
                        headers[name] = value
                if "Cache-Control" not in headers:
                    # Pages carry personal tokens and data: never cache them in shared caches.
                    headers["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_with_headers)


# Every path whose segment after the prefix is a capability (the token is the credential).
_TOKEN_PATH = re.compile(r"^(/(?:u|confirm|preferences|recover|c|admin/set-password)/)[^/?\s]+")


class RedactTokensFilter(logging.Filter):
    """Replaces personal tokens in access-log paths: tokens never reach the logs."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], redact_path(args[2]), *args[3:])
        return True


def redact_path(path: str) -> str:
    """``/u/<token>`` → ``/u/…`` (and the same for every other capability link)."""
    return _TOKEN_PATH.sub(r"\1…", path)


def redact_access_log(logger_name: str = "uvicorn.access") -> None:
    """Install :class:`RedactTokensFilter` on the access logger once."""
    logger = logging.getLogger(logger_name)
    if not any(isinstance(f, RedactTokensFilter) for f in logger.filters):
        logger.addFilter(RedactTokensFilter())
