"""Real processes: racing schedulers and a manual send produce one send; SIGTERM resumes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipeline.wiring import Pulse
from tests.conftest import Workspace
from tests.harness.waiting import eventually
from tests.scheduler.conftest import WEEK, seed

RUN_WEEKLY = """
import sys
from datetime import UTC, datetime
from pipeline.config import load_settings
from pipeline.scheduler.job import WeeklyJob
from pipeline.schedule import WeeklySchedule
from pipeline.wiring import Pulse

pulse = Pulse(load_settings())
schedule = WeeklySchedule.parse(pulse.settings.schedule, pulse.settings.timezone)
job = WeeklyJob(pulse, schedule, lambda subject, body: 0)
outcome = job.run_weekly(sys.argv[1], schedule.send_time(sys.argv[1]))
print(outcome.action)
"""

PULSE = [sys.executable, "-c", "from pipeline.cli import main; main()"]


def spawn(args: list[str], env: dict[str, str], root: Path) -> subprocess.Popen[str]:
    """A separate process in the workspace, its output captured as text."""
    return subprocess.Popen(
        args, env=env, cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def wait_for_files(folder: Path, count: int, poll: float = 0.05) -> None:
    """Until ``folder`` holds ``count`` .eml files: another process writes them."""

    def written() -> bool:
        return len(list(folder.glob("*.eml"))) >= count

    eventually(written, timeout=60, poll=poll, what=f"{count} files in {folder.name}")


def file_times(folder: Path) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in folder.glob("*.eml")}


@pytest.mark.slow
def test_racing_schedulers_and_a_manual_send_send_the_week_once(
    pulse: Pulse, workspace: Workspace
) -> None:
    seed(pulse, readers=300)
    env = {**os.environ, **workspace.env, "PULSE_BATCH_SIZE": "25"}
    racers = [
        spawn([sys.executable, "-c", RUN_WEEKLY, WEEK], env, workspace.root) for _ in range(3)
    ]
    # Real processes: let the racers start before the manual send joins them.
    time.sleep(0.3)
    manual = spawn([*PULSE, "issue", "send", "--week", WEEK], env, workspace.root)
    outcomes = []
    for racer in racers:
        out, err = racer.communicate(timeout=120)
        assert racer.returncode == 0, err
        outcomes.append(out.strip())
    manual_out, manual_err = manual.communicate(timeout=120)
    assert outcomes.count("already-run") == 2, outcomes
    assert {o for o in outcomes if o != "already-run"} <= {"sent", "busy"}
    # The manual send either finished the week or found it taken: never a second send.
    assert manual.returncode in (0, 1), manual_err
    if manual.returncode == 1:
        assert "already being sent" in manual_err or "is held" in manual_err
    folder = workspace.outbox / WEEK
    if "sent" not in outcomes and manual.returncode != 0:
        pytest.fail(f"nobody sent the week: {outcomes} {manual_out} {manual_err}")
    names = sorted(p.name for p in folder.glob("*.eml"))
    assert len(names) == 300
    recipients = [p.read_text().split("To: ", 1)[1].split("\n", 1)[0] for p in folder.glob("*.eml")]
    assert len(set(recipients)) == 300


@pytest.mark.slow
def test_sigterm_mid_send_finishes_the_batch_and_resume_sends_nobody_twice(
    pulse: Pulse, workspace: Workspace
) -> None:
    seed(pulse, readers=1500)
    env = {**os.environ, **workspace.env, "PULSE_BATCH_SIZE": "10"}
    assert (
        subprocess.run(
            [*PULSE, "issue", "build", "--week", WEEK],
            env=env,
            cwd=workspace.root,
            capture_output=True,
            check=False,
        ).returncode
        == 0
    )
    sender = spawn([*PULSE, "issue", "send", "--week", WEEK], env, workspace.root)
    folder = workspace.outbox / WEEK
    wait_for_files(folder, 50, poll=0.01)
    sender.send_signal(signal.SIGTERM)
    out, err = sender.communicate(timeout=60)
    assert sender.returncode == 3, err  # unfinished, under way: not a success, not a pause
    assert "pulse issue resume" in err and "send stopped" in out
    before = file_times(folder)
    assert 50 <= len(before) < 1500, "the send should have been interrupted mid-way"

    resumed = subprocess.run(
        [*PULSE, "issue", "resume", "--week", WEEK],
        env=env,
        cwd=workspace.root,
        capture_output=True,
        text=True,
        check=False,
    )
    assert resumed.returncode == 0, resumed.stderr
    after = file_times(folder)
    assert len(after) == 1500
    # Nothing sent before the signal was written again: the in-flight batch was recorded.
    assert {name: after[name] for name in before} == before


@pytest.mark.slow
def test_scheduler_process_catches_up_on_start_and_stops_on_sigterm(
    pulse: Pulse, workspace: Workspace
) -> None:
    from datetime import UTC, datetime, timedelta

    from pipeline.schedule import WeeklySchedule
    from pipeline.weeks import WEEKDAYS

    due = datetime.now(UTC) - timedelta(minutes=10)
    schedule = f"{WEEKDAYS[due.weekday()]} {due:%H:%M}"
    week = WeeklySchedule.parse(schedule, "UTC").week_at(due)
    seed(pulse, readers=20, week=week)
    env = {
        **os.environ,
        **workspace.env,
        "PULSE_SCHEDULE": schedule,
        "PULSE_TIMEZONE": "UTC",
        "PULSE_LOG_FORMAT": "json",
    }
    process = spawn([*PULSE, "scheduler"], env, workspace.root)
    folder = workspace.outbox / week
    wait_for_files(folder, 20)
    # A real process: give it a moment past the last file to record the send as finished.
    time.sleep(0.5)
    process.send_signal(signal.SIGTERM)
    _out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert len(list(folder.glob("*.eml"))) == 20
    assert '"message": "scheduler started' in err
