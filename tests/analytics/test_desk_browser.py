"""The restyled desk in Chromium: axe-core finds no violations, phones get no sideways scroll.

axe-core is vendored from npm (tests/vendor/axe-core, MPL-2.0) and injected into each page.
Set PULSE_WRITE_DOCS_SCREENSHOT=1 to refresh docs/desk-report.png from this run.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import select, update

from pipeline.admin.accounts import add_editor
from pipeline.content.models import JobListing, SalaryPoint, Snippet
from pipeline.delivery.models import Delivery
from pipeline.demo.seed import seed_week
from pipeline.issues.models import Issue
from pipeline.weeks import week_monday
from pipeline.wiring import Pulse
from pipeline.workflow import weekly
from pulse_core.database import transaction, utcnow
from subscribers.models import Subscriber
from tests.admin.conftest import PASSWORD, make_editor
from tests.analytics.conftest import WEEK, click_urls, messages, path_of, seed_and_build
from tests.conftest import Workspace

if TYPE_CHECKING:
    from playwright.sync_api import Browser

NEXT_WEEK = "2026-W49"
AXE = Path(__file__).resolve().parent.parent / "vendor" / "axe-core" / "axe.min.js"
DOCS = Path(__file__).resolve().parent.parent.parent / "docs"
MOBILE_SAFARI = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"
)

pytestmark = pytest.mark.browser


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    return sqlite_url


def violations(page: Any) -> list[str]:
    page.add_script_tag(content=AXE.read_text(encoding="utf-8"))
    found = page.evaluate(
        "async () => { const r = await axe.run(document);"
        " return {passes: r.passes.length, violations: r.violations"
        ".map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(', '))}; }"
    )
    assert found["passes"] > 10  # axe really ran its rules on this page
    return list(found["violations"])


def test_desk_pages_pass_axe_and_fit_a_phone(
    pulse: Pulse, workspace: Workspace, live_server: str, chromium: Browser
) -> None:
    server, browser = live_server, chromium
    make_editor(pulse, "ed@example.com", "editor")
    seed_and_build(pulse, 8)
    weekly.send_week(pulse, WEEK)
    earlier = utcnow() - timedelta(hours=5)
    with transaction(pulse.db.sessions) as session:
        session.execute(update(Delivery).values(sent_at=earlier))
        session.execute(update(Issue).values(send_started_at=earlier))
    reader = browser.new_page(user_agent=MOBILE_SAFARI)
    for n, message in enumerate(messages(workspace.outbox).values()):
        for url in click_urls(message)[: 1 + n % 3]:
            reader.request.get(f"{server}{path_of(url)}", max_redirects=0)
    page = browser.new_page(viewport={"width": 1100, "height": 900}, bypass_csp=True)
    page.goto(f"{server}/admin/login")
    assert violations(page) == []
    page.fill('input[name="email"]', "ed@example.com")
    page.fill('input[name="password"]', PASSWORD)
    page.click('button:has-text("Log in")')
    page.wait_for_url(f"{server}/admin")
    for path in ("/admin", f"/admin/report?week={WEEK}", f"/admin/deliveries?week={WEEK}"):
        page.goto(f"{server}{path}")
        assert violations(page) == [], path
    page.goto(f"{server}/admin/report?week={WEEK}")
    assert int(page.locator("#fig-human").inner_text()) > 0
    if os.environ.get("PULSE_WRITE_DOCS_SCREENSHOT"):
        page.screenshot(path=str(DOCS / "desk-report.png"), full_page=False)
    # Keyboard focus is visible: the focused link gets an outline.
    page.keyboard.press("Tab")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline not in ("", "none")
    phone = browser.new_page(viewport={"width": 375, "height": 800})
    phone.goto(f"{server}/admin/login")
    phone.fill('input[name="email"]', "ed@example.com")
    phone.fill('input[name="password"]', PASSWORD)
    phone.click('button:has-text("Log in")')
    phone.wait_for_url(f"{server}/admin")
    for path in (f"/admin/report?week={WEEK}", f"/admin/deliveries?week={WEEK}"):
        phone.goto(f"{server}{path}")
        wide = phone.evaluate("document.documentElement.scrollWidth")
        assert wide <= 375, (path, wide)


def desk_pages(pulse: Pulse) -> list[str]:
    """Every page of the desk that renders HTML, with real ids for the edit pages."""
    with transaction(pulse.db.sessions) as session:
        snippet = session.scalar(select(Snippet.id).limit(1))
        point = session.scalar(select(SalaryPoint.id).limit(1))
        job = session.scalar(select(JobListing.id).limit(1))
        subscriber = session.scalar(select(Subscriber.id).limit(1))
    assert None not in (snippet, point, job, subscriber)
    return [
        "/admin",
        "/admin/issue",
        f"/admin/issue?week={WEEK}",
        f"/admin/issue?week={NEXT_WEEK}",  # built, not sent: the preview and its actions
        f"/admin/issue/confirm/approve?week={NEXT_WEEK}",
        f"/admin/issue/confirm/send?week={NEXT_WEEK}",
        "/admin/content",
        f"/admin/content/{snippet}/edit",
        "/admin/salary",
        f"/admin/salary/{point}/edit",
        "/admin/jobs",
        f"/admin/jobs/{job}/edit",
        "/admin/jobs/review",
        "/admin/comparisons",
        "/admin/deliverability",
        f"/admin/report?week={WEEK}",
        f"/admin/deliveries?week={WEEK}",
        f"/admin/deliveries?week={WEEK}&status=failed&q=nobody",
        "/admin/subscribers",
        f"/admin/subscribers/{subscriber}",
        "/admin/tokens",
        "/admin/editors",
        "/admin/subscribers/999999999",  # the desk's error page
    ]


def test_every_desk_page_passes_axe(pulse: Pulse, live_server: str, chromium: Browser) -> None:
    server, browser = live_server, chromium
    make_editor(pulse, "admin@example.com", "admin")
    with transaction(pulse.db.sessions) as session:
        invite = add_editor(session, "new@example.com", "editor").token
    seed_and_build(pulse, 8)
    weekly.send_week(pulse, WEEK)
    with transaction(pulse.db.sessions) as session:
        seed_week(session, week_monday(NEXT_WEEK), 0)
    weekly.build_week(pulse, NEXT_WEEK)
    found: dict[str, list[str]] = {}
    page = browser.new_page(viewport={"width": 1100, "height": 900}, bypass_csp=True)
    for path in ("/admin/login", f"/admin/set-password/{invite}"):
        page.goto(f"{server}{path}")
        found[path] = violations(page)
    page.goto(f"{server}/admin/login")
    page.fill('input[name="email"]', "admin@example.com")
    page.fill('input[name="password"]', PASSWORD)
    page.click('button:has-text("Log in")')
    page.wait_for_url(f"{server}/admin")
    for path in desk_pages(pulse):
        page.goto(f"{server}{path}")
        found[path] = violations(page)
    phone = browser.new_page(viewport={"width": 375, "height": 800})
    phone.context.add_cookies(page.context.cookies())
    for path in desk_pages(pulse):
        phone.goto(f"{server}{path}")
        wide = phone.evaluate("document.documentElement.scrollWidth")
        if wide > 375:
            found[f"{path} (phone)"] = [f"scrolls sideways: {wide}px wide"]
    failing = {path: v for path, v in found.items() if v}
    assert not failing, "\n".join(f"{p}: {v}" for p, v in failing.items())
