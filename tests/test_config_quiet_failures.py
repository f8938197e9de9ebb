"""Issue 21 item 6: configuration that used to fail quietly now stops with one line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.config import load_settings, secret_key_weakness, setting_names
from pipeline.errors import ConfigError
from tests.conftest import Cli, Workspace

EXAMPLE_KEY = next(
    line.split("=", 1)[1].strip()
    for line in (Path(__file__).parent.parent / "deploy" / "pulse.env.example")
    .read_text()
    .splitlines()
    if line.startswith("PULSE_SECRET_KEY=")
)
STRONG_KEY = "q8Zr3VxK1mTa9wLp0YcN4eHs7uJd2fGb6oRi5kWz"


def test_a_misspelled_name_is_refused_naming_the_closest_valid_one(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PULSE_PROVDER", "postmark")
    with pytest.raises(ConfigError, match=r"PULSE_PROVDER .* did you mean PULSE_PROVIDER"):
        load_settings()
    result = cli("issue", "send")
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and "did you mean PULSE_PROVIDER?" in result.stderr


def test_a_misspelled_name_in_the_env_file_is_refused_too(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    (workspace.root / ".env").write_text("PULSE_SHEDULE=wed 10:00\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"PULSE_SHEDULE \(in the .env file\).*PULSE_SCHEDULE"):
        load_settings()


def test_every_documented_setting_is_a_valid_name() -> None:
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    assert "PULSE_PROVIDER" in setting_names() and "PULSE_FROM" in setting_names()
    for name in ("PULSE_DATABASE_URL", "PULSE_SECRET_KEY", "PULSE_CATCH_UP_GRACE_HOURS"):
        assert name in readme and name in setting_names()


@pytest.mark.parametrize(
    "key", [EXAMPLE_KEY, "abcde", "x" * 40, "my-example-key-0123456789-abcdefghijkl"]
)
def test_weak_or_example_secret_keys_are_refused_for_a_public_site(
    monkeypatch: pytest.MonkeyPatch, key: str
) -> None:
    monkeypatch.setenv("PULSE_BASE_URL", "https://pulse.example.org")
    monkeypatch.setenv("PULSE_SECRET_KEY", key)
    with pytest.raises(ConfigError, match=r"^PULSE_SECRET_KEY"):
        load_settings()
    assert secret_key_weakness(key)


def test_a_strong_key_is_accepted_and_local_sites_may_use_any(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PULSE_BASE_URL", "https://pulse.example.org")
    monkeypatch.setenv("PULSE_SECRET_KEY", STRONG_KEY)
    assert load_settings().base_url == "https://pulse.example.org"
    monkeypatch.setenv("PULSE_BASE_URL", "http://127.0.0.1:8000")
    monkeypatch.setenv("PULSE_SECRET_KEY", "abcde")
    load_settings()


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("nonsense", "is not a database URL"),
        ("postgres://pulse@127.0.0.1/pulse", "unknown database 'postgres'"),
        ("mysql://a@b/c", "driver for 'mysql' is not installed"),
        ("postgresql+psycopg://nobody@127.0.0.1:1/none", "cannot use the database"),
    ],
)
def test_a_bad_database_url_is_one_line_and_exit_2(
    workspace: Workspace, url: str, says: str
) -> None:
    env = {**os.environ, **workspace.env, "PULSE_DATABASE_URL": url}
    done = subprocess.run(
        [sys.executable, "-c", "from pipeline.cli import main; main()", "status"],
        env=env, cwd=workspace.root, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("error: PULSE_DATABASE_URL: ") and says in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr


@pytest.mark.parametrize("command", ["serve", "scheduler"])
def test_a_missing_provider_credential_stops_serve_and_scheduler(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    monkeypatch.setenv("PULSE_PROVIDER", "postmark")
    monkeypatch.delenv("PULSE_POSTMARK_TOKEN", raising=False)
    result = cli(command)
    assert result.exit_code == 2
    assert "PULSE_POSTMARK_TOKEN is required when PULSE_PROVIDER=postmark" in result.stderr
