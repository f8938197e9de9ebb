"""What events do to the list: bounces, complaints, unsubscribes, duplicates, matching."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from pipeline.delivery.models import Delivery, DeliveryStatus
from pipeline.delivery.sql_store import measure_health
from pipeline.events.models import BounceKind, EventType, ProviderEvent
from pipeline.events.normalised import NormalisedEvent
from pipeline.events.policy import IngestReport, apply_event
from pipeline.events.providers import SOURCES
from pipeline.events.send_health import event_figures
from pipeline.issues.models import Issue
from pipeline.wiring import Pulse
from pulse_core.database import transaction
from subscribers.history import history_of
from subscribers.models import Subscriber, SubscriberStatus
from subscribers.suppression import is_suppressed
from tests.conftest import MakePulse
from tests.events.conftest import READER, fixture, seed_and_send, set_message_id

PM = "883953f4-6105-42a2-a16a-77a8eac79483"


def apply(pulse: Pulse, event: NormalisedEvent) -> IngestReport:
    policy = pulse.event_policy
    with transaction(pulse.db.sessions) as session:
        return apply_event(session, event, policy)


def parsed(provider: str, name: str) -> NormalisedEvent:
    [event] = SOURCES[provider].parse(fixture(provider, name))
    return event


def reader(pulse: Pulse, email: str = READER) -> Subscriber:
    with pulse.db.sessions() as session:
        found = session.scalar(select(Subscriber).where(Subscriber.email == email))
        assert found is not None
        return found


def suppressed(pulse: Pulse, email: str = READER) -> bool:
    with pulse.db.sessions() as session:
        return is_suppressed(session, email, pulse.subscribers.hash_keys)


def causes(pulse: Pulse, email: str = READER) -> list[str]:
    subscriber_id = reader(pulse, email).id
    with pulse.db.sessions() as session:
        return [change.cause for change in history_of(session, subscriber_id)]


def soft_bounce(at: datetime, n: int) -> NormalisedEvent:
    event = parsed("postmark", "soft_bounce")
    return replace(event, event_key=f"soft-{n}", occurred_at=at)


def test_a_hard_bounce_marks_the_subscriber_bounced_and_suppresses_them(pulse: Pulse) -> None:
    seed_and_send(pulse)
    delivery_id = set_message_id(pulse, READER, PM)
    report = apply(pulse, parsed("postmark", "hard_bounce"))
    assert report.stored == 1 and report.changes == {"bounced": 1, "suppressed": 1}
    assert reader(pulse).status is SubscriberStatus.BOUNCED
    assert suppressed(pulse)
    assert causes(pulse)[-1] == "bounce:hard:postmark"
    subscriber_id = reader(pulse).id
    with pulse.db.sessions() as session:
        row = session.scalar(select(ProviderEvent))
        assert row is not None and row.delivery_id == delivery_id
        assert row.subscriber_id == subscriber_id and row.bounce_kind is BounceKind.HARD


def test_soft_bounces_suppress_only_after_three_within_thirty_days(pulse: Pulse) -> None:
    seed_and_send(pulse)
    start = datetime(2026, 11, 1, tzinfo=UTC)
    apply(pulse, soft_bounce(start, 1))
    apply(pulse, soft_bounce(start + timedelta(days=10), 2))
    assert reader(pulse).status is SubscriberStatus.ACTIVE and not suppressed(pulse)
    report = apply(pulse, soft_bounce(start + timedelta(days=20), 3))
    assert report.changes["bounced"] == 1
    assert reader(pulse).status is SubscriberStatus.BOUNCED and suppressed(pulse)
    assert causes(pulse)[-1] == "bounce:soft:postmark"


def test_soft_bounces_spread_wider_than_the_window_do_not_suppress(pulse: Pulse) -> None:
    seed_and_send(pulse)
    start = datetime(2026, 9, 1, tzinfo=UTC)
    for n, days in enumerate((0, 20, 40, 60)):
        apply(pulse, soft_bounce(start + timedelta(days=days), n))
    assert reader(pulse).status is SubscriberStatus.ACTIVE and not suppressed(pulse)


def test_the_soft_bounce_rule_is_configurable(make_pulse: MakePulse) -> None:
    strict = make_pulse(soft_bounce_limit=1, soft_bounce_window_days=7)
    seed_and_send(strict)
    apply(strict, soft_bounce(datetime(2026, 11, 1, tzinfo=UTC), 1))
    assert reader(strict).status is SubscriberStatus.BOUNCED


def test_a_complaint_marks_the_subscriber_complained_and_suppresses_at_once(pulse: Pulse) -> None:
    seed_and_send(pulse)
    apply(pulse, parsed("ses", "complaint"))
    assert reader(pulse).status is SubscriberStatus.COMPLAINED
    assert suppressed(pulse)
    assert causes(pulse)[-1] == "complaint:ses"


def test_a_provider_side_unsubscribe_unsubscribes_and_suppresses(pulse: Pulse) -> None:
    seed_and_send(pulse)
    apply(pulse, parsed("sendgrid", "unsubscribe"))
    assert reader(pulse).status is SubscriberStatus.UNSUBSCRIBED
    assert suppressed(pulse)
    assert causes(pulse)[-1] == "unsubscribe:sendgrid"


def test_opens_clicks_and_deliveries_change_nothing(pulse: Pulse) -> None:
    seed_and_send(pulse)
    for name in ("delivery", "open", "click", "transient"):
        report = apply(pulse, parsed("postmark", name))
        assert report.stored == 1 and not report.changes
    assert reader(pulse).status is SubscriberStatus.ACTIVE and not suppressed(pulse)


def test_the_same_event_twice_changes_nothing_the_second_time(pulse: Pulse) -> None:
    seed_and_send(pulse)
    event = parsed("mailgun", "failed_permanent")
    first = apply(pulse, event)
    second = apply(pulse, event)
    assert first.stored == 1 and second.stored == 0 and second.duplicates == 1
    assert not second.changes
    assert causes(pulse).count("bounce:hard:mailgun") == 1
    with pulse.db.sessions() as session:
        assert len(list(session.scalars(select(ProviderEvent)))) == 1


def test_an_event_for_an_unknown_message_id_is_kept_and_matched_by_recipient(
    pulse: Pulse,
) -> None:
    seed_and_send(pulse)
    event = replace(parsed("postmark", "hard_bounce"), provider_message_id="never-sent-by-us")
    report = apply(pulse, event)
    assert report.stored == 1
    assert reader(pulse).status is SubscriberStatus.BOUNCED


def test_an_event_for_an_address_we_do_not_know_is_stored_and_suppressed(pulse: Pulse) -> None:
    seed_and_send(pulse)
    stranger = "stranger@example.net"
    event = replace(
        parsed("postmark", "hard_bounce"), recipient=stranger, provider_message_id="unknown-id"
    )
    report = apply(pulse, event)
    assert report.stored == 1 and report.unmatched == 1
    assert suppressed(pulse, stranger)
    with pulse.db.sessions() as session:
        row = session.scalar(select(ProviderEvent))
        assert row is not None and row.delivery_id is None and row.subscriber_id is None


def test_an_event_before_the_delivery_is_marked_sent_still_matches_it(pulse: Pulse) -> None:
    seed_and_send(pulse)
    # The provider accepted the message and fired its webhook; our record_results has not
    # committed yet, so the row is still leased with no message id.
    delivery_id = set_message_id(pulse, READER, None)
    with transaction(pulse.db.sessions) as session:
        session.execute(
            update(Delivery)
            .where(Delivery.id == delivery_id)
            .values(status=DeliveryStatus.SENDING, sent_at=None)
        )
    apply(pulse, parsed("resend", "bounced"))
    with pulse.db.sessions() as session:
        row = session.scalar(select(ProviderEvent))
        assert row is not None and row.delivery_id == delivery_id
    assert reader(pulse).status is SubscriberStatus.BOUNCED


def test_a_message_id_shared_by_a_batch_is_matched_per_recipient(pulse: Pulse) -> None:
    seed_and_send(pulse, readers=3)
    other = "reader000002@example.com"
    shared = "14c5d75ce93.dfd.64b469"  # SendGrid gives one X-Message-Id per API call
    set_message_id(pulse, READER, shared)
    other_delivery = set_message_id(pulse, other, shared)
    event = replace(parsed("sendgrid", "bounce"), recipient=other)
    apply(pulse, event)
    with pulse.db.sessions() as session:
        row = session.scalar(select(ProviderEvent))
        assert row is not None and row.delivery_id == other_delivery
    assert reader(pulse, other).status is SubscriberStatus.BOUNCED
    assert reader(pulse).status is SubscriberStatus.ACTIVE


def test_our_own_message_id_matches_with_or_without_brackets(pulse: Pulse) -> None:
    seed_and_send(pulse)
    with pulse.db.sessions() as session:
        delivery = session.scalar(select(Delivery).order_by(Delivery.id))
        assert delivery is not None and delivery.provider_message_id is not None
        bare = delivery.provider_message_id.strip("<>")
        email = session.get(Subscriber, delivery.subscriber_id).email  # type: ignore[union-attr]
    event = replace(parsed("mailgun", "delivered"), recipient=email, provider_message_id=bare)
    apply(pulse, event)
    with pulse.db.sessions() as session:
        row = session.scalar(select(ProviderEvent))
        assert row is not None and row.delivery_id == delivery.id


def test_someone_who_already_left_keeps_their_status_but_stays_suppressed(
    pulse: Pulse,
) -> None:
    seed_and_send(pulse)
    apply(pulse, parsed("postmark", "subscription_change"))
    apply(pulse, parsed("postmark", "hard_bounce"))
    assert reader(pulse).status is SubscriberStatus.UNSUBSCRIBED
    assert causes(pulse)[-1] == "unsubscribe:postmark"
    assert suppressed(pulse)


def test_unknown_events_are_stored_and_ignored(pulse: Pulse) -> None:
    seed_and_send(pulse)
    report = apply(pulse, parsed("ses", "send"))
    assert report.stored == 1 and report.by_type == {"unknown": 1} and not report.changes
    with pulse.db.sessions() as session:
        row = session.scalar(select(ProviderEvent))
        assert row is not None and row.type is EventType.UNKNOWN and "Send" in row.raw


def test_the_breaker_counts_hard_bounces_and_complaints_per_issue(pulse: Pulse) -> None:
    seed_and_send(pulse, readers=4)
    set_message_id(pulse, READER, PM)
    set_message_id(pulse, "reader000002@example.com", "ses-message-2")
    apply(pulse, parsed("postmark", "hard_bounce"))
    complaint = parsed("ses", "complaint")
    apply(
        pulse,
        replace(
            complaint, recipient="reader000002@example.com", provider_message_id="ses-message-2"
        ),
    )
    # An event about mail we cannot place (a transactional message, say) counts for no issue.
    apply(pulse, replace(complaint, event_key="other", recipient="reader000003@example.com"))
    apply(pulse, parsed("postmark", "open"))
    with pulse.db.sessions() as session:
        issue_id = session.scalar(select(Issue.id))
        assert issue_id is not None
        health = measure_health(session, issue_id, event_figures)
    assert (health.sent, health.hard_bounces, health.complaints) == (4, 1, 1)
