"""listmonk's subscribers export (Subscribers → Export): one CSV.

Columns ``uuid, email, name, attributes, status, created_at, updated_at``, the status
being the subscriber's own: ``enabled``, ``disabled`` or ``blocklisted``. Blocklisted
people (unsubscribed with blocklisting on, bounced past the limit, or blocked by hand) are
imported suppressed, as unsubscribed; disabled ones are not imported. The timestamps are
Go's ``time.Time.String()``: ``2024-01-15 10:00:00.123456 +0000 UTC``.

Source: knadh/listmonk cmd/subscribers.go, ``handleExportSubscribers`` (the header row
and the fields it writes); listmonk.app/docs/concepts (subscriber statuses).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO

from subscribers.departures import Standing
from subscribers.platforms.files import Person, Row, choice, first_word, platform_rows

NAME = "listmonk"
_STATUS = {
    "enabled": Standing.SUBSCRIBED,
    "disabled": Standing.GONE,
    "blocklisted": Standing.UNSUBSCRIBED,
}


def describe(cells: dict[str, str]) -> Person:
    standing = choice(cells.get("status", ""), "status", _STATUS)
    return Person(standing, first_word(cells.get("name", "")), cells.get("created_at", ""))


def read(stream: IO[bytes], filename: str, check_deliverability: bool) -> Iterator[Row]:
    yield from platform_rows(
        stream, NAME, ("email", "status"), describe, check_deliverability=check_deliverability
    )
