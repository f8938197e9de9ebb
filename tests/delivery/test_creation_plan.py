"""Creating an issue's deliveries never reads the rows it is adding: linear in the list.

The INSERT … SELECT that makes one row per reader once skipped existing rows with a NOT
EXISTS over ``deliveries`` itself. Right after a TRUNCATE, a prune or on a new database the
table's statistics say it is empty, and PostgreSQL planned that anti-join as a nested loop
re-scanning ``deliveries`` for every reader — rows the statement had just inserted
included: 100,000 readers took 150 s instead of 4. The unique (issue, subscriber) key now
skips existing rows, so no plan, whatever the statistics say, can read the table while
filling it. Checked here on the worst statistics (analysed empty), with and without
local-time waves (one INSERT per wave).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import func, select, text

from pipeline.delivery.models import Delivery
from pipeline.delivery.send_state import begin_send
from pipeline.wiring import Pulse
from pulse_core.database import transaction
from tests.delivery.conftest import WEEK, seed_and_build
from tests.delivery.test_claim_plan import captured, plan_of
from tests.harness.bulk import add_readers

pytestmark = pytest.mark.postgres

READERS = 5_000

_SEED = """
    INSERT INTO subscribers (email, email_key, first_name, status, created_at, updated_at,
                             confirmed_at, consent_text, consent_at, track_clicks, timezone)
    SELECT 'make' || n || '@example.com', 'make' || n || '@example.com', 'Alex', 'active',
           now(), now(), now(), 'test', now(), true,
           (ARRAY['America/Los_Angeles', 'Europe/London', 'Asia/Kolkata', NULL])[1 + n % 4]
    FROM generate_series(1, :count) AS n
"""


@pytest.mark.parametrize("local_time", [False, True], ids=["one-instant", "waves"])
def test_no_insert_of_the_deliveries_reads_the_deliveries_table(
    configure: Callable[..., Pulse], database_url: str, local_time: bool
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("the plans checked are PostgreSQL's")
    zone = {"PULSE_TIMEZONE": "America/New_York"}  # the unset zone: a fourth instant
    settings = {"PULSE_SEND_LOCAL_TIME": "09:00", **zone} if local_time else {}
    pulse = configure(**settings)
    seed_and_build(pulse, 0)
    with transaction(pulse.db.sessions) as session:
        session.execute(text(_SEED), {"count": READERS})
    engine = pulse.db.engine
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql("ANALYZE deliveries")  # the worst case: known to be empty
        connection.exec_driver_sql("ANALYZE subscribers")

    waves = pulse.schedule.wave_plan(WEEK) if local_time else None
    with captured(engine) as statements:
        _issue, created = begin_send(pulse.db.sessions, WEEK, waves=waves)
    assert created == READERS
    inserts = [(sql, p) for sql, p in statements if sql.startswith("INSERT INTO deliveries")]
    assert len(inserts) == (5 if local_time else 1)  # four zone groups and the catch-all
    for sql, params in inserts:
        plan = plan_of(engine, sql, params)
        reads = [line for line in plan.splitlines() if " on deliveries" in line]
        assert [line.strip().split("  ")[0] for line in reads] == ["Insert on deliveries"], plan


def test_creating_again_adds_only_readers_who_are_not_in_yet(
    configure: Callable[..., Pulse],
) -> None:
    pulse = configure(PULSE_SEND_LOCAL_TIME="09:00", PULSE_TIMEZONE="UTC")
    seed_and_build(pulse, 30)
    waves = pulse.schedule.wave_plan(WEEK)
    _issue, created = begin_send(pulse.db.sessions, WEEK, waves=waves)
    assert created == 30
    with transaction(pulse.db.sessions) as session:
        add_readers(session, 7)
    _issue, again = begin_send(pulse.db.sessions, WEEK, waves=waves)
    assert again == 7
    _issue, nothing = begin_send(pulse.db.sessions, WEEK, waves=waves)
    assert nothing == 0
    with transaction(pulse.db.sessions) as session:
        rows = session.scalar(select(func.count()).select_from(Delivery))
        readers = session.scalar(select(func.count(func.distinct(Delivery.subscriber_id))))
    assert rows == readers == 37
