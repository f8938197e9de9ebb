"""Substack's subscriber export: ``email_list.<publication>.csv``, alone or in the zip.

Settings → Exports gives a zip of posts and ``email_list.<publication>.csv`` with
``email, active_subscription, expiry, plan, email_disabled, created_at,
first_payment_at`` (older exports: ``email, active_subscription, expiry,
email_disabled, created_at``; some add ``name`` or ``prefer_digests``). Substack lists
only its current subscribers: ``email_disabled`` true means it no longer emails them
(they turned email off, or it bounced), so they are imported suppressed, as unsubscribed
(signing up again with a confirmation brings them back). ``active_subscription`` is
about paying and changes nothing here. Accounts deleted on request show as
``…@deletion-request.substack.com`` and are not imported.

Sources: TryGhost/migrate packages/mg-substack-members-csv (lib/process.js,
test/fixtures/fixtures_signup_emails.csv) and mg-substack (the export zip's layout).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO

from pulse_core.errors import ImportFileError
from subscribers.departures import Standing
from subscribers.platforms.files import (
    Person,
    Row,
    csv_members,
    first_word,
    flag,
    is_zip,
    open_member,
    open_zip,
    platform_rows,
)

NAME = "Substack"
_DELETED = "@deletion-request.substack.com"


def describe(cells: dict[str, str]) -> Person:
    if cells.get("email", "").lower().endswith(_DELETED):
        return Person(Standing.GONE)
    disabled = flag(cells.get("email_disabled", ""), "email_disabled")
    standing = Standing.UNSUBSCRIBED if disabled else Standing.SUBSCRIBED
    return Person(standing, first_word(cells.get("name", "")), cells.get("created_at", ""))


def read(stream: IO[bytes], filename: str, check_deliverability: bool) -> Iterator[Row]:
    """The subscribers of the CSV, or of the export zip's ``email_list`` CSV."""
    required = ("email", "email_disabled")
    if not is_zip(stream):
        yield from platform_rows(
            stream, NAME, required, describe, check_deliverability=check_deliverability
        )
        return
    archive = open_zip(stream)
    lists = [(name, info) for name, info in csv_members(archive) if name.startswith("email_list")]
    if len(lists) != 1:
        raise ImportFileError(1, "file", "the zip should hold one email_list.….csv (Substack's)")
    [(name, info)] = lists
    with open_member(archive, info) as member:
        yield from platform_rows(
            member, NAME, required, describe, check_deliverability=check_deliverability,
            where=name,
        )  # fmt: skip
