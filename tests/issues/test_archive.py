"""The public archive: pages, Atom feed and salary downloads of issues whose send began."""

from __future__ import annotations

import csv
import io
import re
import xml.etree.ElementTree as ET

from fastapi.testclient import TestClient

from pipeline.content import queue
from pipeline.demo.seed import seed_week
from pipeline.web.app import create_app
from pipeline.weeks import week_monday
from pipeline.wiring import Pulse
from pipeline.workflow import weekly
from pulse_core.database import transaction
from tests.conftest import MakePulse, Workspace
from tests.issues.test_render_properties import markup_of

WEEK = "2026-W48"
ATOM = "{http://www.w3.org/2005/Atom}"


def sent_issue(pulse: Pulse, readers: int = 2) -> None:
    with transaction(pulse.db.sessions) as session:
        seed_week(session, week_monday(WEEK), readers)
        queue.add_snippet(
            session,
            section="quick-links",
            title="<script>alert('title')</script>",
            body='<img src=x onerror="alert(1)"> [click](javascript:alert(2))',
        )
    weekly.build_week(pulse, WEEK)
    weekly.send_week(pulse, WEEK)


def test_unsent_issues_are_not_published(pulse: Pulse) -> None:
    with transaction(pulse.db.sessions) as session:
        seed_week(session, week_monday(WEEK), 1)
    weekly.build_week(pulse, WEEK)
    client = TestClient(create_app(pulse))
    assert "No issue has been sent yet" in client.get("/issues").text
    for path in (f"/issues/{WEEK}", f"/issues/{WEEK}/salaries.csv", "/issues/nonsense"):
        response = client.get(path)
        assert response.status_code == 404 and "Issue not found" in response.text


def test_web_version_shows_the_issue_without_subscriber_data(pulse: Pulse) -> None:
    sent_issue(pulse)
    client = TestClient(create_app(pulse))
    archive = client.get("/issues")
    assert (
        archive.status_code == 200 and f'href="http://127.0.0.1:8000/issues/{WEEK}"' in archive.text
    )
    page = client.get(f"/issues/{WEEK}").text
    assert "Total compensation by level" in page and "Northwind Labs" in page
    assert '<form method="post" action="http://127.0.0.1:8000/subscribe">' in page
    assert "/u/" not in page and "/preferences/" not in page and "%%pulse" not in page
    assert "Hi " not in page  # no greeting, no first name


def test_signup_form_under_the_web_version_works_first_time(
    pulse: Pulse, make_pulse: MakePulse, workspace: Workspace
) -> None:
    sent_issue(pulse)
    fresh = make_pulse(signup_min_fill_seconds=0)  # a second process over the same database
    client = TestClient(create_app(fresh))
    page = client.get(f"/issues/{WEEK}").text
    token = re.search(r'name="form_token" value="([^"]+)"', page)
    assert token is not None
    response = client.post(
        "/subscribe",
        data={
            "email": "archive-reader@example.com",
            "first_name": "",
            "website": "",
            "form_token": token.group(1),
        },
    )
    assert response.status_code == 200 and "inbox" in response.text
    assert len(list((workspace.outbox / "transactional").glob("*.eml"))) == 1  # the confirmation


def test_editor_markup_is_inert_on_the_web(pulse: Pulse) -> None:
    sent_issue(pulse)
    page = TestClient(create_app(pulse)).get(f"/issues/{WEEK}").text
    assert "&lt;script&gt;alert(&#39;title&#39;)&lt;/script&gt;" in page
    found = markup_of(page)
    assert found.bad == []  # no on* attributes, no javascript: links
    assert "script" not in found.tags and "img" not in found.tags


def test_feed_is_atom_with_the_sent_issues(pulse: Pulse) -> None:
    sent_issue(pulse)
    response = TestClient(create_app(pulse)).get("/feed.xml")
    assert response.headers["content-type"].startswith("application/atom+xml")
    feed = ET.fromstring(response.content)  # noqa: S314 - our own output, under test
    assert feed.tag == f"{ATOM}feed"
    entries = feed.findall(f"{ATOM}entry")
    assert len(entries) == 1
    assert entries[0].findtext(f"{ATOM}id") == f"http://127.0.0.1:8000/issues/{WEEK}"
    assert entries[0].findtext(f"{ATOM}updated", "").endswith("Z")


def test_salary_tables_download_as_csv_and_json(pulse: Pulse) -> None:
    sent_issue(pulse)
    client = TestClient(create_app(pulse))
    rows = list(csv.DictReader(io.StringIO(client.get(f"/issues/{WEEK}/salaries.csv").text)))
    assert len(rows) == 6  # 3 levels × 2 roles
    mid_se = next(r for r in rows if r["level"] == "Mid-level" and r["role"] == "AI Sales Engineer")
    assert mid_se["column"] == "AI SE total comp" and mid_se["currency"] == "USD"
    assert int(mid_se["low"]) < int(mid_se["high"]) and mid_se["trend"].startswith("up ")
    data = client.get(f"/issues/{WEEK}/salaries.json").json()
    assert data["week"] == WEEK and data["tables"][0]["columns"][1] == "AI SE total comp"
    assert {c["status"] for c in data["cells"]} == {"shown"}
    assert data["tables"][0]["source"].startswith("Source: AISE Pulse Brief compensation survey")


def test_csv_cells_cannot_become_spreadsheet_formulas() -> None:
    from pipeline.web.archive import spreadsheet_safe

    assert spreadsheet_safe("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert spreadsheet_safe("Senior") == "Senior"
