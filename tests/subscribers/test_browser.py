"""A real browser: sign up, confirm from the mailed link, then leave with an RFC 8058 POST."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest
import requests

from subscribers.models import SubscriberStatus
from tests.subscribers.conftest import MakePulse, Outbox, subscriber
from tests.subscribers.server import running_server

CHROMIUM = Path("/usr/bin/chromium")

pytestmark = pytest.mark.browser


@pytest.fixture
def chromium_path() -> str:
    if not CHROMIUM.exists():
        if os.environ.get("PULSE_TEST_REQUIRE_CHROMIUM"):
            pytest.fail("PULSE_TEST_REQUIRE_CHROMIUM is set but /usr/bin/chromium is missing")
        pytest.skip("Debian's chromium is not installed")
    return str(CHROMIUM)


def test_sign_up_confirm_and_one_click_unsubscribe_in_chromium(
    chromium_path: str, make_pulse: MakePulse, outbox: Outbox
) -> None:
    from playwright.sync_api import sync_playwright

    with (
        running_server(make_pulse, signup_min_fill_seconds=1) as (base_url, pulse),
        sync_playwright() as playwright,
    ):
        browser = playwright.chromium.launch(
            executable_path=chromium_path,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            page = browser.new_page(viewport={"width": 390, "height": 844})  # a phone
            page.goto(f"{base_url}/")
            page.get_by_label("Email address").fill("Nia@Example.com")
            page.get_by_label("First name").fill("Nia")
            time.sleep(1.1)  # a person takes longer than the minimum fill time
            page.get_by_role("button", name="Subscribe").click()
            page.wait_for_load_state()
            assert "Check your inbox" in page.content()
            nia = subscriber(pulse, "nia@example.com")
            assert nia is not None and nia.status is SubscriberStatus.PENDING
            assert nia.consent_user_agent and "Chrom" in nia.consent_user_agent

            link = outbox.link("nia@example.com", "confirm")
            page.goto(f"{base_url}{link}")
            assert subscriber(pulse, "nia@example.com").status is SubscriberStatus.PENDING  # type: ignore[union-attr]
            page.get_by_role("button", name="Confirm").click()
            page.wait_for_load_state()
            assert "You're subscribed" in page.content()
        finally:
            browser.close()
        nia = subscriber(pulse, "nia@example.com")
        assert nia is not None and nia.status is SubscriberStatus.ACTIVE

        unsubscribe_url = re.findall(
            r"(https?://\S+/u/[A-Za-z0-9._-]+)", outbox.text(outbox.to("nia@example.com")[-1])
        )
        assert unsubscribe_url, "the welcome email carries the unsubscribe link"
        one_click = requests.post(
            unsubscribe_url[0], data={"List-Unsubscribe": "One-Click"}, timeout=30
        )
        assert one_click.status_code == 200
        assert subscriber(pulse, "nia@example.com").status is SubscriberStatus.UNSUBSCRIBED  # type: ignore[union-attr]
