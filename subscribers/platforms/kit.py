"""Kit's (formerly ConvertKit) subscriber export: one CSV.

Columns ``first_name, email_address, state, created_at``, then the account's custom
fields and ``tags`` (the subscriber object's fields; older exports say ``email`` and
``status``). States: ``active`` (confirmed), ``inactive`` (unconfirmed), ``cancelled``
(unsubscribed), ``bounced`` and ``complained``; Kit's app also shows ``cold``, confirmed
subscribers who stopped opening, who are still subscribers.

Sources: Kit API v4, the subscriber object (developers.kit.com/v4, ``state`` enum
active/cancelled/bounced/complained/inactive); help.kit.com "The complete guide to
subscribers" (subscriber states).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO

from subscribers.departures import Standing
from subscribers.platforms.files import Person, Row, choice, platform_rows

NAME = "Kit"
_STATE = {
    "active": Standing.SUBSCRIBED,
    "cold": Standing.SUBSCRIBED,
    "inactive": Standing.UNCONFIRMED,
    "cancelled": Standing.UNSUBSCRIBED,
    "bounced": Standing.BOUNCED,
    "complained": Standing.COMPLAINED,
}


def describe(cells: dict[str, str]) -> Person:
    standing = choice(cells.get("state", ""), "state", _STATE)
    return Person(standing, cells.get("first_name") or None, cells.get("created_at", ""))


def read(stream: IO[bytes], filename: str, check_deliverability: bool) -> Iterator[Row]:
    yield from platform_rows(
        stream, NAME, ("email", "state"), describe, check_deliverability=check_deliverability,
        aliases={"status": "state"},
    )  # fmt: skip
