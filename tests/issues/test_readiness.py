"""Readiness report, `pulse issue check|lint|build`, send refusal, comparisons CLI, the demo."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from pipeline.config import load_settings
from pipeline.content import queue
from pipeline.content.models import Section
from pipeline.demo.seed import seed_week
from pipeline.errors import IssueError
from pipeline.issues.readiness import check_readiness
from pipeline.stage_configs import readiness_config
from pipeline.weeks import week_monday
from pipeline.wiring import Pulse
from pipeline.workflow import weekly
from pulse_core.database import transaction
from tests.conftest import Cli, Workspace
from tests.harness.seed import seed_week_of

WEEK = "2026-W48"
NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)


def seed(pulse: Pulse, readers: int = 2) -> None:
    seed_week_of(pulse, readers, WEEK)


def test_empty_queue_reports_what_each_section_lacks(pulse: Pulse) -> None:
    with pulse.db.sessions() as session:
        report = check_readiness(
            session, week=WEEK, config=readiness_config(pulse.settings, pulse.footer), now=NOW
        )
    assert not report.ready
    missing = {s.section: s.missing for s in report.sections}
    assert missing == {
        Section.EDITORS_NOTE: 1,
        Section.SALARY_PULSE: 1,
        Section.WHOS_HIRING: 1,
        Section.ROLE_INSIGHTS: 1,
        Section.QUICK_LINKS: 0,
    }
    assert "no salary data recorded yet" in report.problems
    text = report.as_text()
    assert "Issue 2026-W48: NOT ready" in text and "add with: pulse jobs add" in text


def test_seeded_week_is_ready_and_building_keeps_it_so(pulse: Pulse) -> None:
    seed(pulse)
    with pulse.db.sessions() as session:
        before = check_readiness(
            session, week=WEEK, config=readiness_config(pulse.settings, pulse.footer), now=NOW
        )
    assert before.ready, before.as_text()
    weekly.build_week(pulse, WEEK)
    with pulse.db.sessions() as session:
        after = check_readiness(
            session, week=WEEK, config=readiness_config(pulse.settings, pulse.footer), now=NOW
        )
    assert after.ready and after.sections == before.sections


def test_stale_salary_data_is_a_problem(pulse: Pulse) -> None:
    seed(pulse)
    later = datetime(2027, 3, 1, tzinfo=UTC)
    with pulse.db.sessions() as session:
        report = check_readiness(
            session, week=WEEK, config=readiness_config(pulse.settings, pulse.footer), now=later
        )
    assert any(p.startswith("salary data is stale") for p in report.problems)
    lenient = load_settings(salary_stale_days=365)
    with pulse.db.sessions() as session:
        report = check_readiness(
            session, week=WEEK, config=readiness_config(lenient, pulse.footer), now=later
        )
    assert not any("stale" in p for p in report.problems)


def test_mixed_currencies_block_readiness_with_a_clear_problem(pulse: Pulse) -> None:
    seed(pulse)
    with transaction(pulse.db.sessions) as session:
        data = queue.SalaryInput(
            "ML Engineer", "Senior", "EUR", 1, 2, "US", "x", 10, date(2026, 11, 23)
        )
        queue.add_salary_point(session, data)
    with pulse.db.sessions() as session:
        report = check_readiness(
            session, week=WEEK, config=readiness_config(pulse.settings, pulse.footer), now=NOW
        )
    assert not report.ready
    assert any("ML Engineer / Senior mixes currencies (EUR, USD)" in p for p in report.problems)


def test_check_command_exits_non_zero_until_ready(cli: Cli, pulse: Pulse) -> None:
    # `check` judges staleness against the clock, so this test works on the current week.
    week = weekly.resolve_week(pulse, None)
    empty = cli("issue", "check")
    assert empty.exit_code == 1 and "Who's Hiring" in empty.stdout
    with transaction(pulse.db.sessions) as session:
        seed_week(session, week_monday(week), 1)
    ready = cli("issue", "check")
    assert ready.exit_code == 0, ready.stdout
    assert f"Issue {week}: ready" in ready.stdout


def test_build_runs_lint_and_send_refuses_a_failing_issue(
    cli: Cli, pulse: Pulse, workspace: Workspace
) -> None:
    seed(pulse)
    with transaction(pulse.db.sessions) as session:
        queue.add_snippet(
            session, section="quick-links", title="Old link", link="http://plain.example.com/"
        )
    built = cli("issue", "build", "--week", WEEK)
    assert built.exit_code == 1
    assert "link is not an absolute https URL: http://plain.example.com/" in built.stdout
    assert cli("issue", "lint", "--week", WEEK).exit_code == 1
    refused = cli("issue", "send", "--week", WEEK)
    assert refused.exit_code == 1 and "fails lint, not sending" in refused.stderr
    assert not workspace.outbox.exists() or not any(workspace.outbox.rglob("*.eml"))
    with pytest.raises(IssueError, match="fails lint"):
        weekly.send_week(pulse, WEEK)


def test_clean_issue_builds_lints_and_sends(cli: Cli, pulse: Pulse) -> None:
    seed(pulse, readers=3)
    built = cli("issue", "build", "--week", WEEK, "--subject", "Pay holds steady")
    assert built.exit_code == 0 and "lint clean" in built.stdout
    assert cli("issue", "lint", "--week", WEEK).exit_code == 0
    assert "sent 3" in cli("issue", "send", "--week", WEEK).stdout


def test_comparison_commands_maintain_the_tables(cli: Cli, pulse: Pulse) -> None:
    args = ["--title", "AI SE by level", "--level", "Senior", "--column", "AI Sales Engineer=AI SE"]
    empty = cli("salary", "comparison", "set", "se-only", *args)
    assert empty.exit_code == 1 and "no salary data points fit" in empty.stderr
    added = cli(
        "salary", "add", "--role", "AI Sales Engineer", "--level", "Senior", "--low", "1",
        "--high", "2", "--source", "s", "--sample-size", "3", "--as-of", "2026-11-01",
    )  # fmt: skip
    assert added.exit_code == 0, added.stderr
    typo = cli("salary", "comparison", "set", "t", *args, "--column", "ML Enginer=MLE")
    assert typo.exit_code == 1 and "no salary data points for role(s) 'ML Enginer'" in typo.stderr
    assert "'AI Sales Engineer'" in typo.stderr  # the names the data does use
    result = cli(
        "salary",
        "comparison",
        "set",
        "se-only",
        "--title",
        "AI SE by level",
        "--level",
        "Senior",
        "--level",
        "Staff",
        "--column",
        "AI Sales Engineer=AI SE",
    )
    assert result.exit_code == 0, result.stderr
    assert "se-only" in cli("salary", "comparison", "list").stdout
    bad = cli(
        "salary", "comparison", "set", "x", "--title", "t", "--level", "a", "--column", "nope"
    )
    assert (
        bad.exit_code == 1 and "column: 'nope' must look like 'ROLE=Column heading'" in bad.stderr
    )
    assert cli("salary", "comparison", "remove", "se-only").exit_code == 0
    missing = cli("salary", "comparison", "remove", "se-only")
    assert missing.exit_code == 1 and "no salary comparison" in missing.stderr


def test_demo_without_a_postal_address_still_sends_a_lint_clean_issue(
    cli: Cli, workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PULSE_POSTAL_ADDRESS")
    result = cli("demo", "--subscribers", "3")
    assert result.exit_code == 0, result.stderr
    assert len(list(workspace.outbox.rglob("*.eml"))) == 3
    html = next(workspace.outbox.rglob("*.eml")).read_text()
    assert "AISE Pulse Brief (demo), 100 Example Street" in html
    # Outside the demo the placeholder still fails lint.
    lint = cli("issue", "lint")
    assert lint.exit_code == 1 and "postal address is the placeholder" in lint.stdout


def test_preview_without_chromium_writes_files_and_says_why_no_screenshots(
    cli: Cli, pulse: Pulse, workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PULSE_CHROMIUM_PATH", str(workspace.root / "no-such-browser"))
    seed(pulse)
    weekly.build_week(pulse, WEEK)
    out = workspace.root / "preview"
    result = cli("issue", "preview", "--week", WEEK, "--out", str(out))
    assert result.exit_code == 0
    assert "screenshots skipped: no Chromium at" in result.stdout
    assert (out / "issue.html").exists() and not list(out.glob("*.png"))
