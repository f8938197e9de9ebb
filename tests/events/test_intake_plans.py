"""Every query event intake runs is an index lookup on a populated PostgreSQL database.

The cost per event must not grow with the tables (issue 20: 24 events/s against 100,000
deliveries, because the planner scanned the table per event). A mixed batch — deliveries
matched by message id, events matched only by recipient, soft and hard bounces, a
complaint, strangers — is applied against 100,000 deliveries and as many stored events,
freshly bulk-loaded and never analysed (as right after a big send; this server runs
autovacuum off). Each statement is explained on the same connection, just before it runs,
so the plan is the one the intake really got: no sequential scan of deliveries, provider
events or subscribers.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import event

from pipeline.events.policy import apply_events
from pipeline.events.providers import SOURCES
from pipeline.wiring import Pulse
from pulse_core.database import transaction
from tests.harness.bulk import seed_delivered_events, seed_sent_issue
from tests.harness.seed import build_seeded_week

READERS = 100_000
WEEK = "2026-W48"
WATCHED = {"deliveries", "provider_events", "subscribers"}


def scans(plan: dict[str, Any]) -> list[str]:
    """The tables a plan reads from start to end."""
    found = []
    if plan.get("Node Type") == "Seq Scan":
        found.append(plan["Relation Name"])
    for child in plan.get("Plans", []):
        found += scans(child)
    return found


def payload() -> list[dict[str, object]]:
    items: list[dict[str, object]] = []
    for n in range(1, READERS, READERS // 700):
        base = {"email": f"reader{n}@example.com", "timestamp": 1795960931}
        message_id = f"sgmsg{n}.filter0"
        items.append(
            base | {"event": "delivered", "sg_event_id": f"d{n}", "sg_message_id": message_id}
        )
        if n % 7 == 0:  # a message id we never recorded: matched by the recipient
            items.append(base | {"event": "open", "sg_event_id": f"o{n}", "sg_message_id": "x1"})
        if n % 11 == 0:
            items.append(base | {"event": "bounce", "type": "blocked", "sg_event_id": f"s{n}"})
        if n % 13 == 0:
            items.append(base | {"event": "bounce", "sg_event_id": f"b{n}"})
        if n % 17 == 0:
            items.append(base | {"event": "spamreport", "sg_event_id": f"c{n}"})
    items.append({"email": "stranger@example.net", "event": "bounce", "sg_event_id": "z"})
    return items


@pytest.mark.slow
@pytest.mark.postgres
def test_intake_queries_are_index_lookups_on_a_large_table(pulse: Pulse, database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("the planner in question is PostgreSQL's")
    build_seeded_week(pulse, 0, WEEK)
    seed_sent_issue(pulse, READERS, week=WEEK, analyze=False)
    seed_delivered_events(pulse)
    plans: list[tuple[str, list[str]]] = []

    def explain(
        conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool
    ) -> None:
        verb = statement.lstrip().split(None, 1)[0].upper()
        if many or verb not in ("SELECT", "UPDATE", "DELETE") or "pg_class" in statement:
            return
        cursor.execute("EXPLAIN (FORMAT JSON) " + statement, parameters)
        [(document,)] = cursor.fetchall()
        plan = document if isinstance(document, list) else json.loads(document)
        plans.append((statement, scans(plan[0]["Plan"])))

    event.listen(pulse.db.engine, "before_cursor_execute", explain)
    try:
        with transaction(pulse.db.sessions) as session:
            report = apply_events(session, SOURCES["sendgrid"].parse(payload()), pulse.event_policy)
    finally:
        event.remove(pulse.db.engine, "before_cursor_execute", explain)
    assert report.stored > 900 and report.changes["bounced"] > 0
    # Opens under an id we never recorded find the reader but no delivery; and the stranger.
    assert report.changes["complained"] > 0
    assert report.unmatched == report.by_type["opened"] + 1
    kinds = {" ".join(statement.split()[:4]) for statement, _ in plans}
    assert len(kinds) >= 8, kinds  # dedupe, matching (4 ways), rules, leaving
    scanned = [(s.split(" WHERE ")[0][:90], tables) for s, tables in plans if WATCHED & set(tables)]
    assert not scanned, scanned
