"""The desk builds and drafts with the configured rules, as readiness judges them.

Before the workflow package the desk's build and draft used the default section limits and
salary threshold: PULSE_SECTION_LIMITS and PULSE_SALARY_MIN_POINTS were ignored there.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from pipeline.config import load_settings
from pipeline.content.models import Section
from pipeline.demo.seed import seed_week
from pipeline.issues.models import Issue
from pipeline.issues.readiness import count_items
from pipeline.issues.view import view_from_json
from pipeline.weeks import week_monday
from pipeline.wiring import Pulse
from pipeline.workflow.check import check_week
from pulse_core.database import transaction, utcnow
from tests.admin.conftest import Desk, csrf_of
from tests.conftest import Workspace

WEEK = "2026-W48"


@pytest.fixture
def pulse(workspace: Workspace, monkeypatch: pytest.MonkeyPatch) -> Iterator[Pulse]:
    """A newsletter whose Role Insights takes one item and whose tables need 1000 points."""
    monkeypatch.setenv("PULSE_SECTION_LIMITS", "role-insights=1-1")
    monkeypatch.setenv("PULSE_SALARY_MIN_POINTS", "1000")
    app_ = Pulse(load_settings())
    with transaction(app_.db.sessions) as session:
        seed_week(session, week_monday(WEEK), 2)  # three Role Insights, six points a cell
    yield app_
    app_.close()


def test_the_desks_build_uses_the_configured_limits_and_salary_threshold(desk: Desk) -> None:
    client = desk.editor()
    csrf = csrf_of(client, f"/admin/issue?week={WEEK}")
    built = client.post("/admin/issue/build", data={"csrf_token": csrf, "week": WEEK})
    assert built.status_code == 200
    with desk.pulse.db.sessions() as session:
        issue = session.scalar(select(Issue).where(Issue.week_key == WEEK))
        assert issue is not None and issue.view_json
        view = view_from_json(issue.view_json)
    assert count_items(view, Section.ROLE_INSIGHTS) == 1  # the default would take three
    assert not any(table.has_figures for table in view.salary_tables)  # 3 points < 1000
    readiness = check_week(desk.pulse, WEEK, utcnow())
    have = {s.section: s.have for s in readiness.sections}
    assert have[Section.ROLE_INSIGHTS] == 1 and have[Section.SALARY_PULSE] == 0


def test_the_desks_draft_is_the_issue_readiness_judges(desk: Desk) -> None:
    page = desk.editor().get("/admin/issue", params={"week": WEEK})
    assert page.status_code == 200 and "draft from the queue" in page.text
    readiness = check_week(desk.pulse, WEEK, utcnow())
    have = {s.section: s.have for s in readiness.sections}
    assert have[Section.ROLE_INSIGHTS] == 1
    titles = (  # the demo's three Role Insights
        "Moving from MLE to SE takes 3 to 9 months",
        "AI SE code is demo code",
        "Why SE work is harder to automate",
    )
    assert [title for title in titles if title in page.text] == [titles[0]]
