"""``/c/{token}`` (signed click redirect) and ``/o/{token}.gif`` (the open pixel).

A click token names (delivery, issue, link) and is signed, so the redirect can only ever go
to that issue's own link at that number: there is no URL in the request to tamper with.
Anything that is not a genuine token gets the friendly 404 page with the archive link.
Recording is best effort *after* the answer is decided: a click is never refused because
the database is busy, and a database error is logged, not shown.
"""

from __future__ import annotations

import logging
from base64 import b64decode
from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from pipeline.analytics.record import RequestFacts, is_prefetch, record
from pipeline.analytics.tokens import (
    OPEN,
    TOKEN_LIFETIME,
    BadClickToken,
    ClickTarget,
)
from pipeline.issues.links import TrackedLink, links_from_json
from pipeline.issues.models import Issue
from pipeline.issues.render import environment
from pipeline.issues.states import SEND_BEGUN
from pipeline.wiring import Pulse
from pulse_core.database import transaction, utcnow

log = logging.getLogger(__name__)

# A transparent 1×1 GIF.
PIXEL = b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
_PRIVATE = {"Cache-Control": "no-store, private", "Referrer-Policy": "no-referrer"}
# Only issues that went out (states.SEND_BEGUN) carry click tokens; their links are frozen.


class ClickRedirects:
    """The two endpoints' logic, with the issue links cached per issue (they never change)."""

    def __init__(self, pulse: Pulse) -> None:
        self.pulse = pulse
        self.signer = pulse.click_signer
        # Per issue: its links and when its send started (both frozen once it went out).
        self._links: dict[int, tuple[tuple[TrackedLink, ...], datetime | None]] = {}

    def links(self, issue_id: int) -> tuple[TrackedLink, ...] | None:
        """The issue's links while its tokens live (from its send, for TOKEN_LIFETIME)."""
        cached = self._links.get(issue_id)
        if cached is None:
            with self.pulse.db.sessions() as session:
                issue = session.scalar(select(Issue).where(Issue.id == issue_id))
                if issue is None or issue.status not in SEND_BEGUN:
                    return None
                cached = (links_from_json(issue.links_json), issue.send_started_at)
            if len(self._links) > 256:
                self._links.clear()
            self._links[issue_id] = cached
        links, started = cached
        if started is not None and utcnow() - started > TOKEN_LIFETIME:
            return None
        return links

    def target(self, token: str) -> tuple[ClickTarget, tuple[TrackedLink, ...]] | None:
        try:
            target = self.signer.read(token)
        except BadClickToken:
            return None
        links = self.links(target.issue_id)
        if links is None:
            return None
        return target, links

    def record(self, request: Request, target: ClickTarget, links: tuple[TrackedLink, ...]) -> None:
        facts = RequestFacts(
            method=request.method,
            user_agent=request.headers.get("user-agent"),
            address=request.client.host if request.client else None,
            prefetch=is_prefetch(dict(request.headers)),
        )
        try:
            with transaction(self.pulse.db.sessions) as session:
                record(session, target, links, facts)
        except SQLAlchemyError:
            # The reader still gets their link; the failure is visible in the logs.
            log.exception("could not record a click for delivery %s", target.delivery_id)

    def not_found(self) -> HTMLResponse:
        body = (
            environment()
            .get_template("web/not_found.html")
            .render(base_url=self.pulse.settings.base_url, title="Link not found")
        )
        return HTMLResponse(body, status_code=404, headers=_PRIVATE)


def clicks_router(pulse: Pulse) -> APIRouter:
    router = APIRouter(include_in_schema=False)
    redirects = ClickRedirects(pulse)

    @router.api_route("/c/{token}", methods=["GET", "HEAD"])
    def click(token: str, request: Request) -> Response:
        found = redirects.target(token)
        if found is None:
            return redirects.not_found()
        target, links = found
        if not 0 <= target.position < len(links):
            return redirects.not_found()
        link = links[target.position]
        redirects.record(request, target, links)
        return RedirectResponse(link.url, status_code=302, headers=_PRIVATE)

    @router.api_route("/o/{name}", methods=["GET", "HEAD"])
    def pixel(name: str, request: Request) -> Response:
        token = name.removesuffix(".gif")
        found = redirects.target(token) if name != "-" else None
        if found is not None and found[0].position == OPEN and pulse.settings.track_opens:
            redirects.record(request, *found)
        return Response(PIXEL, media_type="image/gif", headers=_PRIVATE)

    return router
