"""The demo issue as SpamAssassin scores it: no rule may count against it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pipeline.deliverability import spam
from pipeline.deliverability.spam import SpamCheckError, parse_report, score_message
from tests.conftest import Cli, Workspace

# CI installs Debian's spamassassin (.ci/run) and sets this, so the check cannot go quiet there.
REQUIRED = os.environ.get("PULSE_TEST_REQUIRE_SPAMASSASSIN") == "1"
needs_spamassassin = pytest.mark.skipif(
    spam.spamassassin_path() is None and not REQUIRED, reason="spamassassin is not installed"
)

# What `spamassassin -L -t` said about the demo issue before the fix (SpamAssassin 4.0).
BEFORE = """\
Content analysis details:   (2.7 points, 5.0 required)

 pts rule name              description
---- ---------------------- --------------------------------------------------
-0.0 NO_RECEIVED            Informational: message has no Received headers
-0.0 NO_RELAYS              Informational: message was not relayed via SMTP
 0.7 HTML_FONT_LOW_CONTRAST BODY: HTML font color similar or identical to
                            background
 0.0 HTML_MESSAGE           BODY: HTML included in message
 0.0 MIME_QP_LONG_LINE      RAW: Quoted-printable line longer than 76 chars
 1.0 LONG_INVISIBLE_TEXT    Long block of hidden text - bayes poison?
 1.0 LONGLN_LOW_CONTRAST    Excessively long line + hidden text

"""


@pytest.fixture
def https_list(workspace: Workspace, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    monkeypatch.setenv("PULSE_BASE_URL", "https://news.example.com")
    monkeypatch.setenv("PULSE_SECRET_KEY", "Zr4uQ8vNf2LwX9pE7kT1yB6mH3sJ0cDgVqAiWoRn5eYt")
    monkeypatch.setenv("PULSE_FROM", "AISE Pulse Brief <pulse@news.example.com>")
    return workspace


def test_report_table_is_parsed_with_wrapped_descriptions() -> None:
    report = parse_report("From: x\n\n" + BEFORE)
    assert report.score == 2.7
    assert [r.name for r in report.positive] == [
        "HTML_FONT_LOW_CONTRAST",
        "LONG_INVISIBLE_TEXT",
        "LONGLN_LOW_CONTRAST",
    ]
    assert report.rules[2].description.endswith("identical to background")


def test_output_without_a_report_is_an_error() -> None:
    with pytest.raises(SpamCheckError, match="no 'Content analysis details'"):
        parse_report("spamassassin: config error\n")


@needs_spamassassin
def test_demo_issue_scores_no_positive_points(https_list: Workspace, cli: Cli) -> None:
    assert cli("demo", "--subscribers", "3").exit_code == 0
    message = next(Path(https_list.outbox).glob("*/*.eml"))
    report = score_message(message.read_bytes())
    assert report is not None
    assert report.positive == (), [f"{r.name} {r.points}" for r in report.positive]
    assert report.score <= 0


@needs_spamassassin
def test_lint_spam_shows_every_rule_and_passes(https_list: Workspace, cli: Cli) -> None:
    assert cli("demo", "--subscribers", "1", "--no-send").exit_code == 0
    result = cli("issue", "lint", "--spam")
    assert result.exit_code == 0, result.stdout
    assert "SpamAssassin score" in result.stdout
    assert "HTML_MESSAGE" in result.stdout  # a 0-point rule is still shown


def test_lint_spam_fails_on_a_positive_rule(
    https_list: Workspace, cli: Cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    fake = tmp_path / "spamassassin"
    fake.write_text(f"#!/bin/sh\ncat >/dev/null\ncat <<'EOF'\n{BEFORE}EOF\n")
    fake.chmod(0o755)
    monkeypatch.setattr(spam, "spamassassin_path", lambda: str(fake))
    assert cli("demo", "--subscribers", "1", "--no-send").exit_code == 0
    result = cli("issue", "lint", "--spam")
    assert result.exit_code == 1
    assert "LONG_INVISIBLE_TEXT" in result.stdout and "SpamAssassin score 2.7" in result.stdout


def test_lint_spam_skips_with_a_note_without_spamassassin(
    https_list: Workspace, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(spam, "spamassassin_path", lambda: None)
    assert cli("demo", "--subscribers", "1", "--no-send").exit_code == 0
    result = cli("issue", "lint", "--spam")
    assert result.exit_code == 0
    assert "spam check skipped: SpamAssassin is not installed" in result.stdout
