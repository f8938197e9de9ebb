"""Every API provider end to end against its local test server: one message per recipient."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import select

from pipeline.delivery.models import Delivery, DeliveryStatus
from pipeline.errors import ConfigError
from pipeline.issues.models import Issue, IssueStatus
from pipeline.wiring import Pulse
from pipeline.workflow import weekly
from pulse_core.database import transaction
from subscribers.models import Subscriber
from tests.delivery.conftest import WEEK, provider_env, seed_and_build
from tests.fakes import FakeProvider


def test_each_provider_delivers_one_personal_message_per_subscriber(
    fake: FakeProvider, configure: Callable[..., Pulse]
) -> None:
    pulse = configure(**provider_env(fake), PULSE_BATCH_SIZE="20")
    seed_and_build(pulse, 45)
    report = weekly.send_week(pulse, WEEK)
    assert report.sent == 45 and report.finished
    assert fake.errors == []
    assert sorted(fake.accepted.values()) == [1] * 45
    with transaction(pulse.db.sessions) as session:
        subscribers = list(session.scalars(select(Subscriber)))
        statuses = set(session.scalars(select(Delivery.status)))
        issue = session.scalar(select(Issue))
    assert statuses == {DeliveryStatus.SENT}
    assert issue is not None and issue.status is IssueStatus.SENT
    for subscriber in subscribers:
        (message,) = fake.messages[subscriber.email.lower()]
        token = pulse.signer.unsubscribe_token(subscriber.id)
        link = f"{pulse.settings.base_url}/u/{token}"
        html = message.get("html") or message.get("HtmlBody")
        assert link in html
        headers = message.get("headers") or {h["Name"]: h["Value"] for h in message["Headers"]}
        assert link in headers["List-Unsubscribe"]
        assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert headers["Feedback-ID"].startswith(f"{WEEK}:issue:pulse:")


@pytest.mark.parametrize(
    ("provider", "variable"),
    [
        ("postmark", "PULSE_POSTMARK_TOKEN"),
        ("sendgrid", "PULSE_SENDGRID_API_KEY"),
        ("mailgun", "PULSE_MAILGUN_API_KEY"),
        ("resend", "PULSE_RESEND_API_KEY"),
        ("ses", "PULSE_SES_REGION"),
        ("smtp", "PULSE_SMTP_HOST"),
    ],
)
def test_missing_credential_is_a_clear_startup_error(
    provider: str, variable: str, configure: Callable[..., Pulse]
) -> None:
    pulse = configure(PULSE_PROVIDER=provider)
    with pytest.raises(ConfigError, match=variable):
        pulse.provider()


def test_mailgun_needs_its_domain(configure: Callable[..., Pulse]) -> None:
    pulse = configure(PULSE_PROVIDER="mailgun", PULSE_MAILGUN_API_KEY="key")
    with pytest.raises(ConfigError, match="PULSE_MAILGUN_DOMAIN"):
        pulse.provider()


def test_ses_without_aws_credentials_names_them(configure: Callable[..., Pulse]) -> None:
    pulse = configure(PULSE_PROVIDER="ses", PULSE_SES_REGION="eu-west-1")
    with pytest.raises(ConfigError, match="AWS_ACCESS_KEY_ID"):
        pulse.provider()


def test_send_with_missing_credential_changes_nothing(configure: Callable[..., Pulse]) -> None:
    pulse = configure()
    seed_and_build(pulse, 5)
    broken = configure(PULSE_PROVIDER="postmark")
    with pytest.raises(ConfigError):
        weekly.send_week(broken, WEEK)
    with transaction(pulse.db.sessions) as session:
        assert session.scalar(select(Delivery.id)) is None
        issue = session.scalar(select(Issue))
        assert issue is not None and issue.status is IssueStatus.BUILT
