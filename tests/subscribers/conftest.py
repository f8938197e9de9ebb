"""Fixtures for the subscriber flows: a web client over the workspace, and the file outbox."""

from __future__ import annotations

import email
import email.policy
import re
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from pipeline.web.app import create_app
from pipeline.wiring import Pulse
from pulse_core.database import transaction
from subscribers.models import Subscriber

# make_pulse moved to tests/conftest.py; the names stay importable from here until callers move.
from tests.conftest import MakePulse, Workspace, make_pulse

__all__ = ["MakePulse", "make_pulse"]

FORM_TOKEN = re.compile(r'name="form_token" value="([^"]+)"')


@dataclass
class Outbox:
    """The transactional messages the ``file`` provider wrote."""

    folder: Path

    def messages(self) -> list[EmailMessage]:
        if not self.folder.exists():
            return []
        paths = sorted(self.folder.glob("*.eml"), key=lambda p: p.stat().st_mtime_ns)
        return [
            email.message_from_bytes(p.read_bytes(), policy=email.policy.default)  # type: ignore[misc]
            for p in paths
        ]

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages() if address.lower() in str(m["To"]).lower()]

    @staticmethod
    def text(message: EmailMessage) -> str:
        part = message.get_body(preferencelist=("plain",))
        assert part is not None
        return str(part.get_content())

    def link(self, address: str, path: str) -> str:
        """The last ``/path/...`` link mailed to ``address``, as a site-relative URL."""
        texts = "\n".join(self.text(message) for message in self.to(address))
        found = re.findall(rf"https?://[^/\s]+(/{path}/[A-Za-z0-9._-]+)", texts)
        assert found, f"no /{path}/ link mailed to {address}"
        return str(found[-1])


@pytest.fixture
def site(make_pulse: MakePulse) -> Pulse:
    # The single welcome email these tests check is sent when the welcome series is off;
    # the series (its own welcome first) is tested in tests/welcome.
    return make_pulse(welcome_series="")


@pytest.fixture
def client(site: Pulse) -> TestClient:
    return TestClient(create_app(site))


@pytest.fixture
def outbox(workspace: Workspace) -> Outbox:
    return Outbox(workspace.outbox / "transactional")


def form_token(client: TestClient) -> str:
    page = client.get("/")
    match = FORM_TOKEN.search(page.text)
    assert match, "the landing page has no form token"
    return match.group(1)


def sign_up(client: TestClient, address: str, name: str = "", **extra: str):  # type: ignore[no-untyped-def]
    """Fill in and send the landing page's form as a browser would."""
    data = {"form_token": form_token(client), "email": address, "first_name": name, "website": ""}
    data.update(extra)
    return client.post("/subscribe", data=data)


def subscriber(pulse: Pulse, address: str) -> Subscriber | None:
    from sqlalchemy import select

    with transaction(pulse.db.sessions) as session:
        return session.scalar(select(Subscriber).where(Subscriber.email_key == address.lower()))


def all_subscribers(pulse: Pulse) -> list[Subscriber]:
    from sqlalchemy import select

    with transaction(pulse.db.sessions) as session:
        return list(session.scalars(select(Subscriber).order_by(Subscriber.id)))


def mail_queue_is_empty(pulse: Pulse, *, drain: bool = False) -> bool:
    """Whether the signup mail queue has nothing left (after sending it here, if ``drain``)."""
    from subscribers.mailqueue import pending_count
    from subscribers.signup import drain_signup_mail

    if drain:
        drain_signup_mail(pulse.subscribers)
    with transaction(pulse.db.sessions) as session:
        return pending_count(session) == 0
