"""Configuration: defaults that work, and one clear line for a bad value."""

from __future__ import annotations

import pytest

from pipeline.config import load_settings
from pipeline.errors import ConfigError
from tests.conftest import Cli


def test_defaults_need_no_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("PULSE_DATABASE_URL", "PULSE_PROVIDER", "PULSE_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings()
    assert settings.database_url == "sqlite:///var/pulse.db"
    assert settings.provider == "file"
    assert settings.schedule == "tue 09:00"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PULSE_SEND_RATE", "fast"),
        ("PULSE_SEND_RATE", "-1"),
        ("PULSE_PROVIDER", "pigeon"),
        ("PULSE_BASE_URL", "ftp://example.com"),
        ("PULSE_SCHEDULE", "someday 25:00"),
        ("PULSE_TIMEZONE", "Mars/Olympus"),
        ("PULSE_SEND_LOCAL_TIME", "9am"),
        ("PULSE_SEND_LOCAL_TIME", "24:00"),
        ("PULSE_SMTP_PORT", "99999"),
        ("PULSE_FROM", "nobody"),
    ],
)
def test_bad_value_names_the_variable(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=f"^{name}: "):
        load_settings()
    result = cli("content", "list")
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {name}: ")


def test_public_https_base_url_requires_a_secret_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PULSE_BASE_URL", "https://news.example.com")
    monkeypatch.delenv("PULSE_SECRET_KEY", raising=False)
    with pytest.raises(ConfigError, match="PULSE_SECRET_KEY"):
        load_settings()
    monkeypatch.setenv("PULSE_SECRET_KEY", "Zq8r3VxK1mTa9wLp0YcN4eHs7uJd2fGb6oRi5kW")
    assert load_settings().secret_keys()[0] == "Zq8r3VxK1mTa9wLp0YcN4eHs7uJd2fGb6oRi5kW"
