"""The content queue pages: snippets with Markdown preview, salary form and CSV, jobs."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from pipeline.content.models import JobListing, SalaryPoint, Snippet, SnippetStatus
from pipeline.workflow.weekly import build_week
from pulse_core.database import transaction
from tests.admin.conftest import Desk, csrf_of

CSV_HEADER = "role,level,currency,low,high,region,source,sample_size,as_of\n"


def _count(desk: Desk, model: type) -> int:
    with transaction(desk.pulse.db.sessions) as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def _snippets(desk: Desk) -> list[Snippet]:
    with transaction(desk.pulse.db.sessions) as session:
        return list(session.scalars(select(Snippet).order_by(Snippet.id)))


def test_an_editor_queues_a_snippet_and_sees_it_listed(desk: Desk) -> None:
    client = desk.editor()
    form = {
        "csrf_token": csrf_of(client, "/admin/content"),
        "section": "role-insights",
        "title": "What a POC really costs",
        "body": "Scope it **tightly**.",
        "status": "ready",
    }
    response = client.post("/admin/content", data=form)
    assert response.status_code == 200
    assert "Queued “What a POC really costs”" in response.text
    [snippet] = _snippets(desk)
    assert snippet.section.value == "role-insights"
    assert snippet.body_md == "Scope it **tightly**."


def test_a_bad_snippet_names_the_field_and_is_not_queued(desk: Desk) -> None:
    client = desk.editor()
    csrf = csrf_of(client, "/admin/content")
    bad_link = {"csrf_token": csrf, "section": "quick-links", "title": "x", "link": "ftp://x"}
    response = client.post("/admin/content", data=bad_link)
    assert response.status_code == 400
    assert "link:" in response.text
    response = client.post("/admin/content", data={"csrf_token": csrf, "section": "nope"})
    assert response.status_code == 400
    assert "section:" in response.text
    assert _snippets(desk) == []


def test_markdown_preview_shows_the_sanitised_result(desk: Desk) -> None:
    client = desk.editor()
    csrf = csrf_of(client, "/admin/content")
    body = "Hello **there** <script>alert(1)</script> [x](javascript:alert(2))"
    live = client.post(
        "/admin/content/markdown-preview", data={"body": body}, headers={"X-CSRF-Token": csrf}
    )
    assert live.status_code == 200
    assert "<strong>there</strong>" in live.text
    assert "<script" not in live.text
    assert 'href="javascript' not in live.text
    no_js = client.post(
        "/admin/content",
        data={"csrf_token": csrf, "section": "quick-links", "title": "t", "body": body,
              "action": "preview"},
    )  # fmt: skip
    assert "<strong>there</strong>" in no_js.text
    assert "<script>alert" not in no_js.text
    assert _snippets(desk) == []  # previewing queues nothing


def test_snippets_are_edited_reordered_and_retired(desk: Desk) -> None:
    client = desk.editor()
    csrf = csrf_of(client, "/admin/content")
    for title in ("First", "Second", "Third"):
        client.post(
            "/admin/content",
            data={"csrf_token": csrf, "section": "quick-links", "title": title, "status": "ready"},
        )
    first, second, third = _snippets(desk)
    client.post(f"/admin/content/{third.id}/move", data={"csrf_token": csrf, "direction": "up"})
    order = sorted(_snippets(desk), key=lambda s: s.position)
    assert [s.title for s in order] == ["First", "Third", "Second"]

    edited = client.post(
        f"/admin/content/{first.id}/edit",
        data={"csrf_token": csrf, "section": "quick-links", "title": "First, edited",
              "body": "new", "link": "https://example.com/a", "status": "ready",
              "target_week": "2026-w48"},
    )  # fmt: skip
    assert edited.status_code == 200
    refused = client.post(
        f"/admin/content/{first.id}/edit",
        data={"csrf_token": csrf, "section": "quick-links", "title": "",
              "status": "ready"},
    )  # fmt: skip
    assert refused.status_code == 400
    assert "title: is required" in refused.text

    client.post(f"/admin/content/{second.id}/retire", data={"csrf_token": csrf})
    by_id = {s.id: s for s in _snippets(desk)}
    assert by_id[first.id].title == "First, edited"
    assert by_id[first.id].target_week == "2026-W48"
    assert by_id[second.id].retired_at is not None
    assert by_id[second.id].status is SnippetStatus.DRAFT
    page = client.get("/admin/content").text
    assert "retired" in page


def test_a_used_snippet_shows_its_issue_and_can_no_longer_change(desk: Desk) -> None:
    client = desk.editor()
    csrf = csrf_of(client, "/admin/content")
    client.post(
        "/admin/content",
        data={"csrf_token": csrf, "section": "quick-links", "title": "Used", "status": "ready"},
    )
    build_week(desk.pulse, "2026-W48")
    [snippet] = _snippets(desk)
    assert snippet.status is SnippetStatus.USED
    assert "2026-W48" in client.get("/admin/content").text
    response = client.post(f"/admin/content/{snippet.id}/retire", data={"csrf_token": csrf})
    assert response.status_code == 400
    assert "part of an issue" in response.text


def test_salary_form_adds_a_point_and_names_a_bad_field(desk: Desk) -> None:
    client = desk.editor()
    csrf = csrf_of(client, "/admin/salary")
    point = {"csrf_token": csrf, "role": "AI Sales Engineer", "level": "Senior",
             "currency": "usd", "low": "180,000", "high": "240000", "region": "US",
             "source": "Survey", "sample_size": "40", "as_of": "2026-11-01"}  # fmt: skip
    assert client.post("/admin/salary", data=point).status_code == 200
    bad = client.post("/admin/salary", data={**point, "high": "100"})
    assert bad.status_code == 400
    assert "high: 100 must not be below low (180,000)" in bad.text
    assert _count(desk, SalaryPoint) == 1


def test_salary_csv_upload_is_all_or_nothing_with_the_bad_line_named(desk: Desk) -> None:
    client = desk.editor()
    csrf = csrf_of(client, "/admin/salary")
    good = CSV_HEADER + "AI Sales Engineer,Senior,USD,180000,240000,US,Survey,40,2026-11-01\n"
    bad = good + "ML Engineer,Senior,USD,oops,250000,US,Survey,30,2026-11-01\n"
    response = client.post(
        "/admin/salary/import",
        data={"csrf_token": csrf},
        files={"file": ("points.csv", bad.encode(), "text/csv")},
    )
    assert response.status_code == 400
    assert "line 3: low:" in response.text
    assert "nothing was imported" in response.text
    assert _count(desk, SalaryPoint) == 0
    binary = client.post(
        "/admin/salary/import",
        data={"csrf_token": csrf},
        files={"file": ("points.csv", b"\xff\xfe\x00bad", "text/csv")},
    )
    assert binary.status_code == 400
    assert "not UTF-8" in binary.text
    ok = client.post(
        "/admin/salary/import",
        data={"csrf_token": csrf},
        files={"file": ("points.csv", good.encode(), "text/csv")},
    )
    assert ok.status_code == 200
    assert "Imported 1 salary data points" in ok.text
    assert _count(desk, SalaryPoint) == 1
    build_week(desk.pulse, "2026-W45")  # the point (as of 2026-11-01) is in its window
    build_week(desk.pulse, "2026-W40")  # ... but not in this one's
    assert "<td>2026-W45</td>\n" in client.get("/admin/salary").text


def test_jobs_are_added_and_duplicates_refused(desk: Desk) -> None:
    client = desk.editor()
    csrf = csrf_of(client, "/admin/jobs")
    job = {"csrf_token": csrf, "company": "Acme AI", "title": "Senior AI SE",
           "location": "Remote, US", "url": "https://acme.example/jobs/1",
           "comp_low": "180000", "comp_high": "230000", "currency": "USD",
           "expires_on": date.today().replace(year=date.today().year + 1).isoformat(),
           "remote": "on"}  # fmt: skip
    assert client.post("/admin/jobs", data=job).status_code == 200
    again = client.post("/admin/jobs", data=job)
    assert again.status_code == 400
    assert "url:" in again.text
    half = client.post(
        "/admin/jobs", data={**job, "url": "https://acme.example/2", "comp_high": ""}
    )
    assert half.status_code == 400
    assert "comp:" in half.text
    assert _count(desk, JobListing) == 1
    assert "Senior AI SE" in client.get("/admin/jobs").text
