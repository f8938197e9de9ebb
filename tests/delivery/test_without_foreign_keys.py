"""deliveries without foreign keys (migration 0032): populated down and up, and a reader gone.

The two foreign keys from ``deliveries`` were dropped for the cost of creating a send's rows
(see pipeline/delivery/models.py). Here: the migration keeps every row and what hangs on
them on both backends (SQLite copies the table, with foreign keys off so the copy cascades
to nothing); the downgrade deletes rows whose reader is gone, as the cascade would have, and
puts the keys back; and a claim skips a row whose reader an operator deleted by hand.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import delete, func, inspect, select

from pipeline.analytics.models import DeliveryRetry, Engagement
from pipeline.db import downgrade, upgrade
from pipeline.delivery.models import Delivery, DeliveryStatus
from pipeline.delivery.outbox import claim_batch
from pipeline.delivery.send_state import begin_send
from pipeline.wiring import Pulse
from pulse_core.database import transaction
from subscribers.models import Subscriber
from tests.delivery.conftest import WEEK, hang_a_click_and_a_retry, seed_and_build


def foreign_keys(pulse: Pulse) -> set[str]:
    keys = inspect(pulse.db.engine).get_foreign_keys("deliveries")
    return {key["referred_table"] for key in keys}


def count(pulse: Pulse, model: type[object]) -> int:
    with transaction(pulse.db.sessions) as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_0032_down_and_up_keeps_the_rows_and_the_downgrade_drops_orphans(
    configure: Callable[..., Pulse],
) -> None:
    pulse = configure()
    seed_and_build(pulse, 5)
    issue, _ = begin_send(pulse.db.sessions, WEEK)
    with transaction(pulse.db.sessions) as session:
        first = session.scalars(select(Delivery).order_by(Delivery.id)).first()
        assert first is not None
        hang_a_click_and_a_retry(session, first)
        # A row whose reader is gone: possible only now that there is no foreign key.
        session.add(Delivery(issue_id=issue.id, subscriber_id=999_999, status="pending"))
    assert foreign_keys(pulse) == set()
    assert count(pulse, Delivery) == 6

    downgrade(pulse.db.engine, "0031")
    assert foreign_keys(pulse) == {"issues", "subscribers"}
    assert count(pulse, Delivery) == 5  # the orphan went, as the cascade would have taken it
    upgrade(pulse.db.engine)
    assert foreign_keys(pulse) == set()
    assert count(pulse, Delivery) == 5
    # A table copy with foreign keys on would have cascaded these away on SQLite.
    assert count(pulse, Engagement) == 1
    assert count(pulse, DeliveryRetry) == 1


def test_a_claim_skips_a_row_whose_reader_was_deleted_by_hand(
    configure: Callable[..., Pulse],
) -> None:
    pulse = configure()
    seed_and_build(pulse, 3)
    issue, created = begin_send(pulse.db.sessions, WEEK)
    assert created == 3
    with transaction(pulse.db.sessions) as session:
        gone = session.scalars(select(Delivery).order_by(Delivery.id)).first()
        assert gone is not None
        session.execute(delete(Subscriber).where(Subscriber.id == gone.subscriber_id))
    with transaction(pulse.db.sessions) as session:
        batch = claim_batch(session, issue.id, 10)
    assert batch is not None
    assert gone.id not in {row.delivery_id for row in batch.rows} and len(batch.rows) == 2
    with transaction(pulse.db.sessions) as session:
        row = session.get(Delivery, gone.id)
        assert row is not None
        assert row.status is DeliveryStatus.SKIPPED and row.last_error == "subscriber left"
