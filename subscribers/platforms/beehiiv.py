"""beehiiv's subscriber export (Audience → Subscribers → Export): one CSV.

Columns ``email, First Name, Last Name, status, tier, created_at, stripe_customer_id``,
the publication's custom fields, and ``unsubscribed_at``; times like
``2023-03-24 10:23:10 UTC``. The status is the subscription's: ``active``, ``inactive``
(unsubscribed), ``invalid`` (the address failed validation or bounced), ``pending``,
``validating`` and ``needs_attention`` (never confirmed). A row with an
``unsubscribed_at`` counts as unsubscribed whatever its status says.

Sources: beehiiv API v2, the subscription object's ``status`` enum
(developers.beehiiv.com/api-reference/subscriptions); the export sample in
TryGhost/migrate packages/mg-beehiiv-members/src/test/fixtures/members.csv.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO

from subscribers.departures import Standing
from subscribers.platforms.files import Person, Row, choice, platform_rows

NAME = "beehiiv"
_STATUS = {
    "active": Standing.SUBSCRIBED,
    "inactive": Standing.UNSUBSCRIBED,
    "invalid": Standing.BOUNCED,
    "pending": Standing.UNCONFIRMED,
    "validating": Standing.UNCONFIRMED,
    "needs_attention": Standing.UNCONFIRMED,
}


def describe(cells: dict[str, str]) -> Person:
    standing = choice(cells.get("status", ""), "status", _STATUS)
    if cells.get("unsubscribed_at"):
        standing = Standing.UNSUBSCRIBED
    return Person(standing, cells.get("first_name") or None, cells.get("created_at", ""))


def read(stream: IO[bytes], filename: str, check_deliverability: bool) -> Iterator[Row]:
    yield from platform_rows(
        stream, NAME, ("email", "status"), describe, check_deliverability=check_deliverability
    )
