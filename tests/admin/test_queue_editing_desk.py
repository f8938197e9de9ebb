"""Issue 21 item 3 on the desk: edit and remove points, jobs and comparisons; no 500s."""

from __future__ import annotations

from datetime import date

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from pipeline.content import queue
from pipeline.content.models import JobListing, SalaryPoint
from pipeline.issues.comparisons import SalaryComparison
from pipeline.wiring import Pulse
from pulse_core.database import transaction
from tests.admin.conftest import Desk, csrf_of
from tests.scheduler.conftest import WEEK, seed


def _euro_point(pulse: Pulse) -> int:
    with transaction(pulse.db.sessions) as session:
        data = queue.SalaryInput(
            "ML Engineer", "Senior", "EUR", 190_000, 250_000, "US", "Typo", 10, date(2026, 11, 23)
        )
        return queue.add_salary_point(session, data).id


def test_a_mixed_currency_issue_is_a_page_naming_the_point_then_fixed_on_the_desk(
    desk: Desk,
) -> None:
    seed(desk.pulse)
    bad = _euro_point(desk.pulse)
    client = desk.editor()
    preview = client.get("/admin/issue", params={"week": WEEK})
    assert preview.status_code == 409  # not a 500
    assert f"EUR: point {bad}" in preview.text and "Edit / Remove" in preview.text
    form = client.get(f"/admin/salary/{bad}/edit")
    assert form.status_code == 200 and 'value="EUR"' in form.text
    csrf = csrf_of(client, "/admin/salary")
    values = {
        "role": "ML Engineer", "level": "Senior", "currency": "EUR", "low": "190000",
        "high": "250000", "region": "US", "source": "Typo", "sample_size": "10",
        "as_of": "2026-11-23",
    }  # fmt: skip
    wrong = client.post(
        f"/admin/salary/{bad}/edit", data={**values, "csrf_token": csrf, "low": "x"}
    )
    assert wrong.status_code == 400 and "low:" in wrong.text and 'id="edit-error"' in wrong.text
    saved = client.post(
        f"/admin/salary/{bad}/edit", data={**values, "csrf_token": csrf, "currency": "USD"}
    )
    assert saved.status_code == 200 and f"Salary data point {bad} saved" in saved.text
    assert client.get("/admin/issue", params={"week": WEEK}).status_code == 200
    removed = client.post(f"/admin/salary/{bad}/remove", data={"csrf_token": csrf})
    assert removed.status_code == 200
    with desk.pulse.db.sessions() as session:
        assert session.get(SalaryPoint, bad) is None
    assert client.post("/admin/salary/999/remove", data={"csrf_token": csrf}).status_code == 404


def test_jobs_are_edited_and_removed_on_the_desk(desk: Desk) -> None:
    with transaction(desk.pulse.db.sessions) as session:
        job = queue.add_job(
            session, company="Acme", title="SE", location="NYC", url="https://acme.example/1"
        ).id
    client = desk.editor()
    csrf = csrf_of(client, "/admin/jobs")
    assert f'href="/admin/jobs/{job}/edit"' in client.get("/admin/jobs").text
    values = {"company": "Acme", "title": "Senior SE", "location": "NYC",
              "url": "https://acme.example/1", "currency": "USD", "csrf_token": csrf}  # fmt: skip
    half = client.post(f"/admin/jobs/{job}/edit", data={**values, "comp_low": "100"})
    assert half.status_code == 400 and "comp" in half.text
    ok = client.post(f"/admin/jobs/{job}/edit", data={**values, "remote": "on"})
    assert ok.status_code == 200 and f"Job listing {job} saved" in ok.text
    with desk.pulse.db.sessions() as session:
        listing = session.get(JobListing, job)
        assert listing is not None and listing.title == "Senior SE" and listing.remote
    assert client.post(f"/admin/jobs/{job}/remove", data={"csrf_token": csrf}).status_code == 200
    with desk.pulse.db.sessions() as session:
        assert session.get(JobListing, job) is None


def test_comparisons_are_listed_saved_refused_when_unfillable_and_removed(desk: Desk) -> None:
    seed(desk.pulse)
    client = desk.editor()
    page = client.get("/admin/comparisons")
    assert page.status_code == 200 and "ai-se-vs-mle" in page.text
    csrf = csrf_of(client, "/admin/comparisons")
    form = {"csrf_token": csrf, "key": "se-only", "title": "AI SE by level",
            "levels": "Senior\nStaff / Principal", "first_column": "Level", "region": "US",
            "position": "1"}  # fmt: skip
    typo = client.post("/admin/comparisons", data={**form, "columns": "AI Sales Enginer=AI SE"})
    assert typo.status_code == 400 and 'id="comparison-error"' in typo.text
    assert "no salary data points fit" in typo.text and "AI Sales Engineer" in typo.text
    saved = client.post("/admin/comparisons", data={**form, "columns": "AI Sales Engineer=AI SE"})
    assert saved.status_code == 200 and "Comparison se-only saved" in saved.text
    edit = client.get("/admin/comparisons", params={"key": "se-only"})
    assert "AI Sales Engineer=AI SE" in edit.text
    gone = client.post("/admin/comparisons/se-only/remove", data={"csrf_token": csrf})
    assert gone.status_code == 200
    with desk.pulse.db.sessions() as session:
        keys = set(session.scalars(select(SalaryComparison.key)))
    assert keys == {"ai-se-vs-mle"}


_LOGGED_IN: dict[int, tuple[Desk, TestClient, str]] = {}


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    key=st.text(max_size=70),
    levels=st.text(max_size=80),
    columns=st.text(max_size=80),
    region=st.text(max_size=20),
    position=st.text(max_size=8),
)
def test_hostile_comparison_forms_are_a_page_never_a_500(
    desk: Desk, key: str, levels: str, columns: str, region: str, position: str
) -> None:
    # One login for all examples: the desk throttles logins per client address.
    known = _LOGGED_IN.get(id(desk))
    if known is None or known[0] is not desk:
        client = desk.editor()
        known = _LOGGED_IN[id(desk)] = (desk, client, csrf_of(client, "/admin/comparisons"))
    _desk, client, csrf = known
    form = {"csrf_token": csrf, "key": key, "title": "T", "levels": levels,
            "columns": columns, "first_column": "Level", "region": region,
            "position": position}  # fmt: skip
    answer = client.post("/admin/comparisons", data=form)
    assert answer.status_code in (200, 400), answer.text[:300]
    if answer.status_code == 400:
        assert 'id="comparison-error"' in answer.text
