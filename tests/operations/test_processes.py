"""``pulse serve`` and ``pulse scheduler`` as separate processes: JSON logs, metrics, no tokens."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pipeline.schedule import WeeklySchedule
from pipeline.weeks import WEEKDAYS
from pipeline.wiring import Pulse
from tests.conftest import Workspace
from tests.scheduler.conftest import seed

PULSE = [sys.executable, "-c", "from pipeline.cli import main; main()"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def fetch(url: str, timeout: float = 30.0) -> tuple[int, str]:
    """GET ``url``, retrying while the process starts (bounded by ``timeout``)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return int(response.status), response.read().decode()
        except urllib.error.HTTPError as err:
            return err.code, err.read().decode()
        except (urllib.error.URLError, ConnectionError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def sample(text: str, name: str) -> float:
    """The value of the exposition line for ``name`` (labels included, in exposition order)."""
    for line in text.splitlines():
        key, _, number = line.rpartition(" ")
        if key == name:
            return float(number)
    raise AssertionError(f"{name} not in metrics:\n{text}")


def json_lines(stderr: str) -> list[dict[str, object]]:
    entries = []
    for line in stderr.splitlines():
        entries.append(json.loads(line))  # every line is one JSON object
    return entries


def test_serve_logs_json_access_lines_without_tokens_and_serves_metrics(
    pulse: Pulse, workspace: Workspace
) -> None:
    token = pulse.signer.unsubscribe_token(1)
    port = free_port()
    env = {**os.environ, **workspace.env, "PULSE_LOG_FORMAT": "json"}
    process = subprocess.Popen(
        [*PULSE, "serve", "--port", str(port)],
        env=env,
        cwd=workspace.root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert fetch(f"http://127.0.0.1:{port}/healthz")[0] == 200
        assert fetch(f"http://127.0.0.1:{port}/u/{token}")[0] in (200, 400)
        status, body = fetch(f"http://127.0.0.1:{port}/metrics")
        assert status == 200
        assert sample(body, "pulse_database_up") == 1
        assert "# TYPE pulse_messages_sent_total counter" in body
    finally:
        process.send_signal(signal.SIGTERM)
        _out, err = process.communicate(timeout=30)
    entries = json_lines(err)
    assert token not in err
    access = [e for e in entries if e["logger"] == "uvicorn.access"]
    paths = {str(e["path"]) for e in access}
    assert {"/healthz", "/metrics"} <= paths
    assert {p for p in paths if p.startswith("/u/")} <= {"/u/[token]", "/u/…"}
    assert any(p.startswith("/u/") for p in paths)
    assert any(e["logger"] == "uvicorn.error" for e in entries)  # startup lines, as JSON


def test_scheduler_metrics_port_counts_the_send_it_made(
    pulse: Pulse, workspace: Workspace
) -> None:
    due = datetime.now(UTC) - timedelta(minutes=10)
    schedule = f"{WEEKDAYS[due.weekday()]} {due:%H:%M}"
    week = WeeklySchedule.parse(schedule, "UTC").week_at(due)
    seed(pulse, readers=15, week=week)
    port = free_port()
    env = {
        **os.environ,
        **workspace.env,
        "PULSE_SCHEDULE": schedule,
        "PULSE_TIMEZONE": "UTC",
        "PULSE_LOG_FORMAT": "json",
    }
    process = subprocess.Popen(
        [*PULSE, "scheduler", "--metrics-port", str(port)],
        env=env,
        cwd=workspace.root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        body = ""
        while time.monotonic() < deadline:
            _status, body = fetch(f"http://127.0.0.1:{port}/metrics")
            if 'pulse_scheduler_jobs_total{outcome="sent"}' in body:
                break
            time.sleep(0.2)
        assert sample(body, 'pulse_scheduler_jobs_total{outcome="sent"}') == 1
        assert sample(body, 'pulse_messages_sent_total{provider="file"}') == 15
        assert sample(body, 'pulse_batches_total{provider="file"}') == 1  # 15 readers: one batch
        assert sample(body, 'pulse_batch_seconds_count{provider="file"}') == 1
        assert sample(body, f'pulse_issue_deliveries{{status="sent",week="{week}"}}') == 15
        assert sample(body, f'pulse_issue_progress_ratio{{week="{week}"}}') == 1
        assert sample(body, f'pulse_issue_send_paused{{week="{week}"}}') == 0
    finally:
        process.send_signal(signal.SIGTERM)
        _out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    entries = json_lines(err)
    assert any(e.get("metrics_port") == port for e in entries)


def test_worker_refuses_a_metrics_port_in_use(workspace: Workspace) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run(
            [*PULSE, "worker", "--exit-when-idle", "--metrics-port", str(port)],
            env={**os.environ, **workspace.env},
            cwd=workspace.root,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 2
    expected = f"error: --metrics-port: cannot listen on 127.0.0.1:{port}"
    assert result.stderr.strip().startswith(expected)
    assert "Traceback" not in result.stderr
    assert Path(workspace.root).is_dir()
