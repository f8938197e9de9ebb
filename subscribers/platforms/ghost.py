"""Ghost's members export (Members → Export): one CSV.

Columns ``id, email, name, note, subscribed_to_emails, complimentary_plan,
stripe_customer_id, created_at, deleted_at, labels, tiers`` (older versions: ``products``
for ``tiers``). ``subscribed_to_emails`` false (unsubscribed, or emails disabled after a
bounce or complaint) is imported suppressed, as unsubscribed; a member with a
``deleted_at`` is not imported. ``name`` is the full name: its first word greets them.

Source: Ghost's own tests of the export (TryGhost/Ghost, the members API e2e tests match
the header line above) and ghost.org/help/import-members.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO

from subscribers.departures import Standing
from subscribers.platforms.files import Person, Row, first_word, flag, platform_rows

NAME = "Ghost"


def describe(cells: dict[str, str]) -> Person:
    if cells.get("deleted_at"):
        return Person(Standing.GONE)
    subscribed = flag(cells.get("subscribed_to_emails", ""), "subscribed_to_emails")
    standing = Standing.SUBSCRIBED if subscribed else Standing.UNSUBSCRIBED
    return Person(standing, first_word(cells.get("name", "")), cells.get("created_at", ""))


def read(stream: IO[bytes], filename: str, check_deliverability: bool) -> Iterator[Row]:
    required = ("email", "subscribed_to_emails")
    yield from platform_rows(
        stream, NAME, required, describe, check_deliverability=check_deliverability
    )
