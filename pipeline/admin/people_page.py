"""The subscribers page (counts, growth, search, import), shared by its routes."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy import select

from pipeline.admin.chart import PALETTE, bar_chart, growth_chart
from pipeline.admin.segment_stats import weekly_confirmed_by
from pipeline.admin.sessions import Actor
from pipeline.admin.stats import status_counts, weekly_growth
from pipeline.admin.web import DeskError, page, pulse_of
from pulse_core.database import transaction, utcnow
from subscribers.models import Subscriber
from subscribers.profile import PROFILE_FIELDS
from subscribers.segments import all_segment_counts

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
    request: Request,
    actor: Actor,
    status: int = 200,
    q: str = "",
    by: str = "level",
    **context: Any,
) -> Response:
    """Render ``admin/subscribers.html``; ``q`` searches addresses, ``by`` picks the segment
    field whose growth is charted."""
    pulse = pulse_of(request)
    if by not in PROFILE_FIELDS:
        raise DeskError(400, f"by: choose one of {', '.join(PROFILE_FIELDS)}")
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
        segments = all_segment_counts(session)
        growth = weekly_confirmed_by(session, by, utcnow())
    segment_chart = bar_chart(
        growth.weeks,
        [(v, PALETTE[i % len(PALETTE)], n) for i, (v, n) in enumerate(growth.series)],
        f"New confirmed readers per week by {by}",
    )
    context.setdefault("values", {})
    return page(
        request, "admin/subscribers.html", actor, status, q=query, found=found, counts=counts,
        chart=chart, platforms=PLATFORM_NAMES, segments=segments, by=by,
        segment_chart=segment_chart, fields=PROFILE_FIELDS, **context,
    )  # fmt: skip
