"""Mailchimp's audience export: a zip with one CSV per status.

Audience → Export Audience gives ``members_export_<id>.zip`` holding
``subscribed_members_export_<id>.csv``, ``unsubscribed_members_export_<id>.csv``,
``cleaned_members_export_<id>.csv`` (hard bounces, or repeated soft ones) and
``nonsubscribed_members_export_<id>.csv`` (contacts who never opted in). Each has
``Email Address``, ``First Name``, ``Last Name``, the audience's own fields, then
``MEMBER_RATING, OPTIN_TIME, OPTIN_IP, CONFIRM_TIME, CONFIRM_IP, LATITUDE, LONGITUDE,
GMTOFF, DSTOFF, TIMEZONE, CC, REGION`` and ``LAST_CHANGED`` (subscribed), ``UNSUB_TIME,
UNSUB_CAMPAIGN_TITLE, UNSUB_CAMPAIGN_ID, UNSUB_REASON, UNSUB_REASON_OTHER``
(unsubscribed) or ``CLEAN_TIME, CLEAN_CAMPAIGN_TITLE, CLEAN_CAMPAIGN_ID`` (cleaned), and
``LEID, EUID, NOTES, TAGS``. Times are UTC.

Sources: Mailchimp's help, "Export your audience" and "View unsubscribed and cleaned
addresses":
http://kb.mailchimp.com/lists/managing-subscribers/view-unsubscribed-and-cleaned-addresses
and the sample exports in TryGhost/migrate (packages/mg-mailchimp-members/src/test/fixtures).
An unzipped member CSV can be imported alone when it keeps Mailchimp's file name.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import IO

from pulse_core.errors import ImportFileError
from subscribers.departures import Standing
from subscribers.platforms.files import (
    Person,
    Row,
    csv_members,
    is_zip,
    open_member,
    open_zip,
    platform_rows,
)

NAME = "Mailchimp"
_MEMBER = re.compile(r"^(nonsubscribed|subscribed|unsubscribed|cleaned)_.*export.*\.csv$")
_STANDING = {
    "subscribed": Standing.SUBSCRIBED,
    "unsubscribed": Standing.UNSUBSCRIBED,
    "cleaned": Standing.BOUNCED,
    "nonsubscribed": Standing.GONE,  # never opted in: not a reader
}
# The leavers first, so someone listed twice counts as having left (a duplicate is skipped).
_ORDER = ("cleaned", "unsubscribed", "subscribed", "nonsubscribed")


def _kind(name: str) -> str | None:
    found = _MEMBER.match(name.lower())
    return found.group(1) if found else None


def read(stream: IO[bytes], filename: str, check_deliverability: bool) -> Iterator[Row]:
    """The export's rows, every status file in turn."""
    if not is_zip(stream):
        kind = _kind(filename.rsplit("/", 1)[-1])
        if kind is None:
            raise ImportFileError(
                1,
                "file",
                "Mailchimp's export is a zip of subscribed_/unsubscribed_/cleaned_members_"
                "export_….csv files; give the zip, or one of those CSVs under its own name",
            )
        yield from _member_rows(stream, kind, "", check_deliverability)
        return
    archive = open_zip(stream)
    members = [(kind, name, info) for name, info in csv_members(archive) if (kind := _kind(name))]
    if not any(kind != "nonsubscribed" for kind, _, _ in members):
        raise ImportFileError(
            1, "file", "no subscribed_/unsubscribed_/cleaned_members_export CSV in the zip"
        )
    members.sort(key=lambda member: _ORDER.index(member[0]))
    for kind, name, info in members:
        with open_member(archive, info) as member:
            yield from _member_rows(member, kind, name, check_deliverability)


def _member_rows(
    stream: IO[bytes], kind: str, where: str, check_deliverability: bool
) -> Iterator[Row]:
    standing = _STANDING[kind]

    def describe(cells: dict[str, str]) -> Person:
        signed_up = cells.get("confirm_time") or cells.get("optin_time") or ""
        return Person(standing, cells.get("first_name") or None, signed_up)

    yield from platform_rows(
        stream, NAME, ("email",), describe, check_deliverability=check_deliverability,
        where=where,
    )  # fmt: skip
