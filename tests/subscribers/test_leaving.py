"""Unsubscribing (RFC 8058), preferences, pause, suppression through re-signup."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from pipeline.delivery.models import Delivery
from pipeline.delivery.outbox import claim_next_batch, create_deliveries
from pipeline.issues.models import Issue, IssueStatus
from pipeline.wiring import Pulse
from pulse_core.database import transaction, utcnow
from subscribers.history import history_of
from subscribers.models import SubscriberStatus
from subscribers.suppression import is_suppressed
from tests.forgery import altered
from tests.subscribers.conftest import Outbox, sign_up, subscriber


def confirmed(client: TestClient, site: Pulse, outbox: Outbox, address: str) -> int:
    sign_up(client, address, "Lee")
    client.post(outbox.link(address, "confirm"))
    found = subscriber(site, address)
    assert found is not None and found.status is SubscriberStatus.ACTIVE
    return found.id


def causes(site: Pulse, subscriber_id: int) -> list[str]:
    with transaction(site.db.sessions) as session:
        return [c.cause for c in history_of(session, subscriber_id)]


def suppressed(site: Pulse, address: str) -> bool:
    with transaction(site.db.sessions) as session:
        return is_suppressed(session, address, site.subscribers.hash_keys)


def add_sending_issue(session: Session, week: str, number: int) -> tuple[int, int]:
    """An issue whose send has begun: its id and how many delivery rows were created."""
    issue = Issue(
        week_key=week,
        number=number,
        subject="s",
        preheader="p",
        status=IssueStatus.SENDING,
        mjml="",
        html="",
        text="",
    )
    session.add(issue)
    session.flush()
    return issue.id, create_deliveries(session, issue.id)


def sending_issue(site: Pulse, week: str, number: int) -> tuple[int, int]:
    """:func:`add_sending_issue` in a transaction of its own."""
    with transaction(site.db.sessions) as session:
        return add_sending_issue(session, week, number)


def test_one_click_post_unsubscribes_without_cookies_urlencoded(
    client: TestClient, site: Pulse, outbox: Outbox
) -> None:
    sid = confirmed(client, site, outbox, "lee@example.com")
    url = f"/u/{site.signer.unsubscribe_token(sid)}"
    mail_client = TestClient(client.app)  # a mailbox provider: no cookies, no session
    response = mail_client.post(url, data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert subscriber(site, "lee@example.com").status is SubscriberStatus.UNSUBSCRIBED  # type: ignore[union-attr]
    assert suppressed(site, "lee@example.com")
    assert mail_client.post(url, data={"List-Unsubscribe": "One-Click"}).status_code == 200
    assert causes(site, sid) == ["signup", "confirm", "unsubscribe:one-click"]


def test_one_click_post_accepts_multipart(client: TestClient, site: Pulse, outbox: Outbox) -> None:
    sid = confirmed(client, site, outbox, "max@example.com")
    url = f"/u/{site.signer.unsubscribe_token(sid)}"
    response = TestClient(client.app).post(url, files={"List-Unsubscribe": (None, "One-Click")})
    assert response.status_code == 200
    assert subscriber(site, "max@example.com").status is SubscriberStatus.UNSUBSCRIBED  # type: ignore[union-attr]


def test_get_unsubscribe_shows_one_button_and_changes_nothing(
    client: TestClient, site: Pulse, outbox: Outbox
) -> None:
    sid = confirmed(client, site, outbox, "ned@example.com")
    url = f"/u/{site.signer.unsubscribe_token(sid)}"
    page = client.get(url)
    assert page.status_code == 200
    assert page.text.count("<button") == 1 and "/preferences/" in page.text
    assert "ned@example.com" not in page.text  # masked: the link may have been forwarded
    assert subscriber(site, "ned@example.com").status is SubscriberStatus.ACTIVE  # type: ignore[union-attr]
    client.post(url, data={"List-Unsubscribe": "One-Click", "source": "page"})
    assert causes(site, sid)[-1] == "unsubscribe:page"


def test_forged_unsubscribe_tokens_are_refused(client: TestClient, site: Pulse) -> None:
    token = site.signer.unsubscribe_token(1)
    for bad in (altered(token), site.signer.preferences_token(1), "x" * 1000, "%00"):
        assert client.post(f"/u/{bad}", data={"List-Unsubscribe": "One-Click"}).status_code in (
            400,
            404,
        )
        assert client.get(f"/u/{bad}").status_code in (400, 404)


def test_unsubscribe_takes_effect_before_the_next_batch_mid_send(
    client: TestClient, site: Pulse, outbox: Outbox
) -> None:
    first = confirmed(client, site, outbox, "oli@example.com")
    second = confirmed(client, site, outbox, "pam@example.com")
    issue_id, _created = sending_issue(site, "2026-W48", 1)
    client.post(
        f"/u/{site.signer.unsubscribe_token(second)}", data={"List-Unsubscribe": "One-Click"}
    )
    with transaction(site.db.sessions) as session:
        claimed = claim_next_batch(session, issue_id, 10)
    assert [c.subscriber_id for c in claimed] == [first]


def test_preferences_rename_pause_resume_and_the_send_skips_paused(
    client: TestClient, site: Pulse, outbox: Outbox
) -> None:
    sid = confirmed(client, site, outbox, "quinn@example.com")
    long_lived = f"/preferences/{site.signer.preferences_token(sid)}"
    page = client.get(long_lived)
    assert page.status_code == 200 and "Pause" in page.text and "Download my data" not in page.text
    assert client.post(long_lived, data={"action": "name", "first_name": "Q"}).status_code == 403
    asked = client.post(long_lived, data={"action": "send_link"})
    assert asked.status_code == 200 and "We emailed a link" in asked.text
    url = outbox.link("quinn@example.com", "preferences")
    assert "Download my data" in client.get(url).text
    renamed = client.post(url, data={"action": "name", "first_name": "<b>Q</b>"})
    assert renamed.status_code == 200 and "&lt;b&gt;Q&lt;/b&gt;" in renamed.text
    assert subscriber(site, "quinn@example.com").first_name == "<b>Q</b>"  # type: ignore[union-attr]
    assert client.post(url, data={"action": "pause", "weeks": "9"}).status_code == 400
    assert client.post(url, data={"action": "pause", "weeks": "two"}).status_code == 400
    paused = client.post(url, data={"action": "pause", "weeks": "2"})
    assert paused.status_code == 200 and "paused until" in paused.text
    quinn = subscriber(site, "quinn@example.com")
    assert (
        quinn is not None and quinn.status is SubscriberStatus.ACTIVE and quinn.is_paused(utcnow())
    )
    assert sending_issue(site, "2026-W49", 2)[1] == 0
    client.post(url, data={"action": "resume"})
    assert not subscriber(site, "quinn@example.com").is_paused(utcnow())  # type: ignore[union-attr]


def test_resubscribing_needs_a_fresh_confirmation_and_lifts_suppression_only_then(
    client: TestClient, site: Pulse, outbox: Outbox
) -> None:
    sid = confirmed(client, site, outbox, "ray@example.com")
    url = f"/preferences/{site.signer.preferences_token(sid)}"
    client.post(url, data={"action": "unsubscribe"})
    assert suppressed(site, "ray@example.com")
    before = len(outbox.to("ray@example.com"))
    back = client.post(url, data={"action": "resubscribe"})
    assert back.status_code == 200 and "confirm" in back.text
    assert subscriber(site, "ray@example.com").status is SubscriberStatus.PENDING  # type: ignore[union-attr]
    assert suppressed(site, "ray@example.com")
    assert len(outbox.to("ray@example.com")) == before + 1
    client.post(outbox.link("ray@example.com", "confirm"))
    assert subscriber(site, "ray@example.com").status is SubscriberStatus.ACTIVE  # type: ignore[union-attr]
    assert not suppressed(site, "ray@example.com")


def test_an_old_confirmation_link_does_not_undo_an_unsubscribe(
    client: TestClient, site: Pulse, outbox: Outbox
) -> None:
    sid = confirmed(client, site, outbox, "sue@example.com")
    link = outbox.link("sue@example.com", "confirm")
    client.post(f"/u/{site.signer.unsubscribe_token(sid)}", data={"List-Unsubscribe": "One-Click"})
    page = client.post(link)
    assert page.status_code == 200 and "no longer valid" in page.text
    assert subscriber(site, "sue@example.com").status is SubscriberStatus.UNSUBSCRIBED  # type: ignore[union-attr]


def test_resigning_up_after_leaving_sends_a_confirmation_and_keeps_suppression(
    client: TestClient, site: Pulse, outbox: Outbox
) -> None:
    sid = confirmed(client, site, outbox, "tom@example.com")
    client.post(f"/u/{site.signer.unsubscribe_token(sid)}", data={"List-Unsubscribe": "One-Click"})
    sign_up(client, "tom@example.com")
    tom = subscriber(site, "tom@example.com")
    assert tom is not None and tom.status is SubscriberStatus.PENDING
    assert suppressed(site, "tom@example.com")


def test_download_and_delete_my_data(client: TestClient, site: Pulse, outbox: Outbox) -> None:
    sid = confirmed(client, site, outbox, "uma@example.com")
    long_lived = f"/preferences/{site.signer.preferences_token(sid)}"
    assert client.get(f"{long_lived}/data.json").status_code == 403
    assert client.post(long_lived, data={"action": "delete", "confirm": "yes"}).status_code == 403
    client.post(long_lived, data={"action": "send_link"})
    url = outbox.link("uma@example.com", "preferences")
    download = client.get(f"{url}/data.json")
    assert download.status_code == 200 and "attachment" in download.headers["content-disposition"]
    record = json.loads(download.text)
    assert record["email"] == "uma@example.com" and record["consent"]["ip"] == "testclient"
    assert [h["cause"] for h in record["history"]] == ["signup", "confirm"]
    refused = client.post(url, data={"action": "delete"})
    assert refused.status_code == 400 and 'id="confirm-error"' in refused.text
    deleted = client.post(url, data={"action": "delete", "confirm": "yes"})
    assert deleted.status_code == 200 and "deleted" in deleted.text
    assert subscriber(site, "uma@example.com") is None
    assert suppressed(site, "uma@example.com")
    assert client.get(url).status_code == 400
    assert client.get(f"{url}/data.json").status_code == 400
    assert client.post(f"/u/{site.signer.unsubscribe_token(sid)}").status_code == 400
    with transaction(site.db.sessions) as session:
        assert list(session.scalars(select(Delivery))) == []
        assert history_of(session, sid) == []


def test_pausing_mid_send_skips_the_rest_of_that_issue(
    client: TestClient, site: Pulse, outbox: Outbox
) -> None:
    sid = confirmed(client, site, outbox, "vic@example.com")
    issue_id, created = sending_issue(site, "2026-W50", 3)
    assert created == 1
    url = f"/preferences/{site.signer.preferences_token(sid)}"
    assert client.post(url, data={"action": "pause", "weeks": "1"}).status_code == 200
    with transaction(site.db.sessions) as session:
        assert claim_next_batch(session, issue_id, 10) == []
        [row] = session.scalars(select(Delivery).where(Delivery.issue_id == issue_id))
        assert row.status.value == "skipped"
