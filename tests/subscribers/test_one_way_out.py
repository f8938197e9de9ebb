"""Every way of leaving ends the same: one rule set (subscribers/leaving.py) for all paths.

Preferences, provider events, a send that finds the address suppressed and erasure used to
combine status, suppression, pause and pending deliveries each in their own way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from pipeline.delivery.models import Delivery, DeliveryStatus
from pipeline.delivery.outbox import claim_next_batch, record_results
from pipeline.delivery.providers.base import SendResult, SendStatus
from pipeline.events.models import BounceKind, EventType
from pipeline.events.normalised import NormalisedEvent
from pipeline.events.policy import apply_event
from pipeline.wiring import Pulse, event_policy
from pulse_core.database import transaction, utcnow
from subscribers import preferences
from subscribers.history import history_of
from subscribers.models import Subscriber, SubscriberStatus
from subscribers.privacy import erase
from subscribers.suppression import Suppression, SuppressionReason, suppression_reason_of
from tests.subscribers.test_leaving import add_sending_issue

LEAVER = "leaver@example.com"
BYSTANDER = "stays@example.com"


@dataclass(frozen=True)
class Scene:
    """An issue being sent with a pending delivery for the leaver (now paused) and a bystander."""

    leaver_id: int
    sending_issue: int
    answered_issue: int  # the leaver's row here is in flight: the outbox path answers it


def _issue(session: Session, number: int) -> int:
    return add_sending_issue(session, f"2026-W{number:02d}", number)[0]


def set_scene(pulse: Pulse) -> Scene:
    now = utcnow()
    with transaction(pulse.db.sessions) as session:
        people = [
            Subscriber(email=email, email_key=email, status=SubscriberStatus.ACTIVE)
            for email in (LEAVER, BYSTANDER)
        ]
        session.add_all(people)
        session.flush()
        leaver = people[0]
        sending, answered = _issue(session, 10), _issue(session, 11)
        # The leaver's row of the second issue is leased (ids are claimed in order).
        [claimed] = claim_next_batch(session, answered, 1)
        assert claimed.subscriber_id == leaver.id
        # Paused after the send began: the rows were already there.
        leaver.paused_until = now + timedelta(weeks=2)
        return Scene(leaver.id, sending, answered)


def _event(kind: EventType, key: str, bounce: BounceKind | None = None) -> NormalisedEvent:
    return NormalisedEvent(
        provider="postmark",
        event_key=key,
        type=kind,
        recipient=LEAVER,
        provider_message_id=None,
        occurred_at=utcnow(),
        raw="{}",
        bounce_kind=bounce,
        detail="the provider's words",
    )


def by_preferences(pulse: Pulse, scene: Scene) -> None:
    preferences.unsubscribe(pulse.subscribers, scene.leaver_id, cause="unsubscribe:preferences")


def by_events(*events: NormalisedEvent) -> Callable[[Pulse, Scene], None]:
    def apply(pulse: Pulse, scene: Scene) -> None:
        policy = event_policy(pulse.settings)
        with transaction(pulse.db.sessions) as session:
            for event in events:
                apply_event(session, event, policy)

    return apply


def by_send_answer(pulse: Pulse, scene: Scene) -> None:
    with transaction(pulse.db.sessions) as session:
        row = session.scalar(
            select(Delivery.id).where(
                Delivery.issue_id == scene.answered_issue,
                Delivery.subscriber_id == scene.leaver_id,
            )
        )
        assert row is not None
        refused = SendResult(row, SendStatus.REJECTED, error="inactive recipient", suppress=True)
        record_results(session, [refused], suppression_key=pulse.subscribers.hash_keys[0])


def by_erasure(pulse: Pulse, scene: Scene) -> None:
    ctx = pulse.subscribers
    with transaction(pulse.db.sessions) as session:
        subscriber = session.get(Subscriber, scene.leaver_id)
        assert subscriber is not None
        erase(session, subscriber, ctx.leaving, ctx.erasure_hooks)


SOFT = [_event(EventType.BOUNCED, f"soft-{n}", BounceKind.SOFT) for n in range(3)]

# path, what it does, then the end state: status, last history cause, suppression reason.
WAYS_OUT = [
    ("preferences", by_preferences, SubscriberStatus.UNSUBSCRIBED, "unsubscribe:preferences",
     SuppressionReason.UNSUBSCRIBED),
    ("events:hard-bounce", by_events(_event(EventType.BOUNCED, "hard", BounceKind.HARD)),
     SubscriberStatus.BOUNCED, "bounce:hard:postmark", SuppressionReason.BOUNCED),
    ("events:soft-bounces", by_events(*SOFT), SubscriberStatus.BOUNCED, "bounce:soft:postmark",
     SuppressionReason.BOUNCED),
    ("events:complaint", by_events(_event(EventType.COMPLAINED, "spam")),
     SubscriberStatus.COMPLAINED, "complaint:postmark", SuppressionReason.COMPLAINED),
    ("events:unsubscribe", by_events(_event(EventType.UNSUBSCRIBED, "unsub")),
     SubscriberStatus.UNSUBSCRIBED, "unsubscribe:postmark", SuppressionReason.UNSUBSCRIBED),
    ("outbox:suppressed", by_send_answer, SubscriberStatus.BOUNCED, "bounce:inactive:send",
     SuppressionReason.BOUNCED),
    # Erasure wipes the history with the address: no cause survives it.
    ("erasure", by_erasure, SubscriberStatus.UNSUBSCRIBED, None, SuppressionReason.ERASED),
]  # fmt: skip


@pytest.mark.parametrize(
    ("path", "way_out", "status", "cause", "reason"),
    WAYS_OUT,
    ids=[way[0] for way in WAYS_OUT],
)
def test_every_way_out_leaves_the_same_end_state(
    pulse: Pulse,
    path: str,
    way_out: Callable[[Pulse, Scene], None],
    status: SubscriberStatus,
    cause: str | None,
    reason: SuppressionReason,
) -> None:
    scene = set_scene(pulse)
    way_out(pulse, scene)
    with transaction(pulse.db.sessions) as session:
        leaver = session.get(Subscriber, scene.leaver_id)
        assert leaver is not None
        assert leaver.status is status
        assert leaver.paused_until is None
        history = history_of(session, leaver.id)
        if cause is None:
            assert history == []
        else:
            assert [(c.from_status, c.to_status, c.cause) for c in history] == [
                (SubscriberStatus.ACTIVE, status, cause)
            ]
        assert suppression_reason_of(session, LEAVER, pulse.subscribers.hash_keys) is reason
        assert suppression_reason_of(session, BYSTANDER, pulse.subscribers.hash_keys) is None
        rows = session.execute(
            select(Delivery.issue_id, Delivery.subscriber_id, Delivery.status, Delivery.last_error)
        ).all()
        theirs = {issue: (state, error) for issue, who, state, error in rows if who == leaver.id}
        others = {state for _issue, who, state, _error in rows if who != leaver.id}
    # Nothing of theirs is left to send: the pending row is withdrawn at once, not at a claim.
    assert theirs[scene.sending_issue] == (DeliveryStatus.SKIPPED, "subscriber left")
    answered = DeliveryStatus.FAILED if path == "outbox:suppressed" else DeliveryStatus.SENDING
    assert theirs[scene.answered_issue][0] is answered
    assert others == {DeliveryStatus.PENDING}


def test_leaving_twice_changes_nothing_more(pulse: Pulse) -> None:
    scene = set_scene(pulse)
    by_preferences(pulse, scene)
    by_events(_event(EventType.COMPLAINED, "spam"))(pulse, scene)
    with transaction(pulse.db.sessions) as session:
        leaver = session.get(Subscriber, scene.leaver_id)
        assert leaver is not None
        # The first reason is the one that happened: status and suppression keep it.
        assert leaver.status is SubscriberStatus.UNSUBSCRIBED
        assert [c.cause for c in history_of(session, leaver.id)] == ["unsubscribe:preferences"]
        reason = suppression_reason_of(session, LEAVER, pulse.subscribers.hash_keys)
        assert reason is SuppressionReason.UNSUBSCRIBED


# --- each difference the paths used to have ----------------------------------------------


def test_a_paused_subscriber_who_bounces_is_no_longer_paused(pulse: Pulse) -> None:
    # The events policy left paused_until in place.
    scene = set_scene(pulse)
    by_events(_event(EventType.BOUNCED, "hard", BounceKind.HARD))(pulse, scene)
    with transaction(pulse.db.sessions) as session:
        leaver = session.get(Subscriber, scene.leaver_id)
        assert leaver is not None and leaver.paused_until is None


def test_a_paused_subscriber_refused_at_send_time_is_no_longer_paused(pulse: Pulse) -> None:
    # The outbox's suppression left paused_until in place.
    scene = set_scene(pulse)
    by_send_answer(pulse, scene)
    with transaction(pulse.db.sessions) as session:
        leaver = session.get(Subscriber, scene.leaver_id)
        assert leaver is not None and leaver.paused_until is None


def test_a_pending_subscriber_refused_at_send_time_is_marked_bounced(pulse: Pulse) -> None:
    # The outbox moved only active subscribers; everyone else on the list stayed as they were.
    scene = set_scene(pulse)
    with transaction(pulse.db.sessions) as session:
        leaver = session.get(Subscriber, scene.leaver_id)
        assert leaver is not None
        leaver.status = SubscriberStatus.PENDING
    by_send_answer(pulse, scene)
    with transaction(pulse.db.sessions) as session:
        leaver = session.get(Subscriber, scene.leaver_id)
        assert leaver is not None and leaver.status is SubscriberStatus.BOUNCED


def test_unsubscribing_after_leaving_unsuppressed_still_suppresses(pulse: Pulse) -> None:
    # Preferences suppressed only people still on the list: someone already marked as left
    # but never suppressed (an import of an old list, say) stayed off the suppression list.
    scene = set_scene(pulse)
    with transaction(pulse.db.sessions) as session:
        leaver = session.get(Subscriber, scene.leaver_id)
        assert leaver is not None
        leaver.status = SubscriberStatus.UNSUBSCRIBED
    by_preferences(pulse, scene)
    with transaction(pulse.db.sessions) as session:
        reason = suppression_reason_of(session, LEAVER, pulse.subscribers.hash_keys)
        assert reason is SuppressionReason.UNSUBSCRIBED


@pytest.mark.parametrize(
    "way_out",
    [by_preferences, by_events(_event(EventType.COMPLAINED, "spam")), by_erasure],
    ids=["preferences", "events", "erasure"],
)
def test_the_send_counts_the_leaver_skipped_at_once(
    pulse: Pulse, way_out: Callable[[Pulse, Scene], None]
) -> None:
    # No path touched deliveries: a leaver's row stayed pending until a claim reached it.
    scene = set_scene(pulse)
    way_out(pulse, scene)
    with transaction(pulse.db.sessions) as session:
        states = dict(
            session.execute(
                select(Delivery.subscriber_id, Delivery.status).where(
                    Delivery.issue_id == scene.sending_issue
                )
            ).all()
        )
    assert states[scene.leaver_id] is DeliveryStatus.SKIPPED


def test_an_erased_address_keeps_the_reason_it_was_suppressed_for(pulse: Pulse) -> None:
    # Signup relies on it: an address erased after a bounce comes back bounced.
    scene = set_scene(pulse)
    by_events(_event(EventType.BOUNCED, "hard", BounceKind.HARD))(pulse, scene)
    by_erasure(pulse, scene)
    with transaction(pulse.db.sessions) as session:
        reason = suppression_reason_of(session, LEAVER, pulse.subscribers.hash_keys)
        assert reason is SuppressionReason.BOUNCED


def test_a_late_send_answer_for_an_erased_person_changes_nothing(pulse: Pulse) -> None:
    # The row in flight when they were erased is answered afterwards: the tombstone's
    # placeholder address must not land on the suppression list.
    scene = set_scene(pulse)
    by_erasure(pulse, scene)
    by_send_answer(pulse, scene)
    with transaction(pulse.db.sessions) as session:
        reasons = list(session.scalars(select(Suppression.reason)))
        leaver = session.get(Subscriber, scene.leaver_id)
        assert leaver is not None and leaver.status is SubscriberStatus.UNSUBSCRIBED
    assert reasons == [SuppressionReason.ERASED]
