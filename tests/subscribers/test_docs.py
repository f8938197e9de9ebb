"""The README keeps up with the subscriber settings and commands."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.cli.subscribers import app as subscribers_app

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
SUBSCRIBER_SETTINGS = (
    "check_deliverability",
    "welcome_email",
    "signup_min_fill_seconds",
    "signup_per_ip_per_hour",
    "signup_per_address_per_hour",
    "confirm_interval_minutes",
    "confirm_max_per_day",
)


@pytest.mark.parametrize("name", SUBSCRIBER_SETTINGS)
def test_every_subscriber_setting_is_documented(name: str) -> None:
    assert f"`PULSE_{name.upper()}`" in README


def test_every_subscribers_command_is_documented() -> None:
    names = [command.name for command in subscribers_app.registered_commands]
    assert set(names) == {"add", "import", "export", "forget", "list"}
    for name in names:
        assert f"pulse subscribers {name}" in README
