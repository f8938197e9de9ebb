"""200 simultaneous signups with duplicates against a real server: one row per address."""

from __future__ import annotations

import re
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.harness.waiting import eventually
from tests.subscribers.conftest import MakePulse, Outbox, all_subscribers, mail_queue_is_empty
from tests.subscribers.server import running_server

SIGNUPS = 200
DISTINCT = 60


@pytest.mark.slow
def test_simultaneous_signups_with_duplicates_make_one_row_and_one_email_each(
    make_pulse: MakePulse, outbox: Outbox
) -> None:
    with running_server(
        make_pulse, signup_per_ip_per_hour=10_000, signup_per_address_per_hour=10_000
    ) as (base_url, pulse):
        landing = requests.get(f"{base_url}/", timeout=30)
        cookies = landing.cookies.get_dict()
        # Form tokens are single-use: one page load per signup, all bound to one cookie.
        tokens = []
        for _ in range(SIGNUPS):
            page = requests.get(f"{base_url}/", cookies=cookies, timeout=30)
            found = re.search(r'name="form_token" value="([^"]+)"', page.text)
            assert found is not None
            tokens.append(found.group(1))
        # Mixed case on purpose: duplicates must be caught case-insensitively too.
        addresses = [
            f"reader{n % DISTINCT}@example.com" if n % 3 else f"READER{n % DISTINCT}@Example.com"
            for n in range(SIGNUPS)
        ]
        start = threading.Barrier(SIGNUPS)

        def sign_up(address: str, token: str) -> int:
            start.wait(timeout=60)
            response = requests.post(
                f"{base_url}/subscribe",
                data={"form_token": token, "email": address, "website": ""},
                cookies=cookies,
                timeout=120,
            )
            return response.status_code

        with ThreadPoolExecutor(max_workers=SIGNUPS) as pool:
            statuses = Counter(pool.map(sign_up, addresses, tokens))
        assert statuses == Counter({200: SIGNUPS})
        # The after-response work finishes (recording, then mailing) before we count.
        eventually(lambda: mail_queue_is_empty(pulse, drain=True), timeout=120, what="mailing")
        rows = all_subscribers(pulse)
        assert len(rows) == DISTINCT
        assert len({row.email_key for row in rows}) == DISTINCT
        # The throttle held under concurrency too: exactly one confirmation per address.
        mailed = Counter(str(m["To"]).lower() for m in outbox.messages())
        assert len(mailed) == DISTINCT and set(mailed.values()) == {1}
