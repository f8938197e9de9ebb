"""Operations: `pulse status`, health endpoints and structured logs."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from pipeline.db import downgrade
from pipeline.logs import JsonFormatter, configure_logging, redact
from pipeline.web.app import create_app
from pipeline.wiring import Pulse
from pipeline.workflow import weekly
from tests.conftest import Cli
from tests.scheduler.conftest import WEEK, seed


def test_status_shows_next_run_last_issue_and_subscribers(cli: Cli, pulse: Pulse) -> None:
    seed(pulse, readers=4)
    weekly.build_week(pulse, WEEK)
    weekly.send_week(pulse, WEEK)
    result = cli("status")
    assert result.exit_code == 0, result.stderr
    assert "next send" in result.stdout and "09:00" in result.stdout
    assert f"{WEEK} #1 sent" in result.stdout
    assert "sent 4" in result.stdout
    assert "active 4" in result.stdout
    assert "migrations current" in result.stdout
    assert "file: configured" in result.stdout


def test_readyz_reports_pending_migrations(pulse: Pulse) -> None:
    client = TestClient(create_app(pulse))
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").json() == {"status": "ok", "database": "ok"}
    downgrade(pulse.db.engine, "0001")
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["database"] == "migrations pending"


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """configure_logging changes the root logger; put it back for the tests that follow."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.mark.usefixtures("restore_logging")
def test_json_logs_are_one_object_per_line_without_tokens(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("json")
    logging.getLogger("pipeline.test").warning(
        "visited http://x/u/WzEsImFpc2UtcHVsc2UtYnJpZWYubG9jYWxob3N0Il0.abcdefgh api_key=SG.secret"
    )
    line = capsys.readouterr().err.strip().splitlines()[-1]
    entry = json.loads(line)
    assert entry["level"] == "warning" and entry["logger"] == "pipeline.test"
    assert "WzEs" not in entry["message"] and "SG.secret" not in entry["message"]
    assert "/u/[token]" in entry["message"]


def test_redaction_keeps_ordinary_text() -> None:
    assert redact("sent 40 messages to 2026-W48") == "sent 40 messages to 2026-W48"
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "token=abc", None, None)
    assert "abc" not in JsonFormatter().format(record)
