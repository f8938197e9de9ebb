"""The intake end to end on SQLite and PostgreSQL: fetch → review → accept → the built issue,
dedupe and expiry across fetches, reposts, liveness, and one broken board among good ones."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from pipeline.content.models import JobListing, SalaryPoint
from pipeline.intake.models import IntakeSource, JobPosting, ProposalState
from pipeline.issues.build import get_issue
from pipeline.issues.models import IssueStatus
from pipeline.weeks import current_week
from pipeline.wiring import Pulse
from pipeline.workflow import weekly
from pipeline.workflow.check import lint_week
from pipeline.workflow.intake import run_intake
from pulse_core.database import transaction, utcnow
from tests.conftest import Cli
from tests.intake import documented
from tests.intake.boards_server import BoardServer

SE_TEXT = "Base salary range: $170,000 - $210,000 per year. Plus equity."


def lever_board(boards: BoardServer, site: str, count: int, **kwargs: Any) -> None:
    boards.lever[site] = [
        documented.lever_posting(
            boards.base,
            site,
            f"{site}-{n}",
            f"Senior Solutions Engineer {n}",
            "Austin, TX",
            salary={
                "currency": "USD",
                "interval": "per-year-salary",
                "min": 170000 + n * 1000,
                "max": 210000 + n * 1000,
            },
            **kwargs,
        )
        for n in range(count)
    ]


def records(cli: Cli, *args: str) -> list[dict[str, Any]]:
    result = cli(*args, "--format", "json")
    assert result.exit_code == 0, result.stderr
    data: list[dict[str, Any]] = json.loads(result.stdout)
    return data


def fetch_json(cli: Cli) -> dict[str, Any]:
    result = cli("jobs", "fetch", "--format", "json")
    assert result.exit_code == 0, result.stderr + result.stdout
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def test_review_queue_lists_parsed_roles_and_pay(
    intake_env: None, boards: BoardServer, cli: Cli
) -> None:
    lever_board(boards, "leverdemo", 2)
    boards.lever["leverdemo"].append(
        documented.lever_posting(boards.base, "leverdemo", "pm", "Product Manager", "Austin, TX")
    )
    assert (
        cli("jobs", "sources", "add", "lever", "leverdemo", "--company", "Lever Demo").exit_code
        == 0
    )
    report = fetch_json(cli)["sources"]
    assert report == [
        {
            "source": "lever:leverdemo",
            "found": 2,
            "new": 2,
            "changed": 0,
            "gone": 0,
            "skipped": 0,
            "failed": None,
            "not_modified": False,
        }
    ]
    queue = records(cli, "jobs", "review")
    assert [r["title"] for r in queue] == [
        "Senior Solutions Engineer 0",
        "Senior Solutions Engineer 1",
    ]
    first = queue[0]
    assert first["company"] == "Lever Demo"
    assert first["location"] == "Austin, TX"
    assert first["url"] == f"{boards.base}/pages/lever/leverdemo/leverdemo-0"
    assert first["source"] == "lever:leverdemo"
    assert first["state"] == "proposed"
    assert first["level"] == "Senior" and first["region"] == "US"
    assert first["pay"] == {
        "low": 170000,
        "high": 210000,
        "currency": "USD",
        "interval": "year",
        "basis": "base",
    }


def test_dedupe_and_expiry_across_three_fetches(
    intake_pulse: Pulse, boards: BoardServer, cli: Cli
) -> None:
    lever_board(boards, "acme", 3)
    cli("jobs", "sources", "add", "lever", "acme", "--company", "Acme")
    first = fetch_json(cli)["sources"][0]
    assert (first["new"], first["changed"], first["gone"]) == (3, 0, 0)
    assert cli("jobs", "accept", "1").exit_code == 0

    boards.lever["acme"][2]["text"] = "Staff Solutions Engineer 2"  # retitled: a change
    second = fetch_json(cli)["sources"][0]
    assert (second["found"], second["new"], second["changed"], second["gone"]) == (3, 0, 1, 0)

    del boards.lever["acme"][0]  # the accepted one closes
    third = fetch_json(cli)["sources"][0]
    assert (third["found"], third["new"], third["changed"], third["gone"]) == (2, 0, 0, 1)

    with intake_pulse.db.sessions() as session:
        assert session.scalar(select(func.count()).select_from(JobPosting)) == 3
        assert session.scalar(select(func.count()).select_from(JobListing)) == 1
        closed = session.scalars(select(JobListing)).one()
        assert closed.closed_on == utcnow().date()
        retitled = session.scalar(select(JobPosting).where(JobPosting.external_id == "acme-2"))
        assert retitled is not None and retitled.level == "Staff / Principal"
    states = {r["id"]: r["state"] for r in records(cli, "jobs", "list")}
    assert states == {"1": "expired", "2": "proposed", "3": "proposed"}


def test_a_repost_of_the_same_role_is_marked(
    intake_env: None, boards: BoardServer, cli: Cli
) -> None:
    lever_board(boards, "acme", 1)
    cli("jobs", "sources", "add", "lever", "acme", "--company", "Acme")
    fetch_json(cli)
    boards.lever["acme"] = []
    fetch_json(cli)
    lever_board(boards, "acme", 1)
    boards.lever["acme"][0].update(id="acme-new", hostedUrl=f"{boards.base}/pages/lever/acme/new")
    fetch_json(cli)
    (repost,) = records(cli, "jobs", "review")
    assert repost["url"].endswith("/new") and repost["reposted"] is True


def test_one_broken_board_never_stops_the_others(
    intake_env: None, boards: BoardServer, cli: Cli
) -> None:
    boards.ashby["good"] = [
        documented.ashby_job(boards.base, "good", "g1", "Sales Engineer", "Remote (US)")
    ]
    boards.lever["slow"] = []
    boards.delay["/lever/v0/postings/slow"] = 1.5
    cli("jobs", "sources", "add", "greenhouse", "missing", "--company", "Gone Inc")
    cli("jobs", "sources", "add", "lever", "slow", "--company", "Slow Co")
    cli("jobs", "sources", "add", "ashby", "good", "--company", "Good AI")
    by_source = {r["source"]: r for r in fetch_json(cli)["sources"]}
    assert "HTTP 404" in by_source["greenhouse:missing"]["failed"]
    assert "no answer within 0.5s" in by_source["lever:slow"]["failed"]
    assert by_source["ashby:good"]["failed"] is None and by_source["ashby:good"]["new"] == 1
    table = cli("jobs", "sources", "list")
    assert "failed: HTTP 404" in table.stdout


def test_a_closed_page_expires_the_listing(
    intake_pulse: Pulse, boards: BoardServer, cli: Cli
) -> None:
    job = documented.greenhouse_job(
        boards.base, "acme", 11, "Solutions Architect", "Remote (US)", content=f"<p>{SE_TEXT}</p>"
    )
    boards.greenhouse["acme"] = [job]
    cli("jobs", "sources", "add", "greenhouse", "acme", "--company", "Acme", "--auto-accept")
    fetch_json(cli)
    assert [r["state"] for r in records(cli, "jobs", "list")] == ["live"]
    boards.closed_pages["/pages/greenhouse/acme/jobs/11"] = 410
    report = fetch_json(cli)["sources"][0]
    assert report["gone"] == 1
    assert [r["state"] for r in records(cli, "jobs", "list")] == ["expired"]


def test_whole_flow_from_fetch_to_the_built_issue(
    intake_pulse: Pulse, boards: BoardServer, cli: Cli
) -> None:
    # Three boards, three documented APIs; four matching Senior US roles with base pay.
    boards.greenhouse["northwind"] = [
        documented.greenhouse_job(
            boards.base,
            "northwind",
            101,
            "Senior Sales Engineer",
            "New York, NY",
            content=f"<p>{SE_TEXT}</p>",
        )
    ]
    boards.greenhouse_pay[101] = [documented.GREENHOUSE_PAY_RANGE]  # $180K–$240K base
    lever_board(boards, "contoso", 2)
    boards.ashby["fabrikam"] = [
        documented.ashby_job(
            boards.base,
            "fabrikam",
            "f1",
            "Senior Forward Deployed Engineer",
            "Remote (US)",
            salary=(190000, 230000, "USD", "1 YEAR"),
            remote=True,
        ),
        documented.ashby_job(boards.base, "fabrikam", "f2", "Office Manager", "Remote (US)"),
    ]
    for kind, board, company in (
        ("greenhouse", "northwind", "Northwind Labs"),
        ("lever", "contoso", "Contoso AI"),
        ("ashby", "fabrikam", "Fabrikam Cloud"),
    ):
        assert cli("jobs", "sources", "add", kind, board, "--company", company).exit_code == 0
    fetch_json(cli)
    queue = records(cli, "jobs", "review")
    assert len(queue) == 4
    gh = next(r for r in queue if r["source"] == "greenhouse:northwind")
    assert gh["pay"]["low"] == 180000  # the structured range wins over the text
    assert cli("jobs", "accept", "--all").exit_code == 0
    # A table is refused until some data can fill it: set it once postings were accepted.
    assert (
        cli(
            "salary",
            "comparison",
            "set",
            "se-base",
            "--title",
            "Base pay from postings",
            "--level",
            "Senior",
            "--column",
            "AI Sales Engineer=AI SE base",
            "--region",
            "US",
            "--pay-basis",
            "base",
        ).exit_code
        == 0
    )

    week = current_week(utcnow())
    weekly.build_week(intake_pulse, week)
    with intake_pulse.db.sessions() as session:
        issue = get_issue(session, week)
        html, text = issue.html, issue.text
        points = session.scalars(select(SalaryPoint)).all()
    for company in ("Northwind Labs", "Contoso AI", "Fabrikam Cloud"):
        assert company in html and company in text
    assert "Office Manager" not in html
    assert len(points) == 4 and {p.source for p in points} == {"job postings"}
    assert {p.pay_basis for p in points} == {"base"} and all(p.postings == 1 for p in points)
    assert "job postings (4 postings)" in " ".join(text.split())
    assert "Pay: base salary." in " ".join(text.split())

    # The Ashby role closes: it leaves the unsent issue, which is rebuilt without it.
    boards.ashby["fabrikam"] = []
    outcome = run_intake(intake_pulse)
    assert outcome.rebuilt == [week]
    with intake_pulse.db.sessions() as session:
        issue = get_issue(session, week)
        assert "Senior Forward Deployed Engineer" not in issue.html
        assert "Contoso AI" in issue.html
    assert not [p for p in lint_week(intake_pulse, week) if "no longer live" in p]

    # A job closed without a rebuild (say, by hand) is caught by the pre-send lint.
    with transaction(intake_pulse.db.sessions) as session:
        listing = session.scalars(
            select(JobListing).where(JobListing.company == "Contoso AI")
        ).first()
        assert listing is not None
        listing.closed_on = utcnow().date() - timedelta(days=1)
    problems = lint_week(intake_pulse, week)
    assert any("no longer live: Contoso AI" in p for p in problems)


def test_auto_accept_and_hand_typed_listings_are_one_listing(
    intake_pulse: Pulse, boards: BoardServer, cli: Cli
) -> None:
    lever_board(boards, "acme", 1)
    url = boards.lever["acme"][0]["hostedUrl"]
    assert (
        cli(
            "jobs",
            "add",
            "--company",
            "Acme",
            "--title",
            "SE",
            "--location",
            "Austin",
            "--url",
            url,
        ).exit_code
        == 0
    )
    cli("jobs", "sources", "add", "lever", "acme", "--company", "Acme")
    fetch_json(cli)
    with intake_pulse.db.sessions() as session:
        assert session.scalar(select(func.count()).select_from(JobListing)) == 1
        posting = session.scalars(select(JobPosting)).one()
        assert posting.state is ProposalState.ACCEPTED and posting.listing_id is not None
    assert records(cli, "jobs", "review") == []
    assert [r["source"] for r in records(cli, "jobs", "list")] == ["lever:acme"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("jobs", "sources", "add", "workday", "acme", "--company", "X"), "kind"),
        (("jobs", "sources", "add", "lever", "../etc/passwd", "--company", "X"), "board"),
        (("jobs", "sources", "add", "lever", "acme", "--company", " "), "company"),
        (("jobs", "sources", "add", "lever", "acme", "--company", "A\x1b[31m"), "company"),
        (("jobs", "sources", "remove", "lever", "nope"), "no lever source"),
        (("jobs", "accept", "abc"), "review id"),
        (("jobs", "accept", "999"), "no review item 999"),
        (("jobs", "accept", "1", "--all"), "not both"),
        (("jobs", "reject", "L999"), "no review item L999"),
        (("jobs", "review", "--format", "xml"), "format"),
        (("jobs", "list", "--format", "csv"), "format"),
        (("links", "sources", "add", "javascript:alert(1)"), "http(s) URL"),
    ],
)
def test_bad_input_is_one_clear_line_and_changes_nothing(
    intake_pulse: Pulse, cli: Cli, args: tuple[str, ...], message: str
) -> None:
    result = cli(*args)
    assert result.exit_code == 1
    assert message in result.stderr and "Traceback" not in result.stderr
    with intake_pulse.db.sessions() as session:
        assert session.scalar(select(func.count()).select_from(IntakeSource)) == 0


def test_a_board_cannot_be_added_twice(intake_env: None, cli: Cli) -> None:
    assert cli("jobs", "sources", "add", "ashby", "acme", "--company", "Acme").exit_code == 0
    again = cli("jobs", "sources", "add", "ASHBY", "acme", "--company", "Acme")
    assert again.exit_code == 1 and "already a source" in again.stderr
    assert cli("jobs", "sources", "remove", "ashby", "acme").exit_code == 0
    assert records(cli, "jobs", "sources", "list") == []


def test_a_job_that_comes_back_is_reviewed_again_and_listed_again(
    intake_env: None, boards: BoardServer, cli: Cli
) -> None:
    lever_board(boards, "acme", 1)
    cli("jobs", "sources", "add", "lever", "acme", "--company", "Acme", "--auto-accept")
    fetch_json(cli)
    saved = boards.lever["acme"]
    boards.lever["acme"] = []
    fetch_json(cli)
    assert [r["state"] for r in records(cli, "jobs", "list")] == ["expired"]
    boards.lever["acme"] = saved
    assert fetch_json(cli)["sources"][0]["new"] == 1
    (back,) = records(cli, "jobs", "list")
    assert (back["state"], back["reposted"]) == ("proposed", True)
    assert cli("jobs", "accept", back["id"]).exit_code == 0
    assert [r["state"] for r in records(cli, "jobs", "list")] == ["live"]


def test_listings_already_mailed_are_not_page_checked(
    intake_pulse: Pulse, boards: BoardServer, cli: Cli
) -> None:
    lever_board(boards, "acme", 2)
    cli("jobs", "sources", "add", "lever", "acme", "--company", "Acme", "--auto-accept")
    fetch_json(cli)
    week = current_week(utcnow())
    weekly.build_week(intake_pulse, week)
    with transaction(intake_pulse.db.sessions) as session:
        issue = get_issue(session, week)
        issue.status = IssueStatus.SENT
        first = session.scalars(select(JobListing).order_by(JobListing.id)).first()
        assert first is not None
        first.issue_id = None  # one listing not mailed after all: it stays watched
    before = boards.count("/pages/")
    fetch_json(cli)
    assert boards.count("/pages/") - before == 1
