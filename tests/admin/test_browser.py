"""The desk in a real browser: log in, queue content, watch readiness, preview, test, approve."""

from __future__ import annotations

from datetime import date
from email import message_from_bytes, policy
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from pipeline.wiring import Pulse
from tests.admin.conftest import PASSWORD, make_editor

if TYPE_CHECKING:
    from playwright.sync_api import Browser

pytestmark = pytest.mark.browser


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """SQLite: the browser exercises the pages; the data paths run on PostgreSQL elsewhere."""
    return sqlite_url


def _have(page: object, section: str) -> str:
    return page.locator(f'#readiness tr[data-section="{section}"] td.have').inner_text()  # type: ignore[attr-defined, no-any-return]


def test_an_editor_prepares_tests_and_approves_an_issue(
    pulse: Pulse, live_server: str, chromium: Browser, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    make_editor(pulse, "ed@example.com", "editor")
    csv_file = tmp_path / "points.csv"
    csv_file.write_text(
        "role,level,currency,low,high,region,source,sample_size,as_of\n"
        f"AI Sales Engineer,Senior,USD,180000,240000,US,Survey,40,{date.today()}\n",
        encoding="utf-8",
    )
    page = chromium.new_page()
    page.goto(f"{live_server}/admin")
    assert "/admin/login" in page.url
    page.fill('input[name="email"]', "ed@example.com")
    page.fill('input[name="password"]', PASSWORD)
    page.click('button:has-text("Log in")')
    expect(page.locator("#readiness-verdict")).to_have_text("not ready")
    assert _have(page, "role-insights") == "0"
    assert "no salary data" in page.locator("#readiness-problems").inner_text()

    # A snippet, with the live preview of the sanitised Markdown.
    page.goto(f"{live_server}/admin/content")
    page.select_option('select[name="section"]', "role-insights")
    page.fill('input[name="title"]', "Discovery beats demos")
    page.fill('textarea[name="body"]', "Ask **why** twice. <script>x()</script>")
    expect(page.locator("#md-preview strong")).to_have_text("why")
    assert page.locator("#md-preview script").count() == 0
    page.click('button:has-text("Add to queue")')
    expect(page.locator(".notice")).to_contain_text("Queued “Discovery beats demos”")

    # A salary CSV.
    page.goto(f"{live_server}/admin/salary")
    page.set_input_files('input[name="file"]', str(csv_file))
    page.click('button:has-text("Import")')
    expect(page.locator(".notice")).to_contain_text("Imported 1 salary data points")

    # Readiness moved.
    page.goto(f"{live_server}/admin")
    assert _have(page, "role-insights") == "1"
    assert "no salary data" not in page.locator("#readiness-problems").inner_text()

    # Preview: both widths, the text part, and the dark toggle.
    page.click('a:has-text("Preview & send")')
    desktop = page.frame_locator("#preview-desktop")
    expect(desktop.locator("body")).to_contain_text("Discovery beats demos")
    expect(page.locator("#preview-text")).to_contain_text("Discovery beats demos")
    assert page.locator("#preview-phone").get_attribute("width") == "375"
    page.click('a:has-text("dark")')
    assert "scheme=dark" in page.url
    expect(page.frame_locator("#preview-phone").locator("body")).to_contain_text(
        "Discovery beats demos"
    )

    # Test send, read back from the file outbox.
    page.click('button:has-text("Send a test to ed@example.com")')
    expect(page.locator(".notice")).to_contain_text("Test sent to 1 of 1")
    [eml] = list(pulse.settings.outbox_dir.glob("*-test/*.eml"))
    message = message_from_bytes(eml.read_bytes(), policy=policy.default)
    assert message["Subject"].startswith("[TEST] AISE Pulse Brief #1")
    assert message["To"] == "ed@example.com"

    # Approve, through the confirmation step.
    page.click('a:has-text("Approve…")')
    expect(page.locator("h1")).to_contain_text("Approve this issue")
    page.click("#confirm-button")
    expect(page.locator("#approval")).to_contain_text("Approved by ed@example.com")
    page.goto(f"{live_server}/admin")
    expect(page.locator("#issue-status")).to_have_text("built")
