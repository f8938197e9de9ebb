"""Issue 21 item 5: `pulse issue send --week` on a week not yet due asks first."""

from __future__ import annotations

from datetime import timedelta

import pytest

from pipeline.weeks import week_key
from pipeline.wiring import Pulse
from pulse_core.database import utcnow
from tests.conftest import Cli, Workspace
from tests.scheduler.conftest import seed


def test_sending_a_future_week_needs_yes_and_says_what_the_schedule_would_do(
    pulse: Pulse, cli: Cli, workspace: Workspace
) -> None:
    future = week_key((utcnow() + timedelta(days=21)).date())
    seed(pulse, week=future)
    assert cli("issue", "build", "--week", future).exit_code == 0

    refused = cli("issue", "send", "--week", future)
    assert refused.exit_code == 1
    assert f"{future} is not due yet" in refused.stderr
    assert "the scheduler would build and check it at" in refused.stderr
    assert "--yes" in refused.stderr
    assert not (workspace.outbox / future).exists()

    declined = cli("issue", "send", "--week", future, input="n\n")
    assert declined.exit_code == 1 and not (workspace.outbox / future).exists()

    sent = cli("issue", "send", "--week", future, "--yes")
    assert sent.exit_code == 0, sent.stderr
    assert len(list((workspace.outbox / future).glob("*.eml"))) == 12


def test_on_a_terminal_an_early_send_asks_first(
    pulse: Pulse, cli: Cli, workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pipeline.cli import issue as issue_cli

    future = week_key((utcnow() + timedelta(days=21)).date())
    seed(pulse, week=future)
    assert cli("issue", "build", "--week", future).exit_code == 0
    monkeypatch.setattr(issue_cli, "_interactive", lambda: True)
    declined = cli("issue", "send", "--week", future, input="n\n")
    assert declined.exit_code == 1 and "not due yet" in declined.stderr
    assert "before it is due?" in declined.stderr
    assert not (workspace.outbox / future).exists()
    accepted = cli("issue", "send", "--week", future, input="y\n")
    assert accepted.exit_code == 0, accepted.stderr
    assert len(list((workspace.outbox / future).glob("*.eml"))) == 12
