"""A real browser: the profile selects, the time zone script, and the no-script guess."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import pytest

from tests.harness.waiting import eventually
from tests.subscribers.conftest import MakePulse, subscriber
from tests.subscribers.server import running_server

if TYPE_CHECKING:
    from playwright.sync_api import Browser

pytestmark = pytest.mark.browser


def test_the_browser_fills_its_time_zone_and_the_profile_is_recorded(
    chromium: Browser, make_pulse: MakePulse
) -> None:
    with running_server(make_pulse, signup_min_fill_seconds=1) as (base_url, pulse):
        context = chromium.new_context(timezone_id="Asia/Tokyo", locale="en-US")
        page = context.new_page()
        page.goto(f"{base_url}/")
        # The script (same origin, allowed by the CSP) chose the browser's zone.
        assert page.locator("#timezone").input_value() == "Asia/Tokyo"
        page.get_by_label("Email address").fill("kai@example.com")
        page.get_by_label("Your role").select_option("se-manager")
        page.get_by_label("Your level").select_option(label="Staff / Principal")
        page.get_by_label("Where you work").select_option("JP")
        time.sleep(1.1)  # a person takes longer than the minimum fill time
        page.get_by_role("button", name="Subscribe").click()
        page.wait_for_load_state()
        assert "Check your inbox" in page.content()

        def recorded() -> tuple[str | None, ...] | None:
            kai = subscriber(pulse, "kai@example.com")
            return None if kai is None else (kai.role, kai.level, kai.region, kai.timezone)

        profile = eventually(recorded, what="the recorded signup")
        assert profile == ("se-manager", "staff", "JP", "Asia/Tokyo")
        context.close()


def test_without_script_the_language_guess_stands_and_the_reader_may_change_it(
    chromium: Browser, make_pulse: MakePulse
) -> None:
    with running_server(make_pulse, signup_min_fill_seconds=1) as (base_url, pulse):
        context = chromium.new_context(
            java_script_enabled=False, locale="en-GB", timezone_id="America/Chicago"
        )
        page = context.new_page()
        page.goto(f"{base_url}/")
        assert page.locator("#timezone").input_value() == "Europe/London"
        page.get_by_label("Email address").fill("lee@example.com")
        page.locator("#timezone").select_option("Europe/Dublin")
        time.sleep(1.1)
        page.get_by_role("button", name="Subscribe").click()
        page.wait_for_load_state()
        assert "Check your inbox" in page.content()
        lee = eventually(lambda: subscriber(pulse, "lee@example.com"), what="the signup")
        assert (lee.role, lee.timezone) == (None, "Europe/Dublin")
        context.close()


def test_the_forms_with_the_profile_pass_axe(chromium: Browser, make_pulse: MakePulse) -> None:
    from pulse_core.database import transaction
    from subscribers.service import add_subscriber
    from tests.analytics.test_desk_browser import violations

    with running_server(make_pulse) as (base_url, pulse):
        with transaction(pulse.db.sessions) as session:
            person, _ = add_subscriber(
                session, "ada@example.com", consent_text="t", consent_source="t"
            )
            token = pulse.signer.preferences_token(person.id)
        # axe is injected inline, which the pages' CSP forbids: this browser ignores the CSP.
        context = chromium.new_context(bypass_csp=True, timezone_id="Europe/Berlin")
        page = context.new_page()
        for path in ("/", f"/preferences/{token}"):
            page.goto(f"{base_url}{path}")
            assert page.locator("#timezone").input_value() == "Europe/Berlin"
            assert violations(page) == [], path
        context.close()
