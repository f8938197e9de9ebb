"""Migration 0030 (deliveries.due_at) on a populated database, down and up, on every backend."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import func, inspect, select, update

from pipeline.analytics.models import DeliveryRetry, Engagement
from pipeline.db import downgrade, upgrade
from pipeline.delivery.engine import begin_send
from pipeline.delivery.models import Delivery
from pipeline.wiring import Pulse
from pulse_core.database import transaction
from tests.delivery.conftest import WEEK, hang_a_click_and_a_retry, seed_and_build

DUE = datetime(2026, 11, 24, 9, tzinfo=UTC)


def columns(pulse: Pulse) -> set[str]:
    return {column["name"] for column in inspect(pulse.db.engine).get_columns("deliveries")}


def indexes(pulse: Pulse) -> set[str]:
    return {index["name"] or "" for index in inspect(pulse.db.engine).get_indexes("deliveries")}


def test_0030_down_and_up_keeps_every_delivery_and_what_hangs_on_them(
    configure: Callable[..., Pulse],
) -> None:
    pulse = configure()
    seed_and_build(pulse, 4)
    begin_send(pulse.db.sessions, WEEK)
    with transaction(pulse.db.sessions) as session:
        first = session.scalars(select(Delivery).order_by(Delivery.id)).first()
        assert first is not None
        session.execute(update(Delivery).where(Delivery.id == first.id).values(due_at=DUE))
        hang_a_click_and_a_retry(session, first)
    downgrade(pulse.db.engine, "0024")
    assert "due_at" not in columns(pulse) and "ix_deliveries_wave_due" not in indexes(pulse)
    upgrade(pulse.db.engine)
    assert "due_at" in columns(pulse) and "ix_deliveries_wave_due" in indexes(pulse)
    with transaction(pulse.db.sessions) as session:
        assert session.scalar(select(func.count()).select_from(Delivery)) == 4
        assert set(session.scalars(select(Delivery.due_at))) == {None}  # due at once, as before
        # A table copy would have cascaded these away on SQLite (foreign keys are on).
        assert session.scalar(select(func.count()).select_from(Engagement)) == 1
        assert session.scalar(select(func.count()).select_from(DeliveryRetry)) == 1
