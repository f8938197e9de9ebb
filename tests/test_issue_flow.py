"""Build and send: idempotent, exactly once per subscriber, resumable."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select, update

from pipeline.content import queue
from pipeline.delivery.models import Delivery, DeliveryStatus
from pipeline.issues.models import Issue, IssueStatus
from pipeline.wiring import Pulse
from pipeline.workflow import weekly
from pulse_core.database import transaction, utcnow
from subscribers.models import Subscriber, SubscriberStatus
from tests.conftest import Cli, Workspace
from tests.harness.seed import seed_week_of

WEEK = "2026-W48"


def seed(pulse: Pulse, readers: int = 30) -> None:
    seed_week_of(pulse, readers, WEEK)


def test_building_twice_returns_the_same_issue(pulse: Pulse) -> None:
    seed(pulse)
    first = weekly.build_week(pulse, WEEK)
    second = weekly.build_week(pulse, WEEK)
    assert first.created and not second.created
    assert first.issue.id == second.issue.id
    assert first.issue.html == second.issue.html


def test_rebuild_picks_up_new_content_until_the_send_starts(pulse: Pulse) -> None:
    seed(pulse)
    weekly.build_week(pulse, WEEK)
    with transaction(pulse.db.sessions) as session:
        queue.add_snippet(session, section="quick-links", title="Fresh link added late")
    rebuilt = weekly.build_week(pulse, WEEK, rebuild=True)
    assert "Fresh link added late" in rebuilt.issue.html
    weekly.send_week(pulse, WEEK)
    try:
        weekly.build_week(pulse, WEEK, rebuild=True)
    except Exception as err:
        assert "can no longer be rebuilt" in str(err)
    else:
        raise AssertionError("a sent issue was rebuilt")


def test_send_twice_sends_nobody_twice(pulse: Pulse, workspace: Workspace) -> None:
    seed(pulse, readers=30)
    weekly.build_week(pulse, WEEK)
    first = weekly.send_week(pulse, WEEK)
    assert first.sent == 30 and first.finished
    second = weekly.send_week(pulse, WEEK)
    assert second.sent == 0
    assert len(list((workspace.outbox / WEEK).glob("*.eml"))) == 30
    with pulse.db.sessions() as session:
        issue = session.scalar(select(Issue).where(Issue.week_key == WEEK))
        assert issue is not None and issue.status is IssueStatus.SENT


def test_interrupted_send_resumes_without_skipping_or_repeating(pulse: Pulse) -> None:
    seed(pulse, readers=20)
    weekly.build_week(pulse, WEEK)
    # Simulate a crash: rows created, some already sent, one batch left leased and expired.
    from pipeline.delivery.engine import begin_send

    _issue, created = begin_send(pulse.db.sessions, WEEK)
    assert created == 20
    with transaction(pulse.db.sessions) as session:
        ids = list(session.scalars(select(Delivery.id).order_by(Delivery.id)))
        session.execute(
            update(Delivery).where(Delivery.id.in_(ids[:5])).values(status=DeliveryStatus.SENT)
        )
        session.execute(
            update(Delivery)
            .where(Delivery.id.in_(ids[5:10]))
            .values(status=DeliveryStatus.SENDING, lease_until=utcnow() - timedelta(seconds=1))
        )
    report = weekly.send_week(pulse, WEEK)
    assert report.sent == 15
    with pulse.db.sessions() as session:
        statuses = session.execute(
            select(Delivery.status, func.count()).group_by(Delivery.status)
        ).all()
    assert dict(statuses) == {DeliveryStatus.SENT: 20}


def test_only_active_subscribers_are_mailed(pulse: Pulse) -> None:
    seed(pulse, readers=10)
    with transaction(pulse.db.sessions) as session:
        session.execute(
            update(Subscriber)
            .where(Subscriber.email == "reader000001@example.com")
            .values(status=SubscriberStatus.UNSUBSCRIBED)
        )
    weekly.build_week(pulse, WEEK)
    assert weekly.send_week(pulse, WEEK).sent == 9


def test_issue_cli_build_preview_send_status(cli: Cli, pulse: Pulse, workspace: Workspace) -> None:
    seed(pulse, readers=3)
    assert "built issue #1" in cli("issue", "build", "--week", WEEK).stdout
    assert "already built" in cli("issue", "build", "--week", WEEK).stdout
    out = workspace.root / "preview"
    assert cli("issue", "preview", "--week", WEEK, "--out", str(out)).exit_code == 0
    for name in ("issue.mjml", "issue.html", "issue.txt", "issue.eml"):
        assert (out / name).stat().st_size > 0
    assert "sent 3" in cli("issue", "send", "--week", WEEK).stdout
    assert "sent 0" in cli("issue", "send", "--week", WEEK).stdout
    status = cli("issue", "status", "--week", WEEK)
    assert "is sent" in status.stdout and "sent" in status.stdout
    bad = cli("issue", "send", "--week", "2026-W99")
    assert bad.exit_code == 1 and "week" in bad.stderr
