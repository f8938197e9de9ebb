"""Issue 21 item 7: a newcomer's first steps, from the README to the first send."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from pipeline.content import queue
from pipeline.content.models import SalaryPoint
from pipeline.issues.assemble import checked_preheader
from pipeline.issues.markdown import markdown_to_text
from pipeline.web.app import create_app
from pipeline.wiring import Pulse
from pipeline.workflow import weekly
from subscribers.models import Subscriber
from tests.conftest import Cli
from tests.scheduler.conftest import WEEK, seed

ROOT = Path(__file__).resolve().parent.parent
EVENTS = ROOT / "tests" / "events" / "fixtures"


def test_readme_quick_start_says_how_to_run_pulse_and_what_next() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    quick = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    assert ". .venv/bin/activate" in quick and ".venv/bin/pulse" in quick
    assert "Next steps" in quick and "pulse serve" in quick and "pulse editors add" in quick


def test_demo_prints_next_steps_and_says_already_sent_when_run_again(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PULSE_POSTAL_ADDRESS")
    first = cli("demo", "--subscribers", "3")
    assert first.exit_code == 0, first.stderr
    assert "Next steps:" in first.stdout and "pulse serve" in first.stdout
    again = cli("demo", "--subscribers", "3")
    assert again.exit_code == 0, again.stderr
    assert "already sent" in again.stdout
    assert not re.search(r"recipients\s*│\s*0\s", again.stdout)
    # After the demo, the postal address complaint says what to set.
    lint = cli("issue", "lint")
    assert "set PULSE_POSTAL_ADDRESS to your mailing address" in lint.stdout


def test_subscriber_import_accepts_excels_bom_and_a_first_name_column(
    cli: Cli, pulse: Pulse, tmp_path: Path
) -> None:
    path = tmp_path / "excel.csv"
    path.write_bytes("\ufeffE-mail,First Name\r\nzoe@example.com,Zoë\r\n".encode())
    done = cli("subscribers", "import", str(path), "--consent", "imported from the old list")
    assert done.exit_code == 0, done.stderr
    with pulse.db.sessions() as session:
        person = session.scalars(select(Subscriber)).one()
    assert person.email == "zoe@example.com" and person.first_name == "Zoë"


def test_salary_import_accepts_excels_bom_and_spreadsheet_headers(
    cli: Cli, pulse: Pulse, tmp_path: Path
) -> None:
    path = tmp_path / "salaries.csv"
    header = "Role,Level,Currency,Low,High,Region,Source,Sample Size,As Of"
    row = "AI Sales Engineer,Senior,USD,180000,240000,US,Survey,40,2026-11-01"
    path.write_bytes(f"\ufeff{header}\r\n{row}\r\n".encode())
    done = cli("salary", "import", str(path))
    assert done.exit_code == 0, done.stderr
    with pulse.db.sessions() as session:
        assert session.scalars(select(SalaryPoint.role)).one() == "AI Sales Engineer"


def test_events_import_refuses_another_providers_file(cli: Cli) -> None:
    postmark = EVENTS / "postmark" / "hard_bounce.json"
    refused = cli("events", "import", "sendgrid", str(postmark))
    assert refused.exit_code == 1
    assert "nothing in hard_bounce.json reads as a sendgrid event" in refused.stderr
    assert "postmark" in refused.stderr and "Nothing was imported" in refused.stderr
    assert cli("events", "import", "postmark", str(postmark)).exit_code == 0


@pytest.mark.parametrize(
    "command", [[], ["issue", "send"], ["demo"], ["salary", "add"], ["jobs", "edit"]]
)
def test_help_shows_flags_plainly_with_examples(cli: Cli, command: list[str]) -> None:
    shown = cli(*command, "--help")
    assert shown.exit_code == 0
    assert "<bool>" not in shown.stdout and "--help " in shown.stdout
    assert "Example" in shown.stdout


def test_errors_name_the_flag_and_echo_the_value(cli: Cli) -> None:
    bad = cli(
        "salary", "add", "--role", "r", "--level", "l", "--low", "1", "--high", "2",
        "--source", "s", "--sample-size", "many", "--as-of", "2026-11-01",
    )  # fmt: skip
    assert bad.exit_code == 1
    assert bad.stderr.strip() == "error: --sample-size: 'many' is not a whole number"
    url = cli(
        "jobs", "add", "--company", "a", "--title", "t", "--location", "l", "--url", "ftp://x"
    )
    assert "--url: 'ftp://x'" in url.stderr


def test_public_pages_answer_unknown_urls_with_an_html_404(pulse: Pulse) -> None:
    client = TestClient(create_app(pulse))
    for path in ("/no-such-page", "/issues/2026-W01/nothing", "/u"):
        page = client.get(path, headers={"accept": "*/*"})
        assert page.status_code == 404, path
        assert page.headers["content-type"].startswith("text/html")
        assert "Page not found" in page.text or "not found" in page.text.lower()
    api = client.get("/api/v1/nothing")
    assert api.status_code == 404 and api.headers["content-type"] == "application/json"


def test_landing_page_has_a_privacy_notice(pulse: Pulse) -> None:
    page = TestClient(create_app(pulse)).get("/", headers={"accept": "text/html"})
    assert 'id="privacy"' in page.text and "delete everything we hold" in page.text


def test_archive_title_does_not_repeat_the_issue_number(pulse: Pulse) -> None:
    seed(pulse, readers=2)
    weekly.build_week(pulse, WEEK)
    weekly.send_week(pulse, WEEK)
    client = TestClient(create_app(pulse))
    archive = client.get("/issues").text
    entry = re.search(r'<li><a href="[^"]+">([^<]+)</a>', archive)
    assert entry is not None and entry.group(1).count("#1") == 1
    page = client.get(f"/issues/{WEEK}").text
    title = re.search(r"<title>([^<]+)</title>", page)
    h1 = re.search(r"<h1>([^<]+)</h1>", page)
    assert title is not None and title.group(1).count("#1") == 1
    assert h1 is not None and "#1" not in h1.group(1)


def test_default_preheader_is_plain_text_not_markdown(pulse: Pulse) -> None:
    body = "**Pay** is [up 3%](https://x.example/a) — see `notes`.\n\n- first\n- second"
    preheader = checked_preheader(None, markdown_to_text(body))
    assert preheader == "Pay is up 3% — see notes. first second"
    seed(pulse)
    from pulse_core.database import transaction

    with transaction(pulse.db.sessions) as session:
        queue.add_snippet(
            session, section="editors-note", title="Lead", body=body, target_week=WEEK, position=-1
        )
    built = weekly.build_week(pulse, WEEK).issue
    assert not any(mark in built.preheader for mark in ("**", "](", "`", "- "))
