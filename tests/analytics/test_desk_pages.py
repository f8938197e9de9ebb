"""The desk's report and ledger pages (HTTP), and the editors' weekly report's top links."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from sqlalchemy import func, select, update

from pipeline.analytics.models import DeliveryRetry
from pipeline.delivery.models import Delivery, DeliveryStatus
from pipeline.issues.models import Issue, IssueStatus
from pipeline.wiring import Pulse
from pipeline.workflow import weekly
from pipeline.workflow.analytics import last_issue_top_links
from pulse_core.database import transaction, utcnow
from tests.admin.conftest import Desk, csrf_of
from tests.analytics.conftest import BROWSER, WEEK, click_urls, messages, path_of, seed_and_build
from tests.conftest import Workspace


def send_and_click(pulse: Pulse, workspace: Workspace, desk: Desk) -> None:
    seed_and_build(pulse, 4)
    weekly.send_week(pulse, WEEK)
    earlier = utcnow() - timedelta(hours=3)
    with transaction(pulse.db.sessions) as session:
        session.execute(update(Delivery).values(sent_at=earlier))
        session.execute(update(Issue).values(send_started_at=earlier))
    client = desk.client()
    for message in list(messages(workspace.outbox).values())[:3]:
        url = click_urls(message)[0]
        answer = client.get(path_of(url), headers={"user-agent": BROWSER}, follow_redirects=False)
        assert answer.status_code == 302


def test_the_report_page_shows_figures_chart_and_annotated_issue(
    pulse: Pulse, workspace: Workspace, desk: Desk
) -> None:
    send_and_click(pulse, workspace, desk)
    editor = desk.editor()
    page = editor.get("/admin/report")
    assert page.status_code == 200
    assert '<dd id="fig-human">3</dd>' in page.text
    assert "<svg" in page.text and "3 human" in page.text
    assert "3 human · 0 machine" in page.text  # the badge beside the first link, in srcdoc
    assert "<script" not in page.text.split("<iframe")[1].split("</iframe>")[0]
    exported = editor.get(f"/admin/report.csv?week={WEEK}")
    assert exported.status_code == 200
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert rows[0]["human_clicks"] == "3"
    assert editor.get(f"/admin/report.json?week={WEEK}").json()["human_clicks"] == 3


def test_the_report_needs_an_editor(pulse: Pulse, workspace: Workspace, desk: Desk) -> None:
    send_and_click(pulse, workspace, desk)
    anonymous = desk.client().get("/admin/report", follow_redirects=False)
    assert anonymous.status_code in (302, 303) and "/admin/login" in anonymous.headers["location"]
    assert desk.client().get("/admin/deliveries.csv", follow_redirects=False).status_code != 200


def test_the_ledger_page_searches_exports_and_retries(
    pulse: Pulse, workspace: Workspace, desk: Desk
) -> None:
    send_and_click(pulse, workspace, desk)
    with transaction(pulse.db.sessions) as session:
        first = session.scalar(select(Delivery.id).order_by(Delivery.id))
        session.execute(
            update(Delivery)
            .where(Delivery.id == first)
            .values(status=DeliveryStatus.FAILED, retries=3, last_error="timeout")
        )
    editor = desk.editor()
    page = editor.get(f"/admin/deliveries?week={WEEK}&status=failed")
    assert page.status_code == 200 and "1 failure(s) a retry can fix" in page.text
    assert "timeout" in page.text
    assert editor.get(f"/admin/deliveries?week={WEEK}&status=bogus").status_code == 400
    assert (
        editor.get(f"/admin/deliveries?week={WEEK}&q=nobody-matches").text.count("Nobody matches")
        == 1
    )
    exported = editor.get(f"/admin/deliveries.csv?week={WEEK}&status=failed")
    assert len(list(csv.DictReader(io.StringIO(exported.text)))) == 1
    refused = editor.post(
        "/admin/deliveries/retry-failed", data={"week": WEEK}, follow_redirects=False
    )
    assert refused.status_code in (400, 403)  # no CSRF token
    token = csrf_of(editor, f"/admin/deliveries?week={WEEK}")
    answer = editor.post(
        "/admin/deliveries/retry-failed",
        data={"week": WEEK, "csrf_token": token},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    # The desk only records the request: nothing is re-sent inside the web request.
    with transaction(pulse.db.sessions) as session:
        assert session.get(Delivery, first).status is DeliveryStatus.FAILED  # type: ignore[union-attr]
        assert session.scalar(select(Issue.send_requested_at)) is not None
    desk.run_requested_sends()  # what `pulse worker` (or the scheduler's tick) does
    with transaction(pulse.db.sessions) as session:
        assert session.get(Delivery, first).status is DeliveryStatus.SENT  # type: ignore[union-attr]
        assert session.scalar(select(Issue.send_requested_at)) is None
    desk.run_requested_sends()  # answered once: a second pass re-sends nothing
    with transaction(pulse.db.sessions) as session:
        assert session.scalar(select(func.count()).select_from(DeliveryRetry)) == 1


def test_retry_failed_on_a_send_still_running_is_refused_on_the_desk(
    pulse: Pulse, workspace: Workspace, desk: Desk
) -> None:
    send_and_click(pulse, workspace, desk)
    with transaction(pulse.db.sessions) as session:
        session.execute(update(Issue).values(status=IssueStatus.SENDING))
    editor = desk.editor()
    token = csrf_of(editor, f"/admin/deliveries?week={WEEK}")
    answer = editor.post(
        "/admin/deliveries/retry-failed", data={"week": WEEK, "csrf_token": token}
    )
    assert answer.status_code == 400
    assert f"issue {WEEK} is sending and has no finished send to retry" in answer.text
    with transaction(pulse.db.sessions) as session:
        assert session.scalar(select(Issue.send_requested_at)) is None


def test_the_editors_weekly_report_lists_last_issue_s_top_links(
    pulse: Pulse, workspace: Workspace, desk: Desk
) -> None:
    send_and_click(pulse, workspace, desk)
    summary = last_issue_top_links(pulse)
    assert f"Last issue ({WEEK}): 3 reader(s) clicked" in summary
    assert "1. " in summary and "3 click(s)" in summary
