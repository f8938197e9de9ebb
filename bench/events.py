"""Applying provider events in batches: parse + dedupe + match + policy, against parsing alone.

Seeds a list of ``--deliveries`` readers with one sent delivery each (SendGrid-style
message ids ``sgmsg<reader id>``; set-based, seconds for a million), then applies ``--events``
SendGrid events in one transaction, as ``pulse events import`` does: ``delivered`` events
for deliveries spread over the whole table, plus a hard bounce for every tenth of them
(``--bounce-every``; each bounce takes the reader off the list: history, suppression,
withdrawal). The
baseline, measured in the same run, is parsing the same events without touching the
database. A second pass of the same events measures the duplicate path.

SQLite by default (a throwaway file); ``--url`` names an empty PostgreSQL database.

Run: ``python bench/events.py [--deliveries 100000] [--events 20000] [--url URL]``
"""

from __future__ import annotations

import argparse
import time

from _common import WEEK, base_env, pulse_for, seed_list, workspace

from tests.harness.bulk import seed_sent_issue


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deliveries", type=int, default=5_000)
    parser.add_argument("--events", type=int, default=20_000, help="delivered events")
    parser.add_argument("--url", help="an empty PostgreSQL database (default: SQLite)")
    parser.add_argument(
        "--bounce-every", type=int, default=10, help="a hard bounce per N readers (0: none)"
    )
    options = parser.parse_args()

    from pipeline.events.policy import apply_events
    from pipeline.events.providers import SOURCES
    from pulse_core.database import transaction

    env = base_env(workspace())
    if options.url:
        env["PULSE_DATABASE_URL"] = options.url
    pulse = pulse_for(env)
    started = time.perf_counter()
    seed_list(pulse, 0)
    seed_sent_issue(pulse, options.deliveries, week=WEEK)
    print(f"seeded {options.deliveries:,} deliveries in {time.perf_counter() - started:.1f}s")

    step = max(1, options.deliveries // options.events)
    payload: list[dict[str, object]] = []
    for n, reader in enumerate(range(1, options.deliveries + 1, step)):
        if n >= options.events:
            break
        base = {
            "email": f"reader{reader}@example.com",
            "timestamp": 1795960931,
            "sg_message_id": f"sgmsg{reader}.filter0",
        }
        payload.append(base | {"event": "delivered", "sg_event_id": f"d{reader}"})
        if options.bounce_every and n % options.bounce_every == 0:
            payload.append(
                base | {"event": "bounce", "type": "bounce", "sg_event_id": f"b{reader}"}
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
    backend = pulse.db.engine.dialect.name
    pulse.close()

    count = len(events)
    bounces = report.changes["bounced"]
    print(f"{backend}, {options.deliveries:,} deliveries in the table")
    print(f"events: {count:,} ({count - bounces:,} delivered, {bounces:,} hard bounces)")
    print(
        f"parse only (baseline): {parse_seconds * 1e6 / count:8.1f} µs/event "
        f"= {count / parse_seconds:,.0f} events/s"
    )
    print(
        f"apply (store+match+policy): {apply_seconds * 1e6 / count:8.1f} µs/event "
        f"= {count / apply_seconds:,.0f} events/s, {apply_seconds / parse_seconds:.1f}× baseline"
    )
    print(
        f"re-apply (all duplicates): {duplicate_seconds * 1e6 / count:8.1f} µs/event "
        f"= {count / duplicate_seconds:,.0f} events/s"
    )
    assert report.stored == count and report.unmatched == 0 and again.duplicates == count


if __name__ == "__main__":
    main()
