"""The subscribers page (counts, growth, search, import), shared by its routes."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy import select

from pipeline.admin.chart import growth_chart
from pipeline.admin.sessions import Actor
from pipeline.admin.stats import status_counts, weekly_growth
from pipeline.admin.web import page, pulse_of
from pulse_core.database import transaction, utcnow
from subscribers.models import Subscriber

SEARCH_LIMIT = 50
PLATFORM_NAMES = {
    "mailchimp": "Mailchimp (the audience export zip)",
    "substack": "Substack (email_list CSV or the export zip)",
    "beehiiv": "beehiiv (subscribers CSV)",
    "kit": "Kit / ConvertKit (subscribers CSV)",
    "ghost": "Ghost (members CSV)",
    "listmonk": "listmonk (subscribers CSV)",
}


def subscribers_page(
    request: Request, actor: Actor, status: int = 200, q: str = "", **context: Any
) -> Response:
    """Render ``admin/subscribers.html``; ``q`` searches addresses."""
    pulse = pulse_of(request)
    # Control characters (NUL above all) can match nothing and PostgreSQL refuses them.
    query = "".join(ch for ch in q if ch.isprintable()).strip()[:320]
    with transaction(pulse.db.sessions) as session:
        found: list[Subscriber] = []
        if query:
            found = list(
                session.scalars(
                    select(Subscriber)
                    .where(Subscriber.email_key.contains(query.casefold(), autoescape=True))
                    .order_by(Subscriber.email_key)
                    .limit(SEARCH_LIMIT)
                )
            )
        counts = status_counts(session)
        chart = growth_chart(weekly_growth(session, utcnow()))
    context.setdefault("values", {})
    return page(
        request, "admin/subscribers.html", actor, status, q=query, found=found, counts=counts,
        chart=chart, platforms=PLATFORM_NAMES, **context,
    )  # fmt: skip
