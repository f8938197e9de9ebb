"""The platform export fixtures (tests/subscribers/fixtures/platforms), ready to import."""

from __future__ import annotations

import zipfile
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures" / "platforms"
SINGLE_FILES = {
    "substack": "substack_email_list.csv",
    "ghost": "ghost_members.csv",
    "listmonk": "listmonk_subscribers.csv",
    "beehiiv": "beehiiv_subscribers.csv",
    "kit": "kit_subscribers.csv",
}


def mailchimp_zip(folder: Path, name: str = "members_export_3f2a1b9c0d.zip") -> Path:
    """The Mailchimp fixture CSVs zipped as Mailchimp ships them."""
    path = folder / name
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for member in sorted((FIXTURES / "mailchimp").glob("*.csv")):
            archive.write(member, member.name)
    return path


def export_of(platform: str, folder: Path) -> Path:
    """The fixture export of ``platform`` as a file to import."""
    if platform == "mailchimp":
        return mailchimp_zip(folder)
    return FIXTURES / SINGLE_FILES[platform]


# What each fixture says about its people: who ends up active, who suppressed (and why),
# and who is left out entirely (deleted, disabled, never opted in, never confirmed).
EXPECTED: dict[str, dict[str, set[str]]] = {
    "mailchimp": {
        "active": {"ada@example.com", "grace@example.com"},
        "unsubscribed": {"ula@example.com"},
        "bounced": {"cleo@example.com"},
        "absent": {"nina@example.com"},
    },
    "substack": {
        "active": {"sam@example.com", "pat@example.com"},
        "unsubscribed": {"dis@example.com"},
        "absent": {"x7f3a@deletion-request.substack.com"},
    },
    "ghost": {
        "active": {"gil@example.com"},
        "unsubscribed": {"uma@example.com"},
        "absent": {"del@example.com"},
    },
    "listmonk": {
        "active": {"lea@example.com"},
        "unsubscribed": {"bob@example.com"},
        "absent": {"dan@example.com"},
    },
    "beehiiv": {
        "active": {"bea@example.com"},
        "unsubscribed": {"ina@example.com", "ume@example.com"},
        "bounced": {"val@example.com"},
        "absent": {"pen@example.com"},
    },
    "kit": {
        "active": {"kai@example.com", "cora@example.com"},
        "unsubscribed": {"cal@example.com"},
        "bounced": {"bo@example.com"},
        "complained": {"com@example.com"},
        "absent": {"ike@example.com"},
    },
}
