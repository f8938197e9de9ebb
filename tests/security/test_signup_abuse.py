"""Issue 12 items 4, 8 and 12: signup timing, suppressed re-signup, replayed form tokens."""

from __future__ import annotations

import re
import threading

import pytest
import requests
from fastapi.testclient import TestClient
from sqlalchemy import delete, select

from pipeline.delivery.transactional import TransactionalSender
from pipeline.web.mail_sender import QueueSender
from pipeline.wiring import Pulse
from pulse_core.database import transaction
from pulse_core.errors import SendFailed
from subscribers import signup
from subscribers.history import change_status, history_of
from subscribers.models import ConfirmationSend, QueuedMail, Subscriber, SubscriberStatus
from subscribers.outgoing import OutgoingEmail
from subscribers.privacy import erase
from subscribers.signup import Consent, drain_signup_mail
from subscribers.suppression import SuppressionReason, is_suppressed, suppress
from tests.harness.waiting import eventually
from tests.subscribers.conftest import (
    FORM_TOKEN,
    MakePulse,
    Outbox,
    all_subscribers,
    form_token,
    mail_queue_is_empty,
    sign_up,
    subscriber,
)
from tests.subscribers.server import running_server


def _post_signup(base_url: str, address: str) -> requests.Response:
    page = requests.get(f"{base_url}/", timeout=30)
    found = FORM_TOKEN.search(page.text)
    assert found is not None
    return requests.post(
        f"{base_url}/subscribe",
        data={"form_token": found.group(1), "email": address, "website": ""},
        cookies=page.cookies.get_dict(),
        timeout=30,
    )


def test_the_signup_answer_does_not_wait_for_the_provider(
    make_pulse: MakePulse, outbox: Outbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The provider hangs until released: if the answer waited for it, the request would
    # time out. It comes back at once for a new address and for a known one alike.
    release = threading.Event()
    real_send = TransactionalSender.__call__

    def hanging_send(self: TransactionalSender, email: OutgoingEmail) -> None:
        assert release.wait(timeout=60)
        real_send(self, email)

    monkeypatch.setattr(TransactionalSender, "__call__", hanging_send)
    with running_server(make_pulse) as (base_url, pulse):
        try:
            new = _post_signup(base_url, "new@example.com")
            assert new.status_code == 200 and "Check your inbox" in new.text
            known = _post_signup(base_url, "new@example.com")  # pending, throttled now
            assert known.status_code == 200 and known.text == new.text
            assert outbox.messages() == []
            with transaction(pulse.db.sessions) as session:
                kinds = {q.kind for q in session.scalars(select(QueuedMail))}
            # Both requests only queued their signup; recording and mailing come after.
            assert kinds <= {"signup", "confirm"} and "signup" in kinds
        finally:
            release.set()
        # Released, the after-response send finishes the job (the row is claimed by it).
        eventually(lambda: mail_queue_is_empty(pulse), what="the after-response send")
    assert len(outbox.to("new@example.com")) == 1


def test_a_failed_queued_email_is_retried_by_the_next_drain(
    client: TestClient, site: Pulse, outbox: Outbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing(self: TransactionalSender, email: OutgoingEmail) -> None:
        raise SendFailed("provider down")

    with monkeypatch.context() as patched:
        patched.setattr(TransactionalSender, "__call__", failing)
        assert sign_up(client, "wait@example.com").status_code == 200
    assert outbox.messages() == []
    with transaction(site.db.sessions) as session:
        [row] = session.scalars(select(QueuedMail).where(QueuedMail.kind == "confirm"))
        assert row.attempts == 1 and row.sent_at is None and row.last_error == "provider down"
        row.due_at = row.created_at  # due again now
    assert drain_signup_mail(site.subscribers) == 1
    assert len(outbox.to("wait@example.com")) == 1


def _make_suppressed(site: Pulse, address: str, status: SubscriberStatus) -> int:
    found = subscriber(site, address)
    assert found is not None
    with transaction(site.db.sessions) as session:
        row = session.get(Subscriber, found.id)
        assert row is not None
        change_status(session, row, status, cause=f"{status.value}:test")
        reason = SuppressionReason(status.value)
        suppress(session, row.email, reason, site.subscribers.hash_keys[0])
        # The throttle slot of the original confirmation must not hide the recovery email.
        session.execute(delete(ConfirmationSend))
    return found.id


@pytest.mark.parametrize("status", [SubscriberStatus.COMPLAINED, SubscriberStatus.BOUNCED])
def test_a_suppressed_address_stays_suppressed_when_anyone_signs_it_up(
    client: TestClient, site: Pulse, outbox: Outbox, status: SubscriberStatus
) -> None:
    sign_up(client, "gone@example.com", "Gil")
    assert drain_signup_mail(site.subscribers) == 0  # sent after the answer already
    client.post(outbox.link("gone@example.com", "confirm"))
    sid = _make_suppressed(site, "gone@example.com", status)
    before = subscriber(site, "gone@example.com")
    assert before is not None
    mails_before = len(outbox.to("gone@example.com"))

    again = sign_up(client, "gone@example.com", "Mallory")
    assert again.status_code == 200 and "Check your inbox" in again.text
    after = subscriber(site, "gone@example.com")
    assert after is not None and after.status is status
    assert (after.consent_at, after.consent_ip, after.first_name) == (
        before.consent_at,
        before.consent_ip,
        "Gil",
    )
    with transaction(site.db.sessions) as session:
        assert is_suppressed(session, "gone@example.com", site.subscribers.hash_keys)
    # One email, and it says what happened; a second signup this month sends nothing.
    mails = outbox.to("gone@example.com")[mails_before:]
    assert len(mails) == 1 and "again" in str(mails[0]["Subject"])
    text = outbox.text(mails[0])
    assert ("spam" if status is SubscriberStatus.COMPLAINED else "bounced") in text
    sign_up(client, "gone@example.com")
    assert len(outbox.to("gone@example.com")) == mails_before + 1

    # The owner recovers through the link: the page says why, the POST restores.
    link = outbox.link("gone@example.com", "recover")
    page = client.get(link)
    assert page.status_code == 200 and "We stopped writing" in page.text
    assert subscriber(site, "gone@example.com").status is status  # type: ignore[union-attr]
    done = client.post(link)
    assert done.status_code == 200
    back = subscriber(site, "gone@example.com")
    assert back is not None and back.status is SubscriberStatus.ACTIVE
    with transaction(site.db.sessions) as session:
        assert not is_suppressed(session, "gone@example.com", site.subscribers.hash_keys)
        assert history_of(session, sid)[-1].cause == "recover"


def test_a_recovery_link_cannot_be_forged_or_used_for_another_purpose(
    client: TestClient, site: Pulse
) -> None:
    for bad in ("x", site.signer.confirm_token(1), site.signer.unsubscribe_token(1), "a" * 900):
        assert client.get(f"/recover/{bad}").status_code == 400
        assert client.post(f"/recover/{bad}").status_code == 400


def test_a_processed_signup_request_keeps_no_personal_data_in_the_queue(
    client: TestClient, site: Pulse
) -> None:
    sign_up(client, "tidy@example.com", "Tia")
    with transaction(site.db.sessions) as session:
        [row] = session.scalars(select(QueuedMail).where(QueuedMail.kind == "signup"))
        assert row.sent_at is not None
        assert (row.email, row.first_name, row.consent_ip, row.consent_user_agent) == (
            None,
            None,
            None,
            None,
        )


def test_a_signup_form_token_can_be_sent_once(client: TestClient, site: Pulse) -> None:
    token = form_token(client)
    data = {"form_token": token, "email": "once@example.com", "website": ""}
    assert client.post("/subscribe", data=data).status_code == 200
    replay = client.post("/subscribe", data={**data, "email": "twice@example.com"})
    assert replay.status_code == 400 and "send it again" in replay.text
    assert [s.email for s in all_subscribers(site)] == ["once@example.com"]
    # The refusal page carries a fresh token that works.
    fresh = re.search(r'name="form_token" value="([^"]+)"', replay.text)
    assert fresh is not None and fresh.group(1) != token
    ok = client.post("/subscribe", data={**data, "form_token": fresh.group(1)})
    assert ok.status_code == 200


def test_the_serve_background_sender_does_what_the_requests_left(
    site: Pulse, outbox: Outbox
) -> None:
    # A signup whose after-response work never ran (the process died): still queued.
    consent = Consent(text="t", source="test")
    signup.request_signup(site.subscribers, "left@example.com", None, consent)
    assert outbox.messages() == [] and all_subscribers(site) == []
    sender = QueueSender(site.subscribers, interval=0.05)
    sender.start()
    try:
        eventually(lambda: outbox.to("left@example.com"), what="the background send")
    finally:
        sender.stop()
    assert len(outbox.to("left@example.com")) == 1


def test_an_erased_address_that_complained_stays_suppressed_on_a_new_signup(
    client: TestClient, site: Pulse, outbox: Outbox
) -> None:
    sign_up(client, "erased@example.com")
    client.post(outbox.link("erased@example.com", "confirm"))
    sid = _make_suppressed(site, "erased@example.com", SubscriberStatus.COMPLAINED)
    with transaction(site.db.sessions) as session:
        row = session.get(Subscriber, sid)
        assert row is not None
        erase(session, row, site.subscribers.leaving)
    before = len(outbox.to("erased@example.com"))
    sign_up(client, "erased@example.com", "Eve")
    again = subscriber(site, "erased@example.com")
    assert again is not None and again.id != sid
    assert again.status is SubscriberStatus.COMPLAINED and again.consent_at is None
    [mail] = outbox.to("erased@example.com")[before:]
    assert "spam" in outbox.text(mail)
    client.post(outbox.link("erased@example.com", "recover"))
    back = subscriber(site, "erased@example.com")
    assert back is not None and back.status is SubscriberStatus.ACTIVE
    assert back.consent_source == "web:/recover confirmation"
