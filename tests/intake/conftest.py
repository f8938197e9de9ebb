"""Fixtures for the intake: the loopback board server and the wiring pointed at it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pipeline.config import load_settings
from pipeline.wiring import Pulse
from tests.conftest import Workspace
from tests.intake.boards_server import BoardServer


@pytest.fixture
def boards() -> Iterator[BoardServer]:
    server = BoardServer().start()
    yield server
    server.stop()


@pytest.fixture
def intake_env(workspace: Workspace, boards: BoardServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every board API on the loopback server; short timeouts and no waiting between retries."""
    for name, prefix in (("GREENHOUSE", "gh"), ("LEVER", "lever"), ("ASHBY", "ashby")):
        monkeypatch.setenv(f"PULSE_{name}_API_URL", f"{boards.base}/{prefix}")
    monkeypatch.setenv("PULSE_JOBS_HTTP_TIMEOUT", "0.5")
    monkeypatch.setenv("PULSE_JOBS_HTTP_ATTEMPTS", "2")
    monkeypatch.setenv("PULSE_JOBS_HTTP_BACKOFF", "0")


@pytest.fixture
def intake_pulse(intake_env: None) -> Iterator[Pulse]:
    app = Pulse(load_settings())
    yield app
    app.close()
