"""Applying provider events: parse + dedupe + match + policy, against parsing alone.

Seeds a throwaway SQLite list of N readers, sends the demo week through the ``file``
provider, records SendGrid-style message ids on the deliveries, then applies one
SendGrid ``delivered`` event per reader plus a hard bounce for every tenth reader in one
transaction (what ``pulse events import`` does). The baseline, measured in the same run,
is parsing the same events without touching the database. A second pass of the same
events measures the duplicate path (every event already stored).

Run: ``python bench/events.py [READERS]``
"""

from __future__ import annotations

import sys
import time

from _common import WEEK, demo_pulse

READERS = int(sys.argv[1]) if len(sys.argv) > 1 else 5_000


def main() -> None:
    from sqlalchemy import select, update

    from pipeline.delivery.models import Delivery
    from pipeline.events.policy import apply_events
    from pipeline.events.providers import SOURCES
    from pipeline.workflow import weekly
    from pulse_core.database import transaction
    from subscribers.models import Subscriber

    pulse = demo_pulse(READERS)
    week = WEEK
    weekly.send_week(pulse, week)
    with transaction(pulse.db.sessions) as session:
        rows = session.execute(
            select(Delivery.id, Subscriber.email).join(
                Subscriber, Subscriber.id == Delivery.subscriber_id
            )
        ).all()
        for delivery_id, _email in rows:
            session.execute(
                update(Delivery)
                .where(Delivery.id == delivery_id)
                .values(provider_message_id=f"sgmsg{delivery_id}")
            )
    payload: list[dict[str, object]] = []
    for n, (delivery_id, email) in enumerate(rows):
        base = {
            "email": email,
            "timestamp": 1795960931,
            "sg_message_id": f"sgmsg{delivery_id}.filter0",
        }
        payload.append(base | {"event": "delivered", "sg_event_id": f"d{delivery_id}"})
        if n % 10 == 0:
            payload.append(
                base | {"event": "bounce", "type": "bounce", "sg_event_id": f"b{delivery_id}"}
            )
    source = SOURCES["sendgrid"]
    policy = pulse.event_policy

    started = time.perf_counter()
    events = source.parse(payload)
    parse_seconds = time.perf_counter() - started

    started = time.perf_counter()
    with transaction(pulse.db.sessions) as session:
        report = apply_events(session, source.parse(payload), policy)
    apply_seconds = time.perf_counter() - started

    started = time.perf_counter()
    with transaction(pulse.db.sessions) as session:
        again = apply_events(session, source.parse(payload), policy)
    duplicate_seconds = time.perf_counter() - started
    pulse.close()

    count = len(events)
    print(f"events: {count} ({READERS} delivered, {report.changes['bounced']} hard bounces)")
    print(f"parse only (baseline): {parse_seconds * 1e6 / count:8.1f} µs/event")
    print(
        f"apply (store+match+policy): {apply_seconds * 1e6 / count:8.1f} µs/event "
        f"= {count / apply_seconds:,.0f} events/s, {apply_seconds / parse_seconds:.0f}× baseline"
    )
    print(
        f"re-apply (all duplicates): {duplicate_seconds * 1e6 / count:8.1f} µs/event "
        f"= {count / duplicate_seconds:,.0f} events/s"
    )
    assert report.stored == count and again.duplicates == count


if __name__ == "__main__":
    main()
