"""Imports from other newsletter platforms: each one's real export, read into our rows.

One module per platform turns its export into the rows
:func:`subscribers.importer.import_subscribers` applies, with where each person stood
there (:class:`subscribers.departures.Standing`) and when they signed up; ``files.py``
holds what they share (zip checks, headers, dates, cells). The platform's quirks stay in
its module, each citing where its layout is documented.
"""

from __future__ import annotations

from pulse_core.errors import ValidationError
from subscribers.platforms import beehiiv, ghost, kit, listmonk, mailchimp, substack
from subscribers.platforms.files import Reader

PLATFORMS: dict[str, Reader] = {
    "mailchimp": mailchimp.read,
    "substack": substack.read,
    "beehiiv": beehiiv.read,
    "kit": kit.read,
    "ghost": ghost.read,
    "listmonk": listmonk.read,
}


def reader_for(platform: str) -> Reader:
    """The reader of ``platform``'s export, or a ValidationError naming the choices."""
    try:
        return PLATFORMS[platform.strip().lower()]
    except KeyError:
        raise ValidationError(
            "from", f"{platform!r} is not one of {', '.join(PLATFORMS)}"
        ) from None
