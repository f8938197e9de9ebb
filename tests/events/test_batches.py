"""Batches change nothing but the number of statements: the same events, applied one per
call, all in one batch, or in batches of any size, leave the same list behind.

Three groups of readers get the same script of events (bounces soft and hard at spread-out
times, complaints, unsubscribes, deliveries, duplicates, strangers, forged mailbox reports
with and without proof), each group applied a different way; their outcomes must match.
The per-event rules themselves are pinned down by test_policy.py, whose events go
through this same batch path.
"""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from pipeline.delivery.models import Delivery
from pipeline.events.models import ProviderEvent
from pipeline.events.normalised import NormalisedEvent
from pipeline.events.policy import IngestReport, apply_event, apply_events
from pipeline.events.providers import SOURCES
from pipeline.wiring import Pulse
from pulse_core.database import transaction
from subscribers.history import history_of
from subscribers.models import Subscriber
from subscribers.suppression import suppression_reason_of
from tests.events.conftest import fixture, seed_and_send, set_message_id

GROUP = 4  # readers per group
STRANGERS = 2
START = datetime(2026, 10, 1, tzinfo=UTC)


def base(provider: str, name: str) -> NormalisedEvent:
    [event] = SOURCES[provider].parse(fixture(provider, name))
    return event


def reader_address(group: int, n: int) -> str:
    return f"reader{group * GROUP + n + 1:06d}@example.com"


def stranger_address(group: int, n: int) -> str:
    return f"stranger{group}-{n}@example.net"


def script(rng: random.Random, group: int, deliveries: dict[str, int]) -> list[NormalisedEvent]:
    """One group's events; the same choices for every group (only addresses differ)."""
    kinds = {
        "hard": base("postmark", "hard_bounce"),
        "soft": base("postmark", "soft_bounce"),
        "complaint": base("ses", "complaint"),
        "unsubscribe": base("sendgrid", "unsubscribe"),
        "delivered": base("postmark", "delivery"),
    }
    weights = {"hard": 1, "soft": 6, "complaint": 1, "unsubscribe": 1, "delivered": 3}
    events: list[NormalisedEvent] = []
    for i in range(60):
        if events and rng.random() < 0.1:
            events.append(events[rng.randrange(len(events))])  # a provider's retry
            continue
        kind = rng.choices(list(weights), weights=list(weights.values()))[0]
        if rng.random() < 0.2:
            address = stranger_address(group, rng.randrange(STRANGERS))
        else:
            address = reader_address(group, rng.randrange(GROUP))
        message_id = rng.choice([None, f"pm-{address}", "unknown-id"])
        event = replace(
            kinds[kind],
            event_key=f"g{group}-{i}",
            recipient=address.upper() if rng.random() < 0.1 else address,
            provider_message_id=message_id,
            occurred_at=START + timedelta(days=rng.randrange(70), minutes=i),
        )
        roll = rng.random()
        if roll < 0.15:
            # A mailbox report: forged (no proof) or carrying our VERP token.
            proof = deliveries.get(address) if rng.random() < 0.5 else None
            event = replace(event, needs_proof=True, delivery_id=proof, provider_message_id=None)
        events.append(event)
    return events


def one_by_one(pulse: Pulse, events: list[NormalisedEvent], rng: random.Random) -> IngestReport:
    report = IngestReport()
    for event in events:
        with transaction(pulse.db.sessions) as session:
            report.add(apply_event(session, event, pulse.event_policy))
    return report


def one_batch(pulse: Pulse, events: list[NormalisedEvent], rng: random.Random) -> IngestReport:
    with transaction(pulse.db.sessions) as session:
        return apply_events(session, events, pulse.event_policy)


def random_batches(
    pulse: Pulse, events: list[NormalisedEvent], rng: random.Random
) -> IngestReport:
    report = IngestReport()
    rest = list(events)
    while rest:
        size = rng.randint(1, 15)
        with transaction(pulse.db.sessions) as session:
            report.add(apply_events(session, rest[:size], pulse.event_policy))
        rest = rest[size:]
    return report


def outcome(pulse: Pulse, group: int, report: IngestReport) -> dict[str, object]:
    """Everything the events changed, with this group's names replaced by positions."""
    names = {reader_address(group, n): f"r{n}" for n in range(GROUP)}
    names |= {stranger_address(group, n): f"s{n}" for n in range(STRANGERS)}
    keys = pulse.subscribers.hash_keys
    with pulse.db.sessions() as session:
        people = {
            s.id: s
            for s in session.scalars(select(Subscriber).where(Subscriber.email.in_(list(names))))
        }
        delivery_of = {
            d.id: names[people[d.subscriber_id].email]
            for d in session.scalars(select(Delivery).where(Delivery.subscriber_id.in_(people)))
        }
        readers = {
            names[s.email]: (
                s.status.value,
                [(c.cause, c.detail) for c in history_of(session, s.id)],
            )
            for s in people.values()
        }
        suppressed = {
            label: suppression_reason_of(session, address, keys)
            for address, label in names.items()
        }
        rows = session.scalars(
            select(ProviderEvent)
            .where(ProviderEvent.event_key.like(f"g{group}-%"))
            .order_by(ProviderEvent.event_key)
        )
        stored = [
            (
                row.event_key.split("-", 1)[1],
                row.type.value,
                delivery_of.get(row.delivery_id) if row.delivery_id else None,
                names[people[row.subscriber_id].email] if row.subscriber_id else None,
                names.get((row.recipient or "").lower(), row.recipient),
            )
            for row in rows
        ]
    return {"readers": readers, "suppressed": suppressed, "events": stored, **report.as_dict()}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_batches_of_any_size_leave_what_one_event_at_a_time_leaves(pulse: Pulse, seed: int) -> None:
    ways = (one_by_one, one_batch, random_batches)
    seed_and_send(pulse, readers=GROUP * len(ways))
    deliveries: dict[str, int] = {}
    for group in range(len(ways)):
        for n in range(GROUP):
            address = reader_address(group, n)
            deliveries[address] = set_message_id(pulse, address, f"pm-{address}")
    results = []
    for group, way in enumerate(ways):
        events = script(random.Random(seed), group, deliveries)
        report = way(pulse, events, random.Random(seed))
        results.append(outcome(pulse, group, report))
    assert results[0]["changes"], "the script should change the list"
    assert results[1] == results[0]
    assert results[2] == results[0]


def test_an_event_a_twin_request_stored_meanwhile_loses_quietly(
    pulse: Pulse, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pipeline.events import policy

    seed_and_send(pulse)
    first = base("postmark", "hard_bounce")
    second = replace(base("postmark", "delivery"), event_key="second")
    with transaction(pulse.db.sessions) as session:
        apply_events(session, [first], pulse.event_policy)
    real = policy.stored_keys
    calls: list[int] = []

    def blind_once(session: Session, events: list[NormalisedEvent]) -> set[tuple[str, str]]:
        # The twin committed between our look-up and our insert.
        calls.append(1)
        return set() if len(calls) == 1 else real(session, events)

    monkeypatch.setattr(policy, "stored_keys", blind_once)
    with transaction(pulse.db.sessions) as session:
        report = apply_events(session, [first, second], pulse.event_policy)
    assert (report.stored, report.duplicates) == (1, 1) and len(calls) == 2
    assert not report.changes
    with pulse.db.sessions() as session:
        keys = sorted(session.scalars(select(ProviderEvent.event_key)))
    assert keys == sorted([first.event_key, "second"])
