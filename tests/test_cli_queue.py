"""The editors' queue and subscriber list on the command line."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from pipeline.content.models import SalaryPoint, Snippet
from pipeline.wiring import Pulse
from subscribers.models import Subscriber
from tests.conftest import Cli

SALARY_HEADER = "role,level,currency,low,high,region,source,sample_size,as_of\n"


def count(pulse: Pulse, model: type[SalaryPoint] | type[Subscriber]) -> int:
    with pulse.db.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_unknown_section_lists_the_valid_ones(cli: Cli) -> None:
    result = cli("content", "add", "--section", "gossip", "--title", "Hi")
    assert result.exit_code == 1
    assert "section" in result.stderr
    assert "editors-note" in result.stderr and "quick-links" in result.stderr


def test_content_add_and_list(cli: Cli) -> None:
    added = cli(
        "content",
        "add",
        "--section",
        "role-insights",
        "--title",
        "Demo code is not prod code",
        "--body",
        "Notebooks and **POC apps**.",
        "--week",
        "2026-W48",
    )
    assert added.exit_code == 0, added.stderr
    listed = cli("content", "list")
    assert "Demo code is not prod code" in listed.stdout


def test_cli_snippets_get_the_desks_control_character_check_and_positions(
    cli: Cli, pulse: Pulse
) -> None:
    refused = cli("content", "add", "--section", "quick-links", "--title", "T", "--body", "a\x01b")
    assert refused.exit_code == 1 and "body: must not contain control characters" in refused.stderr
    for title in ("First", "Second"):
        assert cli("content", "add", "--section", "quick-links", "--title", title).exit_code == 0
    assert cli("content", "add", "--section", "role-insights", "--title", "Own").exit_code == 0
    with pulse.db.sessions() as session:
        positions = session.execute(select(Snippet.title, Snippet.position)).all()
    assert sorted(positions) == [("First", 0), ("Own", 0), ("Second", 1)]  # each at the end


def test_bad_link_and_week_are_named(cli: Cli) -> None:
    bad_link = cli(
        "content",
        "add",
        "--section",
        "quick-links",
        "--title",
        "x",
        "--link",
        "javascript:alert(1)",
    )
    assert bad_link.exit_code == 1 and "link" in bad_link.stderr
    bad_week = cli(
        "content", "add", "--section", "quick-links", "--title", "x", "--week", "2026-W60"
    )
    # The flag the user typed and the value, not the internal field name (issue 21).
    assert bad_week.exit_code == 1 and "--week: '2026-W60'" in bad_week.stderr
    assert "target_week" not in bad_week.stderr


def test_salary_import_is_all_or_nothing(cli: Cli, pulse: Pulse, tmp_path: Path) -> None:
    path = tmp_path / "salaries.csv"
    path.write_text(
        SALARY_HEADER
        + "AI Sales Engineer,Senior,USD,220000,285000,US,Survey,40,2026-11-20\n"
        + "ML Engineer,Senior,USD,230000,280000,US,Survey,35,2026-11-20\n"
        + "ML Engineer,Staff,USD,350000,270000,US,Survey,12,2026-11-20\n",
        encoding="utf-8",
    )
    result = cli("salary", "import", str(path))
    assert result.exit_code == 1
    assert "line 4" in result.stderr and "high" in result.stderr
    assert count(pulse, SalaryPoint) == 0

    path.write_text(
        SALARY_HEADER + "AI Sales Engineer,Senior,USD,220000,285000,US,Survey,40,2026-11-20\n",
        encoding="utf-8",
    )
    assert cli("salary", "import", str(path)).exit_code == 0
    assert count(pulse, SalaryPoint) == 1


def test_salary_import_names_a_missing_column(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "salaries.csv"
    path.write_text("role,level\nAI SE,Senior\n", encoding="utf-8")
    result = cli("salary", "import", str(path))
    assert result.exit_code == 1 and "line 1" in result.stderr and "currency" in result.stderr


def test_subscriber_import_rolls_back_on_a_bad_line(cli: Cli, pulse: Pulse, tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    path.write_text(
        "email,first_name\nana@example.com,Ana\nBen@Example.com,Ben\nnot-an-address,Cy\n",
        encoding="utf-8",
    )
    result = cli("subscribers", "import", str(path), "--consent", "Signed up at a meetup")
    assert result.exit_code == 1
    assert "line 4" in result.stderr and "email" in result.stderr
    assert count(pulse, Subscriber) == 0


def test_subscriber_email_is_unique_case_insensitively(
    cli: Cli, pulse: Pulse, tmp_path: Path
) -> None:
    path = tmp_path / "people.csv"
    path.write_text("email\nana@example.com\nANA@example.com\nben@example.com\n", encoding="utf-8")
    result = cli("subscribers", "import", str(path), "--consent", "Signed up at a meetup")
    assert result.exit_code == 0, result.stderr
    assert "imported 2 new" in result.stdout
    again = cli("subscribers", "add", "Ben@Example.COM", "--consent", "Signed up at a meetup")
    assert "already present" in again.stdout
    assert count(pulse, Subscriber) == 2
    listed = cli("subscribers", "list")
    assert "ana@example.com" in listed.stdout


def test_bad_email_is_named(cli: Cli) -> None:
    result = cli("subscribers", "add", "nobody@", "--consent", "x")
    assert result.exit_code == 1 and result.stderr.startswith("error: email:")


def test_job_listing_url_is_listed_once(cli: Cli) -> None:
    args = (
        "jobs",
        "add",
        "--company",
        "Contoso",
        "--title",
        "SE",
        "--location",
        "Remote",
        "--url",
        "https://jobs.example.com/1",
    )
    assert cli(*args).exit_code == 0
    again = cli(*args)
    assert again.exit_code == 1 and "url" in again.stderr
    assert "Contoso" in cli("jobs", "list").stdout
