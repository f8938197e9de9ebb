"""A bounce reported during a send stops every later batch from mailing that address."""

from __future__ import annotations

from collections.abc import Callable
from email import message_from_bytes

from fastapi.testclient import TestClient
from sqlalchemy import select

from pipeline.config import load_settings
from pipeline.delivery.message import Batch
from pipeline.delivery.models import Delivery, DeliveryStatus
from pipeline.delivery.providers.base import Provider, SendResult
from pipeline.demo.seed import seed_week
from pipeline.events.models import ProviderEvent
from pipeline.web.app import create_app
from pipeline.weeks import week_monday
from pipeline.wiring import Pulse
from pipeline.workflow import weekly
from pulse_core.database import transaction
from subscribers.models import Subscriber, SubscriberStatus
from tests.conftest import Workspace
from tests.events.conftest import WEEK, Keys, fixture, postmark_auth


class ReportingProvider(Provider):
    """The file provider, plus a hook that runs after each batch was handed over."""

    def __init__(self, inner: Provider, after_batch: Callable[[int, Batch], None]) -> None:
        self.inner = inner
        self.name = inner.name
        self.capabilities = inner.capabilities
        self.after_batch = after_batch
        self.mailed: list[str] = []

    def send_batch(self, batch: Batch) -> list[SendResult]:
        results = self.inner.send_batch(batch)
        self.mailed += [recipient.email for recipient in batch.recipients]
        self.after_batch(len(self.mailed) // len(batch.recipients), batch)
        return results


def test_a_hard_bounce_during_a_send_stops_later_batches_mailing_the_address(
    workspace: Workspace, keys: Keys
) -> None:
    # One send thread: "before the next batch" is about batches claimed after the event.
    pulse = Pulse(load_settings(batch_size=5, send_concurrency=1, **keys.settings()))
    try:
        with transaction(pulse.db.sessions) as session:
            seed_week(session, week_monday(WEEK), 15)
        weekly.build_week(pulse, WEEK)
        client = TestClient(create_app(pulse))
        auth = postmark_auth(keys.postmark_user, keys.postmark_password)
        later = "reader000012@example.com"  # would be in the third batch of five
        in_flight: dict[str, str] = {}

        def bounce_after_first_batch(number: int, batch: Batch) -> None:
            if number != 1:
                return
            # Postmark reports a hard bounce for a reader still waiting in a later batch …
            record = fixture("postmark", "hard_bounce") | {"ID": 1, "Email": later}
            assert client.post("/webhooks/postmark", json=record, headers=auth).status_code == 200
            # … and one for a reader of this very batch, before we recorded it as sent.
            current = batch.recipients[1]
            in_flight[current.email] = current.message_id
            record = fixture("postmark", "hard_bounce") | {
                "ID": 2,
                "Email": current.email,
                "MessageID": current.message_id,
            }
            assert client.post("/webhooks/postmark", json=record, headers=auth).status_code == 200

        provider = ReportingProvider(pulse.provider(), bounce_after_first_batch)
        pulse.provider = lambda: provider  # type: ignore[method-assign]
        report = weekly.send_week(pulse, WEEK)
    finally:
        pulse.close()

    assert later not in provider.mailed
    assert len(provider.mailed) == 14 and report.sent == 14 and report.finished
    outbox_recipients = {
        message_from_bytes(path.read_bytes())["To"]
        for path in (workspace.outbox / WEEK).glob("*.eml")
    }
    assert not any(later in to for to in outbox_recipients)
    reopened = Pulse(load_settings())
    try:
        with reopened.db.sessions() as session:
            bounced = session.scalar(select(Subscriber).where(Subscriber.email == later))
            assert bounced is not None and bounced.status is SubscriberStatus.BOUNCED
            skipped = session.scalar(select(Delivery).where(Delivery.subscriber_id == bounced.id))
            assert skipped is not None and skipped.status is DeliveryStatus.SKIPPED
            [(email, message_id)] = in_flight.items()
            event = session.scalar(select(ProviderEvent).where(ProviderEvent.recipient == email))
            assert event is not None and event.delivery_id is not None
            delivery = session.get(Delivery, event.delivery_id)
            assert delivery is not None and delivery.provider_message_id == message_id
    finally:
        reopened.close()
