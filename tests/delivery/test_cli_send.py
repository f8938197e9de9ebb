"""``pulse issue send|status|resume`` and ``pulse worker`` from the operator's side."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import update

from pipeline import weekly
from pipeline.delivery.engine import begin_send
from pipeline.issues.models import Issue, IssueStatus
from pipeline.wiring import Pulse
from subscribers.database import transaction
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
