"""The send lock: one live sender per week; a dead holder is replaced at once, a live one never."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from pipeline.delivery.liveness import hold_liveness, process_liveness
from pipeline.delivery.models import SendLock
from pipeline.delivery.send_lock import SendInProgress, send_lock, try_acquire
from pipeline.issues.models import Issue
from pipeline.wiring import Pulse
from pipeline.workflow import weekly
from pulse_core.database import transaction, utcnow
from tests.scheduler.conftest import WEEK, seed


def built_issue_id(pulse: Pulse) -> int:
    seed(pulse)
    weekly.build_week(pulse, WEEK)
    with pulse.db.sessions() as session:
        issue_id = session.scalar(select(Issue.id).where(Issue.week_key == WEEK))
    assert issue_id is not None
    return issue_id


def test_a_live_holder_keeps_the_lock_and_is_named(pulse: Pulse) -> None:
    issue_id = built_issue_id(pulse)
    sessions = pulse.db.sessions
    with process_liveness(pulse.db.engine) as first, process_liveness(pulse.db.engine) as second:
        with send_lock(sessions, issue_id, WEEK, first):
            with (
                pytest.raises(SendInProgress, match="already being sent by") as refused,
                send_lock(sessions, issue_id, WEEK, second),
            ):
                pass  # pragma: no cover - must not be reached
            host_pid = first.owner.rsplit(":", 1)[0]
            assert str(refused.value).endswith(host_pid)
        # Released on the way out: the next sender gets it.
        with send_lock(sessions, issue_id, WEEK, second):
            pass


def test_a_dead_holder_is_replaced_at_once(pulse: Pulse) -> None:
    issue_id = built_issue_id(pulse)
    sessions = pulse.db.sessions
    crashed = hold_liveness(pulse.db.engine)
    assert try_acquire(sessions, issue_id, crashed) is None
    crashed.release()  # what kill -9 does to it; the row stays behind
    with process_liveness(pulse.db.engine) as restart:
        assert try_acquire(sessions, issue_id, restart) is None
        with sessions() as session:
            assert session.get(SendLock, issue_id).owner == restart.owner  # type: ignore[union-attr]


def test_a_lock_row_from_the_heartbeat_days_waits_out_its_staleness(pulse: Pulse) -> None:
    issue_id = built_issue_id(pulse)
    sessions = pulse.db.sessions
    with transaction(sessions) as session:
        session.add(SendLock(issue_id=issue_id, owner="oldhost:4242", heartbeat_at=utcnow()))
    with process_liveness(pulse.db.engine) as me:
        assert try_acquire(sessions, issue_id, me) == "oldhost:4242"
        with transaction(sessions) as session:
            session.execute(
                update(SendLock).values(heartbeat_at=utcnow() - timedelta(seconds=91))
            )
        assert try_acquire(sessions, issue_id, me) is None


def test_a_send_after_a_crash_is_not_refused(pulse: Pulse) -> None:
    issue_id = built_issue_id(pulse)
    crashed = hold_liveness(pulse.db.engine)
    assert try_acquire(pulse.db.sessions, issue_id, crashed) is None
    crashed.release()
    report = weekly.send_week(pulse, WEEK)
    assert report.finished and report.sent == 12
