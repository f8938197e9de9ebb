"""One logging configuration for every command: JSON when asked, redacted, extras kept."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.logs import (
    REDACTION_PATTERNS,
    JsonFormatter,
    TextFormatter,
    configure_logging,
    redact,
)
from tests.conftest import Cli

TOKEN = "WzEsImFpc2UtcHVsc2UtYnJpZWYubG9jYWxob3N0Il0.Zm9vYmFyYmF6"


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def record(message: str, *args: object, name: str = "pipeline.test", **extra: object) -> str:
    entry = logging.LogRecord(name, logging.INFO, __file__, 1, message, args or None, None)
    for key, value in extra.items():
        setattr(entry, key, value)
    return JsonFormatter().format(entry)


def test_extra_fields_are_kept_as_keys_and_redacted() -> None:
    line = record(
        "batch sent",
        week="2026-W48",
        sent=40,
        link=f"https://news.example.com/u/{TOKEN}",
        api_token="abc123-secret",
    )
    entry = json.loads(line)
    assert entry["week"] == "2026-W48" and entry["sent"] == 40
    assert entry["link"] == "https://news.example.com/u/[token]"
    assert entry["api_token"] == "[redacted]"
    assert TOKEN not in line and "abc123-secret" not in line


def test_uvicorn_access_lines_become_fields_without_the_token() -> None:
    line = record(
        '%s - "%s %s HTTP/%s" %d',
        "127.0.0.1:5000",
        "GET",
        f"/confirm/{TOKEN}?x=1",
        "1.1",
        200,
        name="uvicorn.access",
    )
    entry = json.loads(line)
    assert entry["method"] == "GET" and entry["status"] == 200
    assert entry["path"] == "/confirm/[token]?x=1"
    assert TOKEN not in line


def test_text_lines_carry_extras_and_are_redacted() -> None:
    entry = logging.LogRecord("x", logging.WARNING, __file__, 1, "Authorization: Bearer s3cr3t",
                              None, None)
    entry.week = "2026-W48"
    line = TextFormatter().format(entry)
    assert "s3cr3t" not in line and "week=2026-W48" in line


def test_the_pattern_list_is_a_plain_list_of_pairs() -> None:
    # Other modules extend it (capability-token URLs): it must stay a list of (regex, text).
    assert isinstance(REDACTION_PATTERNS, list)
    assert all(hasattr(p, "sub") and isinstance(r, str) for p, r in REDACTION_PATTERNS)


@given(st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-.",
               min_size=16, max_size=200),
       st.sampled_from(["u", "confirm", "preferences"]),
       st.text(max_size=40))
def test_no_token_survives_whatever_surrounds_it(token: str, route: str, around: str) -> None:
    message = f"{around} GET /{route}/{token} {around}"
    assert f"/{route}/{token}" not in redact(message)


def test_every_cli_command_logs_json_when_asked(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PULSE_LOG_FORMAT", "json")
    result = cli("demo", "--subscribers", "5")
    assert result.exit_code == 0, result.stderr
    result = cli("worker", "--exit-when-idle", "--poll", "0.1")
    assert result.exit_code == 0, result.stderr
    logging.getLogger("pipeline.delivery.engine").warning("token=abc %s", "x", extra={"n": 1})
    root = logging.getLogger()
    ours = [h for h in root.handlers if getattr(h, "_pulse", False)]
    assert len(ours) == 1 and isinstance(ours[0].formatter, JsonFormatter)
    for line in result.stderr.splitlines():
        json.loads(line)  # nothing but JSON objects on stderr


def test_configuring_twice_keeps_one_handler() -> None:
    configure_logging("text")
    configure_logging("json")
    ours = [h for h in logging.getLogger().handlers if getattr(h, "_pulse", False)]
    assert len(ours) == 1
    assert logging.getLogger("uvicorn.access").propagate
    assert not logging.getLogger("uvicorn.access").handlers
