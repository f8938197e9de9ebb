"""A sent issue with click tracking, the web app over it, and helpers to read the mails."""

from __future__ import annotations

import email
import re
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import Message
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from pipeline.demo.seed import seed_week
from pipeline.web.app import create_app
from pipeline.weeks import week_monday
from pipeline.wiring import Pulse
from pipeline.workflow import weekly
from pulse_core.database import transaction
from tests.conftest import Workspace

WEEK = "2026-W48"
BASE = "http://127.0.0.1:8000"
_CLICK = re.compile(r'href="(http://127\.0\.0\.1:8000/c/[^"]+)"')
BROWSER = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 Safari/605.1.15"


def html_part(message: Message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/html":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode()
    raise AssertionError("no HTML part")


def text_part(message: Message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode()
    raise AssertionError("no text part")


def messages(outbox: Path) -> dict[str, Message]:
    """The sent messages by recipient address."""
    found = {}
    for path in sorted((outbox / WEEK).glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes())
        found[str(message["To"]).split("<")[-1].rstrip(">").strip()] = message
    return found


def click_urls(message: Message) -> list[str]:
    return _CLICK.findall(html_part(message))


def path_of(url: str) -> str:
    return url.removeprefix(BASE)


@dataclass
class SentIssue:
    pulse: Pulse
    client: TestClient
    outbox: Path

    def mails(self) -> dict[str, Message]:
        return messages(self.outbox)


def seed_and_build(pulse: Pulse, readers: int) -> None:
    with transaction(pulse.db.sessions) as session:
        seed_week(session, week_monday(WEEK), readers)
    weekly.build_week(pulse, WEEK)


@pytest.fixture
def sent(pulse: Pulse, workspace: Workspace) -> Iterator[SentIssue]:
    """Six readers got this week's issue with tracked links."""
    seed_and_build(pulse, 6)
    report = weekly.send_week(pulse, WEEK)
    assert report.finished
    with TestClient(create_app(pulse), follow_redirects=False) as client:
        yield SentIssue(pulse, client, workspace.outbox)


# The desk's fixtures (an app with an editor and an admin, cheap password hashing).
from tests.admin.conftest import cheap_password_hashing, desk  # noqa: E402, F401
