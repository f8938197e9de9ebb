"""``pulse issue send|status|resume`` and ``pulse worker`` from the operator's side."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from pipeline.delivery.engine import begin_send
from pipeline.delivery.models import Delivery, DeliveryStatus
from pipeline.delivery.ratelimit import SendRateLimiter
from pipeline.issues.models import Issue, IssueStatus
from pipeline.wiring import Pulse
from pipeline.workflow import weekly
from pulse_core.database import transaction, utcnow
from tests.conftest import Cli
from tests.delivery.conftest import WEEK, provider_env, seed_and_build
from tests.fakes import FakePostmark


def test_status_shows_counts_by_state_and_why_a_send_paused(
    cli: Cli, configure: Callable[..., Pulse]
) -> None:
    with FakePostmark("right") as fake:
        pulse = configure(**{**provider_env(fake), "PULSE_POSTMARK_TOKEN": "wrong"})
        seed_and_build(pulse, 12)
        sent = cli("issue", "send", "--week", WEEK)
        assert sent.exit_code == 1
        assert "send paused" in sent.stderr and "credentials rejected" in sent.stderr
        status = cli("issue", "status", "--week", WEEK)
        assert status.exit_code == 0
        assert "is paused" in status.stdout and "credentials rejected" in status.stdout
        assert "pending" in status.stdout and "12" in status.stdout
        again = cli("issue", "send", "--week", WEEK)
        assert again.exit_code == 1 and "pulse issue resume" in again.stderr
        configure(PULSE_POSTMARK_TOKEN="right")
        resumed = cli("issue", "resume", "--week", WEEK)
    assert resumed.exit_code == 0, resumed.stderr
    assert "sent 12" in resumed.stdout and "send finished" in resumed.stdout
    assert len(fake.accepted) == 12


def test_progress_is_logged_as_lines_when_not_on_a_terminal(
    cli: Cli, configure: Callable[..., Pulse]
) -> None:
    with FakePostmark() as fake:
        configure(**provider_env(fake), PULSE_PROGRESS_INTERVAL="0.000001", PULSE_BATCH_SIZE="5")
        pulse = configure()
        seed_and_build(pulse, 15)
        result = cli("issue", "send", "--week", WEEK)
    assert result.exit_code == 0, result.stderr
    assert f"{WEEK}: sent 5, failed 0 of 15" in result.stdout
    assert f"{WEEK}: sent 15, failed 0 of 15" in result.stdout


def test_worker_finishes_a_send_in_progress_and_exits_when_idle(
    cli: Cli, configure: Callable[..., Pulse]
) -> None:
    with FakePostmark() as fake:
        pulse = configure(**provider_env(fake))
        seed_and_build(pulse, 20)
        begin_send(pulse.db.sessions, WEEK)
        result = cli("worker", "--exit-when-idle", "--poll", "0.1")
    assert result.exit_code == 0, result.stderr
    assert f"{WEEK}: sent 20" in result.stdout
    assert len(fake.accepted) == 20
    with transaction(pulse.db.sessions) as session:
        issue = session.query(Issue).one()
        assert issue.status is IssueStatus.SENT


def test_worker_with_missing_credentials_stops_at_startup(
    cli: Cli, configure: Callable[..., Pulse]
) -> None:
    configure(PULSE_PROVIDER="sendgrid")
    result = cli("worker", "--exit-when-idle")
    assert result.exit_code == 2
    assert "PULSE_SENDGRID_API_KEY" in result.stderr


def test_worker_leaves_a_paused_send_alone(cli: Cli, configure: Callable[..., Pulse]) -> None:
    with FakePostmark() as fake:
        pulse = configure(**provider_env(fake))
        seed_and_build(pulse, 5)
        begin_send(pulse.db.sessions, WEEK)
        with transaction(pulse.db.sessions) as session:
            session.execute(
                update(Issue).values(status=IssueStatus.PAUSED, pause_reason="operator")
            )
        result = cli("worker", "--exit-when-idle")
        assert result.exit_code == 0
        assert fake.accepted.total() == 0
        report = weekly.send_week(pulse, WEEK, resume=True)
    assert report.finished and report.sent == 5


def test_demo_whose_send_paused_with_nobody_sent_exits_1_like_issue_send(
    cli: Cli, configure: Callable[..., Pulse]
) -> None:
    with FakePostmark("right") as fake:
        configure(**{**provider_env(fake), "PULSE_POSTMARK_TOKEN": "wrong"})
        result = cli("demo", "--subscribers", "5")
    assert result.exit_code == 1, result.stdout
    assert "send paused" in result.stderr and "credentials rejected" in result.stderr
    assert "paused" in result.stdout  # the summary table says so too
    assert fake.accepted.total() == 0


def test_a_send_left_with_only_retries_not_yet_due_exits_3_and_status_shows_them(
    cli: Cli, configure: Callable[..., Pulse]
) -> None:
    with FakePostmark() as fake:
        pulse = configure(**provider_env(fake))
        seed_and_build(pulse, 12)
        begin_send(pulse.db.sessions, WEEK)
        later = utcnow() + timedelta(hours=1)
        with transaction(pulse.db.sessions) as session:
            first = min(session.scalars(select(Delivery.id)))
            session.execute(update(Delivery).values(status=DeliveryStatus.SENT))
            session.execute(
                update(Delivery)
                .where(Delivery.id == first)
                .values(status=DeliveryStatus.PENDING, not_before=later, retries=1)
            )
        waiting = cli("issue", "send", "--week", WEEK)
        assert waiting.exit_code == 3, waiting.stderr
        assert "1 recipient(s) refused for now" in waiting.stderr
        assert "pulse issue resume" in waiting.stderr
        assert "send retries-pending" in waiting.stdout
        status = cli("issue", "status", "--week", WEEK)
        assert "is sending" in status.stdout and "retries pending: 1" in status.stdout
        with transaction(pulse.db.sessions) as session:
            session.execute(update(Delivery).values(not_before=utcnow() - timedelta(seconds=1)))
        resumed = cli("issue", "resume", "--week", WEEK)
    assert resumed.exit_code == 0, resumed.stderr
    assert "sent 1 (of 12 sent in all)," in resumed.stdout and "send finished" in resumed.stdout
    assert len(fake.accepted) == 1


def test_status_names_a_providers_hold_while_it_lasts(
    cli: Cli, configure: Callable[..., Pulse]
) -> None:
    pulse = configure()
    seed_and_build(pulse, 3)
    SendRateLimiter(pulse.db.sessions, []).hold(600, "postmark: rate limited (429)")
    status = cli("issue", "status", "--week", WEEK)
    assert "asked every sender to wait until" in status.stdout
    assert "rate limited (429)" in status.stdout


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PULSE_RETRY_FIRST_DELAY", "0"),
        ("PULSE_RETRY_FIRST_DELAY", "soon"),
        ("PULSE_RETRY_MAX_DELAY", "-5"),
        ("PULSE_RETRY_GIVE_UP_AFTER", "1e12"),
        ("PULSE_RETRY_MAX_RETRIES", "1.5"),
        ("PULSE_SEND_IDLE_WAIT", "nan"),
    ],
)
def test_a_bad_retry_setting_stops_the_send_naming_it_and_changes_nothing(
    cli: Cli,
    configure: Callable[..., Pulse],
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    value: str,
) -> None:
    pulse = configure()
    seed_and_build(pulse, 3)
    monkeypatch.setenv(name, value)
    result = cli("issue", "send", "--week", WEEK)
    assert result.exit_code == 2
    assert name in result.stderr and "Traceback" not in result.stderr
    with pulse.db.sessions() as session:
        assert session.scalars(select(Delivery)).first() is None
