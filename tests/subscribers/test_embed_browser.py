"""The embed in Chromium, from pages served on other loopback origins (``localhost:PORT``).

The app runs on ``127.0.0.1:A``; the partner's page on ``localhost:B`` is listed in
``PULSE_EMBED_ORIGINS``, a stranger's on ``localhost:C`` is not. Same machine, three origins.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING

import pytest

from subscribers.models import SubscriberStatus
from subscribers.web.embed_routes import embed_snippet, iframe_snippet
from tests.harness.waiting import eventually
from tests.subscribers.conftest import MakePulse, Outbox, mail_queue_is_empty, subscriber
from tests.subscribers.server import running_server

if TYPE_CHECKING:
    from playwright.sync_api import Browser

pytestmark = pytest.mark.browser


@contextmanager
def static_site() -> Iterator[tuple[str, dict[str, str]]]:
    """A plain page server on an ephemeral port; yields its localhost origin and its pages."""
    pages: dict[str, str] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = pages.get(self.path, "not found").encode()
            self.send_response(200 if self.path in pages else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # quiet
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://localhost:{server.server_address[1]}", pages
    finally:
        server.shutdown()
        server.server_close()


def partner_page(body: str) -> str:
    return f"<!doctype html><html><head><title>Partner</title></head><body>{body}</body></html>"


def test_embedded_form_signs_up_cross_origin_and_other_origins_are_refused(
    chromium: Browser, make_pulse: MakePulse, outbox: Outbox
) -> None:
    with (
        static_site() as (partner, partner_pages),
        static_site() as (stranger, stranger_pages),
        running_server(make_pulse, embed_origins=partner, signup_min_fill_seconds=1) as (
            base_url,
            pulse,
        ),
    ):
        for pages in (partner_pages, stranger_pages):
            pages["/snippet"] = partner_page(embed_snippet(base_url))
            pages["/iframe"] = partner_page(iframe_snippet(base_url))
        page = chromium.new_page()

        # The plain snippet on the listed site: a step on our site, then the signup.
        page.goto(f"{partner}/snippet")
        page.get_by_label("Email address").fill("Ola@Example.com")
        page.get_by_label("First name").fill("Ola")
        page.get_by_role("button", name="Subscribe").click()
        page.wait_for_load_state()
        assert page.url.startswith(f"{base_url}/embed/subscribe")
        assert "One more step" in page.content()
        assert subscriber(pulse, "ola@example.com") is None  # nothing before the step
        time.sleep(1.1)  # a person reads the step longer than the minimum fill time
        page.get_by_role("button", name="Subscribe").click()
        page.wait_for_load_state()
        assert "Check your inbox" in page.content()
        eventually(lambda: outbox.to("ola@example.com"), what="the confirmation email")
        ola = subscriber(pulse, "ola@example.com")
        assert ola is not None and ola.status is SubscriberStatus.PENDING
        assert ola.consent_source == f"embed:{partner}"
        page.goto(f"{base_url}{outbox.link('ola@example.com', 'confirm')}")
        page.get_by_role("button", name="Confirm").click()
        page.wait_for_load_state()
        assert subscriber(pulse, "ola@example.com").status is SubscriberStatus.ACTIVE  # type: ignore[union-attr]

        # The iframe on the listed site: the form is ours, framed by theirs.
        page.goto(f"{partner}/iframe")
        frame = page.frame_locator("iframe")
        frame.get_by_label("Email address").fill("pia@example.com")
        time.sleep(1.1)
        frame.get_by_role("button", name="Subscribe").click()
        frame.get_by_text("Check your inbox").wait_for()
        eventually(lambda: outbox.to("pia@example.com"), what="the iframe's confirmation")
        assert subscriber(pulse, "pia@example.com").consent_source == f"embed:{partner}"  # type: ignore[union-attr]

        # A site not on the list: the snippet is refused, the iframe is not shown.
        page.goto(f"{stranger}/snippet")
        page.get_by_label("Email address").fill("quinn@example.com")
        page.get_by_role("button", name="Subscribe").click()
        page.wait_for_load_state()
        assert "This form cannot be used here" in page.content()
        page.goto(f"{stranger}/iframe")
        page.wait_for_load_state()
        [framed] = [f for f in page.frames if f != page.main_frame]
        assert "embed_token" not in framed.content()  # blocked by frame-ancestors
        assert mail_queue_is_empty(pulse, drain=True)
        assert subscriber(pulse, "quinn@example.com") is None
