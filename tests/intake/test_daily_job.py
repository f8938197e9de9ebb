"""The scheduler's daily intake job: on the configured clock, and harmless when a board fails."""

from __future__ import annotations

import logging
import threading

import pytest
from sqlalchemy import func, select

from pipeline.intake.models import JobPosting
from pipeline.scheduler.intake import JOB_ID, daily_intake
from pipeline.scheduler.runner import build_scheduler, make_job
from pipeline.wiring import Pulse
from tests.conftest import Cli
from tests.intake import documented
from tests.intake.boards_server import BoardServer


def test_the_scheduler_fetches_daily_at_the_configured_time(
    intake_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pipeline.config import load_settings

    monkeypatch.setenv("PULSE_JOBS_FETCH_TIME", "05:30")
    app = Pulse(load_settings())
    try:
        scheduler = build_scheduler(make_job(app, threading.Event()))
        trigger = scheduler.get_job(JOB_ID).trigger
        fields = {f.name: str(f) for f in trigger.fields}
        assert (fields["hour"], fields["minute"]) == ("5", "30")
        assert str(trigger.timezone) == app.settings.timezone
    finally:
        app.close()


def test_the_daily_job_fills_the_queue_and_logs_failures(
    intake_pulse: Pulse, boards: BoardServer, cli: Cli, caplog: pytest.LogCaptureFixture
) -> None:
    boards.ashby["acme"] = [
        documented.ashby_job(boards.base, "acme", "a1", "Sales Engineer", "Remote (US)")
    ]
    cli("jobs", "sources", "add", "ashby", "acme", "--company", "Acme")
    cli("jobs", "sources", "add", "lever", "gone", "--company", "Gone")
    with caplog.at_level(logging.INFO, logger="pipeline.scheduler.intake"):
        daily_intake(intake_pulse)
    with intake_pulse.db.sessions() as session:
        assert session.scalar(select(func.count()).select_from(JobPosting)) == 1
    assert "intake lever:gone failed: HTTP 404" in caplog.text
    assert "intake ashby:acme: found 1, new 1" in caplog.text


def test_a_bad_fetch_time_is_refused_naming_the_variable(
    workspace: object, monkeypatch: pytest.MonkeyPatch, cli: Cli
) -> None:
    monkeypatch.setenv("PULSE_JOBS_FETCH_TIME", "25:00")
    result = cli("jobs", "review")
    assert result.exit_code == 2 and "PULSE_JOBS_FETCH_TIME" in result.stderr
