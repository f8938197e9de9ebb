"""A real browser: sign up, confirm from the mailed link, then leave with an RFC 8058 POST."""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING

import pytest
import requests

from subscribers.models import SubscriberStatus
from tests.harness.waiting import eventually
from tests.subscribers.conftest import MakePulse, Outbox, subscriber
from tests.subscribers.server import running_server

if TYPE_CHECKING:
    from playwright.sync_api import Browser

pytestmark = pytest.mark.browser


def test_sign_up_confirm_and_one_click_unsubscribe_in_chromium(
    chromium: Browser, make_pulse: MakePulse, outbox: Outbox
) -> None:
    # The single welcome email (the series is off here; tests/welcome has the series).
    with running_server(make_pulse, signup_min_fill_seconds=1, welcome_series="") as (
        base_url,
        pulse,
    ):
        page = chromium.new_page(viewport={"width": 390, "height": 844})  # a phone
        page.goto(f"{base_url}/")
        page.get_by_label("Email address").fill("Nia@Example.com")
        page.get_by_label("First name").fill("Nia")
        # Real time: a real server judges the form's age by its clock (no seam).
        time.sleep(1.1)  # a person takes longer than the minimum fill time
        page.get_by_role("button", name="Subscribe").click()
        page.wait_for_load_state()
        assert "Check your inbox" in page.content()
        # The signup is recorded after the answer, in the server's sending thread.
        nia = eventually(lambda: subscriber(pulse, "nia@example.com"), what="the signup")
        assert nia.status is SubscriberStatus.PENDING
        assert nia.consent_user_agent and "Chrom" in nia.consent_user_agent

        # The confirmation is mailed after the answer, in the server's thread.
        eventually(lambda: outbox.to("nia@example.com"), what="the confirmation email")
        link = outbox.link("nia@example.com", "confirm")
        page.goto(f"{base_url}{link}")
        assert subscriber(pulse, "nia@example.com").status is SubscriberStatus.PENDING  # type: ignore[union-attr]
        page.get_by_role("button", name="Confirm").click()
        page.wait_for_load_state()
        assert "You're subscribed" in page.content()
        nia = subscriber(pulse, "nia@example.com")
        assert nia is not None and nia.status is SubscriberStatus.ACTIVE

        welcome = eventually(lambda: outbox.to("nia@example.com")[1:], what="the welcome email")
        unsubscribe_url = re.findall(r"(https?://\S+/u/[A-Za-z0-9._-]+)", outbox.text(welcome[-1]))
        assert unsubscribe_url, "the welcome email carries the unsubscribe link"
        one_click = requests.post(
            unsubscribe_url[0], data={"List-Unsubscribe": "One-Click"}, timeout=30
        )
        assert one_click.status_code == 200
        assert subscriber(pulse, "nia@example.com").status is SubscriberStatus.UNSUBSCRIBED  # type: ignore[union-attr]
