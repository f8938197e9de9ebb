"""Fixtures for the delivery tests: a built issue, fake providers, settings that point at them."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from pipeline.analytics.models import DeliveryRetry, Engagement, EngagementKind
from pipeline.config import load_settings
from pipeline.delivery.models import Delivery
from pipeline.demo.seed import seed_week
from pipeline.weeks import week_monday
from pipeline.wiring import Pulse
from pipeline.workflow import weekly
from pulse_core.database import transaction
from tests.conftest import Workspace
from tests.fakes import FAKES, FakeProvider

WEEK = "2026-W48"
HTTP_PROVIDERS = ("postmark", "sendgrid", "mailgun", "resend", "ses")


def provider_env(fake: FakeProvider) -> dict[str, str]:
    """The PULSE_* variables that send through ``fake``."""
    name = fake.name
    env = {"PULSE_PROVIDER": name}
    if name == "postmark":
        env |= {"PULSE_POSTMARK_TOKEN": fake.credential, "PULSE_POSTMARK_API_URL": fake.url}
    elif name == "sendgrid":
        env |= {"PULSE_SENDGRID_API_KEY": fake.credential, "PULSE_SENDGRID_API_URL": fake.url}
    elif name == "mailgun":
        env |= {
            "PULSE_MAILGUN_API_KEY": fake.credential,
            "PULSE_MAILGUN_API_URL": fake.url,
            "PULSE_MAILGUN_DOMAIN": "mg.example.com",
        }
    elif name == "resend":
        env |= {"PULSE_RESEND_API_KEY": fake.credential, "PULSE_RESEND_API_URL": fake.url}
    elif name == "ses":
        env |= {
            "PULSE_SES_REGION": "us-east-1",
            "PULSE_SES_API_URL": fake.url,
            "AWS_ACCESS_KEY_ID": fake.credential,
            "AWS_SECRET_ACCESS_KEY": "test-secret",
        }
    return env


@pytest.fixture(autouse=True)
def _no_aws_profile(monkeypatch: pytest.MonkeyPatch) -> None:
    """botocore must not read the machine's AWS files or metadata service."""
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def configure(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[..., Pulse]]:
    """Build a Pulse with extra PULSE_* settings (fast retries by default)."""
    made: list[Pulse] = []

    def make(**env: str) -> Pulse:
        defaults = {
            "PULSE_SEND_BACKOFF_BASE": "0.01",
            "PULSE_SEND_BACKOFF_MAX": "0.05",
            "PULSE_RETRY_FIRST_DELAY": "0.01",
            "PULSE_RETRY_MAX_DELAY": "0.05",
        }
        for name, value in {**defaults, **env}.items():
            monkeypatch.setenv(name, value)
        pulse = Pulse(load_settings())
        made.append(pulse)
        return pulse

    yield make
    for pulse in made:
        pulse.close()


def seed_and_build(pulse: Pulse, readers: int) -> None:
    with transaction(pulse.db.sessions) as session:
        seed_week(session, week_monday(WEEK), readers)
    weekly.build_week(pulse, WEEK)


def hang_a_click_and_a_retry(session: Session, delivery: Delivery) -> None:
    """A click and a retry on ``delivery``: rows a table copy could cascade away."""
    session.add(
        Engagement(
            kind=EngagementKind.CLICK,
            issue_id=delivery.issue_id,
            delivery_id=delivery.id,
            subscriber_id=delivery.subscriber_id,
            position=1,
            method="GET",
            agent="browser",
        )
    )
    session.add(DeliveryRetry(delivery_id=delivery.id, previous_error="mailbox full"))


def delivery_ids(pulse: Pulse) -> list[int]:
    with transaction(pulse.db.sessions) as session:
        return list(session.scalars(select(Delivery.id).order_by(Delivery.id)))


@pytest.fixture(params=HTTP_PROVIDERS)
def fake(request: pytest.FixtureRequest) -> Iterator[FakeProvider]:
    """Each HTTP provider's local test server in turn."""
    with FAKES[request.param]() as server:
        yield server
