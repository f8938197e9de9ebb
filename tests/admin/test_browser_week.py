"""Issue 21 item 4 in a real browser: after a send the desk prepares the following week."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from pipeline.issues.models import IssueStatus
from pipeline.schedule import WeeklySchedule
from pipeline.weeks import week_key, week_monday
from pipeline.wiring import Pulse
from pipeline.workflow import weekly
from pulse_core.database import utcnow
from tests.admin.conftest import PASSWORD, make_editor
from tests.admin.test_browser import database_url, pytestmark
from tests.scheduler.conftest import seed

if TYPE_CHECKING:
    from playwright.sync_api import Browser

__all__ = ["database_url", "pytestmark"]  # the fixture and marks, shared


def _week_after(week: str, weeks: int = 1) -> str:
    return week_key(week_monday(week) + timedelta(days=7 * weeks))


def test_the_desk_moves_on_to_the_next_unsent_week_and_discards_a_stray(
    pulse: Pulse, live_server: str, chromium: Browser
) -> None:
    from playwright.sync_api import expect

    schedule = WeeklySchedule.parse(pulse.settings.schedule, pulse.settings.timezone)
    sent = schedule.week_at(schedule.next_send(utcnow()))
    following, stray = _week_after(sent), _week_after(sent, 3)
    seed(pulse, readers=3, week=sent)
    weekly.build_week(pulse, sent)
    weekly.send_week(pulse, sent)  # as `pulse demo` does, before the send time
    weekly.build_week(pulse, stray)  # built by mistake, weeks ahead
    make_editor(pulse, "ed@example.com", "editor")
    page = chromium.new_page()
    page.goto(f"{live_server}/admin")
    page.fill('input[name="email"]', "ed@example.com")
    page.fill('input[name="password"]', PASSWORD)
    page.click('button:has-text("Log in")')

    # The next unsent week, not the one just sent.
    expect(page.locator("#desk-week")).to_have_text(following)
    expect(page.locator("h1")).to_contain_text("Next issue")
    expect(page.locator("#issue-status")).to_have_text("not built yet")
    options = page.locator("#week-selector option").all_inner_texts()
    weeks = [o.split()[0] for o in options]
    assert weeks == sorted(weeks) and sent in weeks and stray in weeks
    rows = page.locator("#recent-issues tr td:first-child").all_inner_texts()
    assert rows == sorted(rows, reverse=True) == [stray, sent]

    # The sent week: its state, and nothing left to decide.
    page.select_option("#week-selector select", sent)
    page.click('#week-selector button:has-text("Show")')
    expect(page.locator("#issue-status")).to_have_text("sent")
    expect(page.locator("#readiness-verdict")).to_have_text("sent")
    assert page.locator("#issue-actions [data-action]").count() == 0

    # The stray week: discard it, with a reason, through the confirmation step.
    page.select_option("#week-selector select", stray)
    page.click('#week-selector button:has-text("Show")')
    actions = page.locator("#issue-actions [data-action]")
    expect(actions.first).to_be_visible()  # the stray week's page has loaded
    assert [actions.nth(i).get_attribute("data-action") for i in range(actions.count())] == [
        "approve",
        "hold",
        "send",
        "discard",
    ]
    page.click('#issue-actions a:has-text("Discard…")')
    expect(page.locator("h1")).to_contain_text("Discard this issue")
    page.fill('input[name="reason"]', "built for the wrong week")
    page.click("#confirm-button")
    expect(page.locator(".notice")).to_contain_text(f"Issue {stray} discarded")
    expect(page.locator("#approval")).to_contain_text("Discarded by ed@example.com")
    page.goto(f"{live_server}/admin?week={stray}")
    expect(page.locator("#issue-status")).to_have_text("skipped")
    assert page.locator("#issue-actions [data-action]").count() == 0

    # Back to the week to prepare: it can be built and decided.
    page.click(f'a:has-text("Next unsent week: {following}")')
    expect(page.locator("#desk-week")).to_have_text(following)
    assert page.locator('#issue-actions a:has-text("Preview & send")').count() == 1
    with pulse.db.sessions() as session:
        from sqlalchemy import select

        from pipeline.issues.models import Issue

        statuses = dict(session.execute(select(Issue.week_key, Issue.status)).all())
    assert statuses == {sent: IssueStatus.SENT, stray: IssueStatus.SKIPPED}
