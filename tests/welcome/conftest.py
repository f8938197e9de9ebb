"""Fixtures for the welcome series: confirmed readers, a clock, and the series' outbox."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest

from pipeline.weeks import WEEKDAYS
from pipeline.wiring import Pulse
from pulse_core.database import transaction, utcnow
from subscribers.models import SubscriberStatus
from subscribers.service import add_subscriber
from subscribers.signup import confirm
from tests.conftest import MakePulse, Workspace

CONSENT = "Yes, send me AISE Pulse Brief (test)."


def far_schedule(now: datetime) -> str:
    """A weekly send time half a week from ``now`` (UTC), far from every test moment."""
    moment = now + timedelta(days=3, hours=12)
    return f"{WEEKDAYS[moment.weekday()]} {moment:%H}:00"


@pytest.fixture
def start() -> datetime:
    return utcnow()


@pytest.fixture
def series_pulse(make_pulse: MakePulse, start: datetime) -> Pulse:
    """The wiring with the weekly send far from the test's moments (UTC)."""
    return make_pulse(schedule=far_schedule(start), timezone="UTC")


def confirmed_reader(pulse: Pulse, address: str, name: str | None = "Ada") -> int:
    """A reader who signed up and confirmed through the double opt-in; their id."""
    with transaction(pulse.db.sessions) as session:
        subscriber, _new = add_subscriber(
            session,
            address,
            first_name=name,
            consent_text=CONSENT,
            consent_source="test",
            status=SubscriberStatus.PENDING,
        )
        subscriber_id = subscriber.id
    ctx = pulse.subscribers
    confirm(ctx, ctx.signer.confirm_token(subscriber_id))
    return subscriber_id


@dataclass
class SeriesOutbox:
    """The series emails the ``file`` provider wrote, one folder per step."""

    root: Path

    def messages(self, step: str) -> list[EmailMessage]:
        folder = self.root / f"welcome-{step}"
        if not folder.exists():
            return []
        return [
            email.message_from_bytes(path.read_bytes(), policy=email.policy.default)  # type: ignore[misc]
            for path in sorted(folder.glob("*.eml"))
        ]

    def to(self, step: str, address: str) -> list[EmailMessage]:
        return [m for m in self.messages(step) if address.lower() in str(m["To"]).lower()]

    @staticmethod
    def text(message: EmailMessage) -> str:
        part = message.get_body(preferencelist=("plain",))
        assert part is not None
        return str(part.get_content())

    @staticmethod
    def html(message: EmailMessage) -> str:
        part = message.get_body(preferencelist=("html",))
        assert part is not None
        return str(part.get_content())


@pytest.fixture
def series_outbox(workspace: Workspace) -> SeriesOutbox:
    return SeriesOutbox(workspace.outbox)


Clock = Callable[..., datetime]


@pytest.fixture
def at(start: datetime) -> Clock:
    """``at(days=2, minutes=1)``: a moment after the test's start."""

    def moment(**delta: float) -> datetime:
        return start + timedelta(**delta)

    return moment
