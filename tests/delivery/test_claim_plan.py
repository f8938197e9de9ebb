"""The claim's queries use an index on a populated PostgreSQL table: no scan of every delivery.

A send claims a batch many times a second in every worker; a claim that read the whole
``deliveries`` table would cost more with every issue sent, and a million-recipient send
would slow to a crawl as it went. Here the table holds an old issue sent in full and the
current one 90% sent, with a few batches leased (one by a dead sender, so the reclaim path
runs) and fresh statistics. Every statement a claim, recording a batch's answers and the
run's look-arounds (what is left, dead senders, the breaker's count) send is captured as the
driver ran it and explained with the same parameters.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.engine import Engine

from pipeline.delivery.breaker import BreakerThresholds
from pipeline.delivery.liveness import LeaseOnly
from pipeline.delivery.providers.base import SendResult, SendStatus
from pipeline.delivery.send_state import begin_send
from pipeline.delivery.sql_store import SqlSendStore
from pipeline.wiring import Pulse
from pulse_core.database import transaction
from tests.delivery.conftest import WEEK, seed_and_build

pytestmark = pytest.mark.postgres

SUBSCRIBERS = 100_000

_SEED = (
    # The list, made by the server in one statement.
    """INSERT INTO subscribers (email, email_key, first_name, status, created_at, updated_at,
                                confirmed_at, consent_text, consent_at, track_clicks)
       SELECT 'plan' || n || '@example.com', 'plan' || n || '@example.com', 'Alex', 'active',
              now(), now(), now(), 'test', now(), true
       FROM generate_series(1, :count) AS n""",
    # Last week's issue, sent to everyone.
    """INSERT INTO issues (week_key, number, subject, preheader, status, mjml, html, text,
                           created_at, built_at, sent_at)
       SELECT '2026-W47', number + 1000, subject, preheader, 'sent', mjml, html, text,
              created_at, built_at, now()
       FROM issues WHERE week_key = :week""",
    """INSERT INTO deliveries (issue_id, subscriber_id, status, attempts, retries, created_at,
                               sent_at, provider_message_id)
       SELECT (SELECT id FROM issues WHERE week_key = '2026-W47'), id, 'sent', 1, 0, now(),
              now(), 'old-' || id
       FROM subscribers""",
)

# This week's send, 90% through: most rows sent, a few leased, one batch by a dead sender.
_MID_SEND = (
    """UPDATE deliveries SET status = 'sent', sent_at = now(), provider_message_id = 'm' || id
       WHERE issue_id = :issue AND id % 10 <> 0""",
    """UPDATE deliveries SET status = 'sending', claim_token = 'live' || (id / 500),
              lease_owner = 'other.example:1:0000beef', lease_until = now() + interval '5 min'
       WHERE issue_id = :issue AND status = 'pending' AND id % 1000 = 0""",
    """UPDATE deliveries SET status = 'sending', claim_token = 'dead',
              lease_owner = 'gone.example:2:0000dead', lease_until = now() + interval '5 min'
       WHERE id IN (SELECT id FROM deliveries WHERE issue_id = :issue AND status = 'pending'
                    ORDER BY id LIMIT 10)""",
)


@contextmanager
def captured(engine: Engine) -> Iterator[list[tuple[str, Any]]]:
    """Every statement sent to the driver in the block, with its parameters as sent."""
    statements: list[tuple[str, Any]] = []

    def keep(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_rest: Any) -> None:
        statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", keep)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", keep)


def plan_of(engine: Engine, statement: str, parameters: Any) -> str:
    with engine.connect() as connection:
        rows = connection.exec_driver_sql(f"EXPLAIN {statement}", parameters).all()
        connection.rollback()
    return "\n".join(row[0] for row in rows)


def test_a_claim_reads_deliveries_through_indexes_only(
    configure: Callable[..., Pulse], database_url: str
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("the plans checked are PostgreSQL's")
    pulse = configure()
    seed_and_build(pulse, 0)
    with transaction(pulse.db.sessions) as session:
        session.execute(text(_SEED[0]), {"count": SUBSCRIBERS})
        for statement in _SEED[1:]:
            session.execute(text(statement), {"week": WEEK})
    issue, created = begin_send(pulse.db.sessions, WEEK)
    assert created == SUBSCRIBERS
    with transaction(pulse.db.sessions) as session:
        for statement in _MID_SEND:
            session.execute(text(statement), {"issue": issue.id})
    engine = pulse.db.engine
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql("VACUUM ANALYZE deliveries")
        connection.exec_driver_sql("VACUUM ANALYZE subscribers")

    store = SqlSendStore(pulse.db.sessions, issue.id, LeaseOnly())
    with captured(engine) as statements:
        dead = {"gone.example:2:0000dead"}
        replay = store.claim(500, lease_seconds=300, dead_owners=dead)
        fresh = store.claim(500, lease_seconds=300, dead_owners=dead)
        # The provider took the fresh batch: its answers go back in one statement.
        store.record(
            [
                SendResult(row.delivery_id, SendStatus.SENT, f"answer-{row.delivery_id}")
                for row in fresh.batch.rows
            ]
            if fresh is not None
            else []
        )
        store.outlook()
        store.dead_lease_holders(set())
        store.health(BreakerThresholds())
    assert replay is not None and replay.batch.replay and len(replay.batch.rows) == 10
    assert fresh is not None and len(fresh.batch.rows) == 500
    reads = [(sql, params) for sql, params in statements if "deliveries" in sql]
    assert len(reads) >= 9  # the reclaim, the pending slice, addresses, results, the outlook
    assert any(sql.lstrip().startswith("UPDATE deliveries") and "VALUES" in sql for sql, _ in reads)
    for sql, params in reads:
        plan = plan_of(engine, sql, params)
        assert "Seq Scan on deliveries" not in plan, f"{sql}\n{plan}"
        assert "Index" in plan, f"{sql}\n{plan}"
