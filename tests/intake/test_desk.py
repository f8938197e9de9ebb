"""The review queue and sources on the editors' desk (behind login and CSRF)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from pipeline.content.models import JobListing
from pipeline.intake.models import IntakeSource
from pipeline.wiring import Pulse
from tests.admin.conftest import Desk, csrf_of
from tests.admin.conftest import cheap_password_hashing as cheap_password_hashing
from tests.admin.conftest import desk as desk
from tests.intake import documented
from tests.intake.boards_server import BoardServer


@pytest.fixture
def pulse(intake_pulse: Pulse) -> Pulse:  # the desk fixture builds on the intake's wiring
    return intake_pulse


def test_an_editor_adds_a_board_fetches_and_accepts_on_the_desk(
    desk: Desk, boards: BoardServer
) -> None:
    boards.ashby["acme"] = [
        documented.ashby_job(boards.base, "acme", "a1", "Solutions Engineer", "Remote (US)"),
        documented.ashby_job(boards.base, "acme", "a2", "Sales Engineer <script>", "Remote (US)"),
    ]
    client = desk.editor()
    token = csrf_of(client, "/admin/jobs/review")
    added = client.post(
        "/admin/jobs/sources",
        data={"csrf_token": token, "kind": "ashby", "board": "acme", "company": "Acme AI"},
    )
    assert added.status_code == 200 and "Added ashby:acme." in added.text
    fetched = client.post("/admin/jobs/fetch", data={"csrf_token": token})
    assert "Fetched 1 sources: 2 new, 0 failed." in fetched.text
    assert "<script>" not in fetched.text  # a board's markup never reaches the page
    accepted = client.post(
        "/admin/jobs/review", data={"csrf_token": token, "action": "accept", "id": ["1"]}
    )
    assert "Accepted 1." in accepted.text
    with desk.pulse.db.sessions() as session:
        (listing,) = session.scalars(select(JobListing)).all()
    assert (listing.company, listing.comp_low, listing.comp_high) == ("Acme AI", 150000, 190000)


def test_desk_forms_refuse_bad_input_and_missing_csrf(desk: Desk) -> None:
    client = desk.editor()
    token = csrf_of(client, "/admin/jobs/review")
    bad = client.post(
        "/admin/jobs/sources",
        data={"csrf_token": token, "kind": "workday", "board": "x", "company": "X"},
    )
    assert bad.status_code == 400 and "greenhouse, lever, ashby" in bad.text
    none_ticked = client.post("/admin/jobs/review", data={"csrf_token": token, "action": "accept"})
    assert none_ticked.status_code == 400
    forged = client.post(
        "/admin/jobs/sources", data={"kind": "lever", "board": "x", "company": "X"}
    )
    assert forged.status_code == 403
    with desk.pulse.db.sessions() as session:
        assert session.scalars(select(IntakeSource)).all() == []


def test_the_review_page_needs_a_login(desk: Desk) -> None:
    response = desk.client().get("/admin/jobs/review", follow_redirects=False)
    assert response.status_code == 303 and "/admin/login" in response.headers["location"]
