"""``pulse lifecycle run|status`` and the scheduler's series job."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

import pytest

from pipeline.config import load_settings
from pipeline.errors import ConfigError
from pipeline.resources import copy_templates
from pipeline.scheduler.runner import build_scheduler, make_job
from pipeline.scheduler.welcome import JOB_ID, POLL_SECONDS, welcome_pass
from pipeline.wiring import Pulse
from pulse_core.database import utcnow
from tests.conftest import Cli, MakePulse
from tests.welcome.conftest import SeriesOutbox, confirmed_reader, far_schedule


@pytest.fixture
def quiet_free(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI runs on the real clock: keep the weekly send far from it."""
    monkeypatch.setenv("PULSE_SCHEDULE", far_schedule(utcnow()))
    monkeypatch.setenv("PULSE_TIMEZONE", "UTC")


@pytest.mark.usefixtures("quiet_free")
def test_run_sends_what_is_due_and_status_shows_each_step(
    cli: Cli, make_pulse: MakePulse, series_outbox: SeriesOutbox
) -> None:
    confirmed_reader(make_pulse(), "ada@example.com")
    before = cli("lifecycle", "status")
    assert before.exit_code == 0, before.stderr
    assert "welcome" in before.stdout and "start-here" in before.stdout
    ran = cli("lifecycle", "run")
    assert ran.exit_code == 0, ran.stderr
    assert "welcome: sent 1" in ran.stdout
    assert len(series_outbox.messages("welcome")) == 1
    again = cli("lifecycle", "run")
    assert "welcome: sent 0" in again.stdout
    mine = cli("lifecycle", "status", "ADA@example.com")
    assert mine.exit_code == 0, mine.stderr
    assert "sent" in mine.stdout and "waiting" in mine.stdout


@pytest.mark.usefixtures("quiet_free")
def test_status_of_an_unknown_address_is_one_clear_line(cli: Cli) -> None:
    result = cli("lifecycle", "status", "nobody@example.com")
    assert result.exit_code == 1
    assert "no subscriber nobody@example.com" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.usefixtures("quiet_free")
def test_a_bad_series_setting_stops_the_command_with_exit_2(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PULSE_WELCOME_SERIES", "welcome=now")
    result = cli("lifecycle", "run")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: PULSE_WELCOME_SERIES:")


@pytest.mark.usefixtures("quiet_free")
def test_an_old_templates_copy_without_the_series_is_named(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    folder = tmp_path / "old-copy"
    copy_templates(folder)
    for path in (folder / "email" / "series").iterdir():
        path.unlink()
    monkeypatch.setenv("PULSE_TEMPLATES_DIR", str(folder))
    result = cli("lifecycle", "status")
    assert result.exit_code == 2
    assert "welcome.mjml" in result.stderr and "PULSE_WELCOME_SERIES" in result.stderr


@pytest.mark.usefixtures("quiet_free", "workspace")
def test_the_scheduler_runs_the_series_every_minute() -> None:
    app = Pulse(load_settings())
    try:
        scheduler = build_scheduler(make_job(app, threading.Event()))
        job = scheduler.get_job(JOB_ID)
        assert job is not None
        assert job.trigger.interval == timedelta(seconds=POLL_SECONDS)
    finally:
        app.close()


@pytest.mark.usefixtures("quiet_free", "workspace")
def test_no_series_job_when_the_series_is_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PULSE_WELCOME_SERIES", "")
    app = Pulse(load_settings())
    try:
        scheduler = build_scheduler(make_job(app, threading.Event()))
        assert scheduler.get_job(JOB_ID) is None
    finally:
        app.close()


@pytest.mark.usefixtures("quiet_free", "workspace")
def test_the_scheduler_refuses_to_start_on_a_broken_series(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    folder = tmp_path / "copy"
    copy_templates(folder)
    (folder / "email" / "series" / "start-here.txt").unlink()
    monkeypatch.setenv("PULSE_TEMPLATES_DIR", str(folder))
    app = Pulse(load_settings())
    try:
        with pytest.raises(ConfigError, match=r"start-here\.txt"):
            build_scheduler(make_job(app, threading.Event()))
    finally:
        app.close()


@pytest.mark.usefixtures("quiet_free")
def test_a_failing_pass_is_logged_not_fatal(
    make_pulse: MakePulse, caplog: pytest.LogCaptureFixture
) -> None:
    app = make_pulse()
    confirmed_reader(app, "ada@example.com")

    def broken() -> object:
        raise RuntimeError("provider exploded")

    app.provider = broken  # type: ignore[assignment,method-assign]
    welcome_pass(app)  # does not raise
    assert "welcome series pass failed" in caplog.text


@pytest.mark.usefixtures("quiet_free")
def test_preview_writes_each_step_for_the_sample_reader(cli: Cli, tmp_path: Path) -> None:
    out = tmp_path / "preview"
    result = cli("lifecycle", "preview", "--out", str(out))
    assert result.exit_code == 0, result.stderr
    for step in ("welcome", "start-here", "your-role"):
        html = (out / f"{step}.html").read_text(encoding="utf-8")
        text = (out / f"{step}.txt").read_text(encoding="utf-8")
        assert "Hi Alex" in html and "Hi Alex" in text
        assert "%%pulse:" not in html + text
        assert b"List-Unsubscribe:" in (out / f"{step}.eml").read_bytes()
    assert "start-here: Start here" in result.stdout
