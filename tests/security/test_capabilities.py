"""Issue 12 items 3, 11 and 13: what a link can do, server-set notices, HSTS."""

from __future__ import annotations

import logging
import secrets
import time

import pytest
from fastapi.testclient import TestClient
from itsdangerous import TimestampSigner

from pipeline.web.app import create_app
from pipeline.wiring import Pulse
from pulse_core.errors import SendFailed
from subscribers.display import header_text_problem
from tests.admin.conftest import Desk, cheap_password_hashing, csrf_of, desk
from tests.security.test_header_injection import PAYLOAD
from tests.subscribers.conftest import MakePulse, Outbox, sign_up, subscriber

__all__ = ["cheap_password_hashing", "desk"]


def _confirmed(client: TestClient, site: Pulse, outbox: Outbox, address: str) -> int:
    sign_up(client, address, "Lee")
    client.post(outbox.link(address, "confirm"))
    found = subscriber(site, address)
    assert found is not None
    return found.id


def _snapshot(site: Pulse, address: str) -> tuple[object, ...]:
    row = subscriber(site, address)
    assert row is not None
    return (row.email, row.first_name, row.status, row.consent_at, row.paused_until)


def test_the_link_in_every_email_cannot_export_rename_or_erase(
    client: TestClient, site: Pulse, outbox: Outbox
) -> None:
    sid = _confirmed(client, site, outbox, "reader@example.com")
    before = _snapshot(site, "reader@example.com")
    # What a mail relay or a forwardee holds: the List-Unsubscribe token and the footer link.
    unsubscribe_page = client.get(f"/u/{site.signer.unsubscribe_token(sid)}")
    assert unsubscribe_page.status_code == 200
    long_lived = f"/preferences/{site.signer.preferences_token(sid)}"
    page = client.get(long_lived)
    assert "reader@example.com" not in page.text  # masked
    assert client.get(f"{long_lived}/data.json").status_code == 403
    for data in (
        {"action": "name", "first_name": "Mallory"},
        {"action": "delete", "confirm": "yes"},
    ):
        answer = client.post(long_lived, data=data)
        assert answer.status_code == 403, data
    assert _snapshot(site, "reader@example.com") == before


def test_a_manage_link_expires_after_an_hour(
    client: TestClient, site: Pulse, outbox: Outbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    sid = _confirmed(client, site, outbox, "late@example.com")
    with monkeypatch.context() as past:
        past.setattr(TimestampSigner, "get_timestamp", lambda self: int(time.time()) - 3601)
        old = site.signer.manage_token(sid)
    before = _snapshot(site, "late@example.com")
    for answer in (
        client.get(f"/preferences/{old}"),
        client.get(f"/preferences/{old}/data.json"),
        client.post(f"/preferences/{old}", data={"action": "delete", "confirm": "yes"}),
    ):
        assert answer.status_code == 400 and "expired" in answer.text
    assert _snapshot(site, "late@example.com") == before
    fresh = site.signer.manage_token(sid)
    assert client.get(f"/preferences/{fresh}/data.json").status_code == 200


def test_asking_for_manage_links_cannot_flood_the_inbox(
    client: TestClient, site: Pulse, outbox: Outbox
) -> None:
    sid = _confirmed(client, site, outbox, "calm@example.com")
    long_lived = f"/preferences/{site.signer.preferences_token(sid)}"
    before = len(outbox.to("calm@example.com"))
    for _ in range(6):
        assert client.post(long_lived, data={"action": "send_link"}).status_code == 200
    assert len(outbox.to("calm@example.com")) == before + 3


def test_the_rename_on_a_manage_link_refuses_the_injection_payload(
    client: TestClient, site: Pulse, outbox: Outbox
) -> None:
    sid = _confirmed(client, site, outbox, "ren@example.com")
    url = f"/preferences/{site.signer.manage_token(sid)}"
    answer = client.post(url, data={"action": "name", "first_name": PAYLOAD})
    assert answer.status_code == 400 and 'id="first_name-error"' in answer.text
    row = subscriber(site, "ren@example.com")
    assert row is not None and row.first_name == "Lee"
    assert header_text_problem(row.first_name) is None


def test_a_notice_in_the_url_is_not_shown_as_a_banner(desk: Desk) -> None:
    client = desk.editor()
    forged = client.get("/admin?notice=Your+account+is+compromised,+call+555-0100")
    assert forged.status_code == 200 and "compromised" not in forged.text
    login = desk.client().get("/admin/login?notice=Password+expired")
    assert "Password expired" not in login.text


def test_a_server_notice_is_shown_once(desk: Desk) -> None:
    client = desk.client()
    out = client.post("/admin/logout", follow_redirects=True)
    # Logged out without a session: the desk still answers without a 5xx.
    assert out.status_code < 500
    editor = desk.editor()
    shown = editor.post("/admin/logout", data={"csrf_token": csrf_of(editor)})
    assert "You are logged out." in shown.text
    assert "You are logged out." not in editor.get("/admin/login").text


def test_hsts_is_sent_only_for_an_https_site(make_pulse: MakePulse) -> None:
    plain = TestClient(create_app(make_pulse()))
    assert "strict-transport-security" not in plain.get("/").headers
    site = make_pulse(base_url="https://news.example.com", secret_key=secrets.token_urlsafe(48))
    secure = TestClient(create_app(site), base_url="https://news.example.com")
    for path in ("/", "/healthz", "/admin/login", "/u/bad"):
        assert secure.get(path).headers["strict-transport-security"] == "max-age=31536000"


def test_no_token_reaches_the_logs_during_the_attacks(
    client: TestClient,
    site: Pulse,
    outbox: Outbox,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    caplog.set_level(logging.DEBUG)
    sid = _confirmed(client, site, outbox, "quiet@example.com")
    tokens = [
        site.signer.unsubscribe_token(sid),
        site.signer.preferences_token(sid),
        site.signer.manage_token(sid),
        site.signer.recover_token(sid),
    ]

    def failing(self: object, email: object) -> None:
        raise SendFailed("provider down")

    monkeypatch.setattr("pipeline.delivery.transactional.TransactionalSender.__call__", failing)
    for token in tokens:
        client.get(f"/u/{token}")
        client.get(f"/preferences/{token}/data.json")
        client.post(f"/preferences/{token}", data={"action": "send_link"})
        client.get(f"/recover/{token}")
    sign_up(client, "quiet2@example.com", PAYLOAD)
    # The app's own log lines, tracebacks included (the test client's request log is ours).
    formatter = logging.Formatter()
    server_log = "\n".join(
        formatter.format(record)
        for record in caplog.records
        if not record.name.startswith(("httpx", "asyncio"))
    )
    assert "could not send a manage link" in server_log  # the failure was logged
    for token in tokens:
        assert token not in server_log
