"""Privacy switches, erasure, opens, the issue report, the ledger and retry-failed."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from pipeline.analytics.models import DeliveryRetry, Engagement
from pipeline.analytics.report import issue_report
from pipeline.config import load_settings
from pipeline.delivery.models import Delivery, DeliveryStatus
from pipeline.events.models import BounceKind, EventType, ProviderEvent
from pipeline.issues.models import Issue
from pipeline.wiring import Pulse
from pipeline.workflow import weekly
from pulse_core.database import transaction, utcnow
from subscribers.models import Subscriber, SubscriberStatus
from subscribers.privacy import erase, find_by_email
from tests.analytics.conftest import (
    BROWSER,
    WEEK,
    SentIssue,
    click_urls,
    html_part,
    messages,
    path_of,
    seed_and_build,
    text_part,
)
from tests.conftest import Cli, Workspace


def age_the_send(sent: SentIssue, hours: float = 2) -> None:
    """Pretend the send was ``hours`` ago, so clicks now are not "seconds after delivery"."""
    earlier = utcnow() - timedelta(hours=hours)
    with transaction(sent.pulse.db.sessions) as session:
        session.execute(update(Delivery).values(sent_at=earlier))
        session.execute(update(Issue).values(send_started_at=earlier))


def human_click(sent: SentIssue, url: str) -> None:
    assert sent.client.get(path_of(url), headers={"user-agent": BROWSER}).status_code == 302


def engagements(pulse: Pulse) -> int:
    with transaction(pulse.db.sessions) as session:
        return int(session.scalar(select(func.count()).select_from(Engagement)) or 0)


def test_a_reader_who_opted_out_gets_direct_links(pulse: Pulse, workspace: Workspace) -> None:
    seed_and_build(pulse, 4)
    with transaction(pulse.db.sessions) as session:
        reader = session.scalars(select(Subscriber).order_by(Subscriber.id)).first()
        assert reader is not None
        reader.track_clicks = False
        email = reader.email
    weekly.send_week(pulse, WEEK)
    mails = messages(workspace.outbox)
    assert click_urls(mails[email]) == []
    assert "https://jobs.example.com/" in html_part(mails[email])
    others = [m for address, m in mails.items() if address != email]
    assert all(click_urls(m) for m in others)


def test_turning_tracking_off_mid_way_stops_recording_old_links(sent: SentIssue) -> None:
    email, message = next(iter(sent.mails().items()))
    with transaction(sent.pulse.db.sessions) as session:
        session.execute(
            update(Subscriber).where(Subscriber.email == email).values(track_clicks=False)
        )
    human_click(sent, click_urls(message)[0])  # still redirects
    assert engagements(sent.pulse) == 0


def test_pulse_track_clicks_off_sends_direct_links_and_no_footer_note(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PULSE_TRACK_CLICKS", "false")
    pulse = Pulse(load_settings())
    try:
        seed_and_build(pulse, 2)
        weekly.send_week(pulse, WEEK)
    finally:
        pulse.close()
    for message in messages(workspace.outbox).values():
        assert click_urls(message) == []
        assert "counted" not in text_part(message)
        assert "%%pulse" not in html_part(message)


def test_erasure_removes_the_subscriber_s_clicks(sent: SentIssue) -> None:
    age_the_send(sent)
    mails = list(sent.mails().items())
    for _email, message in mails[:2]:
        human_click(sent, click_urls(message)[0])
    assert engagements(sent.pulse) == 2
    with transaction(sent.pulse.db.sessions) as session:
        subscriber = find_by_email(session, mails[0][0])
        ctx = sent.pulse.subscribers
        erase(session, subscriber, ctx.leaving, ctx.erasure_hooks)
    assert engagements(sent.pulse) == 1


def test_opens_are_off_by_default(sent: SentIssue) -> None:
    message = next(iter(sent.mails().values()))
    assert "/o/" not in html_part(message)


def test_opens_when_on_flag_apple_privacy_proxy_fetches(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fastapi.testclient import TestClient

    from pipeline.web.app import create_app

    monkeypatch.setenv("PULSE_TRACK_OPENS", "true")
    pulse = Pulse(load_settings())
    try:
        seed_and_build(pulse, 2)
        weekly.send_week(pulse, WEEK)
        pixels = [
            html_part(m).split('src="http://127.0.0.1:8000/o/')[1].split('"')[0]
            for m in messages(workspace.outbox).values()
        ]
        with TestClient(create_app(pulse), client=("17.58.4.1", 5000)) as client:
            answer = client.get(f"/o/{pixels[0]}", headers={"user-agent": "Mozilla/5.0"})
            assert answer.status_code == 200 and answer.headers["content-type"] == "image/gif"
            assert client.get("/o/forged.gif").status_code == 200  # a pixel, never an error
        with transaction(pulse.db.sessions) as session:
            (row,) = session.scalars(select(Engagement)).all()
            assert row.machine and "apple-privacy-proxy" in row.reasons
            assert row.network == "17.58.4.0/24"
            issue = session.scalar(select(Issue))
            assert issue is not None
            report = issue_report(session, issue, utcnow())
        assert (report.human_opens, report.machine_opens) == (0, 1)
    finally:
        pulse.close()


def _event(
    session,
    delivery: Delivery,
    kind: EventType,
    raw: dict[str, object],
    key: str,
    provider: str = "sendgrid",
    bounce: BounceKind | None = None,
) -> None:  # type: ignore[no-untyped-def]
    session.add(
        ProviderEvent(
            provider=provider,
            event_key=key,
            type=kind,
            bounce_kind=bounce,
            delivery_id=delivery.id,
            subscriber_id=delivery.subscriber_id,
            occurred_at=utcnow(),
            raw=json.dumps(raw),
        )
    )


def test_the_report_counts_humans_and_shows_machines_apart(sent: SentIssue, cli: Cli) -> None:
    age_the_send(sent)
    mails = list(sent.mails().values())
    human_click(sent, click_urls(mails[0])[0])
    human_click(sent, click_urls(mails[0])[0])  # the same reader twice: one clicker
    human_click(sent, click_urls(mails[1])[1])
    # A scanner follows every link of a third message in the same second.
    for url in click_urls(mails[2]):
        sent.client.get(path_of(url), headers={"user-agent": BROWSER})
    with transaction(sent.pulse.db.sessions) as session:
        deliveries = list(session.scalars(select(Delivery).order_by(Delivery.id)))
        _event(session, deliveries[3], EventType.BOUNCED, {}, "b1", bounce=BounceKind.HARD)
        _event(session, deliveries[4], EventType.COMPLAINED, {}, "c1")
        _event(session, deliveries[0], EventType.OPENED, {"sg_machine_open": True}, "o1")
        _event(
            session,
            deliveries[1],
            EventType.OPENED,
            {"useragent": BROWSER, "ip": "203.0.113.5", "sg_machine_open": False},
            "o2",
        )
    result = cli("issue", "report", "--week", WEEK, "--format", "json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    first, second = report["links"][0], report["links"][1]
    assert first["url"].startswith("https://") and first["human_clicks"] == 2
    assert second["human_clicks"] == 1
    assert report["unique_human_clickers"] == 2
    assert report["human_clicks"] == 3
    assert report["machine_clicks"] == len(click_urls(mails[2]))
    assert "same-second-burst" in report["machine_reasons"]
    assert report["bounced"] == {"hard": 1, "soft": 0} and report["complained"] == 1
    assert report["delivered"] == 5
    assert report["click_through_rate"] == round(2 / 5, 4)
    assert (report["human_opens"], report["machine_opens"]) == (1, 1)
    assert all({"url", "human_clicks", "machine_clicks"} <= set(link) for link in report["links"])
    table = cli("issue", "report", "--week", WEEK)
    assert table.exit_code == 0 and "human clicks 3" in table.stdout
    as_csv = list(csv.DictReader(io.StringIO(cli("issue", "report", "--format", "csv").stdout)))
    assert as_csv[0]["human_clicks"] == "2"
    assert cli("issue", "report", "--format", "xml").exit_code != 0


def _fail(session, delivery_ids: list[int], retries: int, error: str) -> None:  # type: ignore[no-untyped-def]
    session.execute(
        update(Delivery)
        .where(Delivery.id.in_(delivery_ids))
        .values(status=DeliveryStatus.FAILED, retries=retries, last_error=error, sent_at=None)
    )


def test_retry_failed_resends_only_fixable_failures_once(sent: SentIssue, cli: Cli) -> None:
    with transaction(sent.pulse.db.sessions) as session:
        ids = list(session.scalars(select(Delivery.id).order_by(Delivery.id)))
        _fail(session, ids[:2], 3, "SendGrid 503: service unavailable")  # transient
        _fail(session, ids[2:3], 0, "Postmark 406: inactive recipient")  # refused address
        _fail(session, ids[3:4], 3, "timeout")  # transient, but the reader left
        session.execute(
            update(Subscriber)
            .where(
                Subscriber.id
                == select(Delivery.subscriber_id).where(Delivery.id == ids[3]).scalar_subquery()
            )
            .values(status=SubscriberStatus.BOUNCED)
        )
    failed = cli("issue", "deliveries", "--week", WEEK, "--status", "failed", "--format", "csv")
    assert failed.exit_code == 0, failed.stderr
    rows = list(csv.DictReader(io.StringIO(failed.stdout)))
    assert len(rows) == 4
    assert [r["retryable"] for r in rows] == ["true", "true", "false", "false"]
    assert "inactive recipient" in rows[2]["reason"]
    before = len(list((sent.outbox / WEEK).glob("*.eml")))
    first = cli("issue", "retry-failed", "--week", WEEK)
    assert first.exit_code == 0, first.stderr
    assert "re-queued 2" in first.stdout
    assert len(list((sent.outbox / WEEK).glob("*.eml"))) >= before  # file provider overwrites
    with transaction(sent.pulse.db.sessions) as session:
        states = {i: s for i, s in session.execute(select(Delivery.id, Delivery.status))}
        assert states[ids[0]] is DeliveryStatus.SENT and states[ids[1]] is DeliveryStatus.SENT
        assert states[ids[2]] is DeliveryStatus.FAILED and states[ids[3]] is DeliveryStatus.FAILED
        assert session.scalar(select(func.count()).select_from(DeliveryRetry)) == 2
        # The same two fail again: a second retry must not re-queue them.
        _fail(session, ids[:2], 3, "SendGrid 503 again")
    second = cli("issue", "retry-failed", "--week", WEEK)
    assert second.exit_code == 0 and "no failure a retry can fix" in second.stdout


def test_the_ledger_search_and_bad_status(sent: SentIssue, cli: Cli) -> None:
    email = next(iter(sent.mails()))
    found = cli("issue", "deliveries", "--week", WEEK, "--search", email, "--format", "json")
    assert found.exit_code == 0
    rows = json.loads(found.stdout)
    assert [r["email"] for r in rows] == [email] and rows[0]["status"] == "delivered"
    bad = cli("issue", "deliveries", "--week", WEEK, "--status", "lost")
    assert bad.exit_code != 0 and "--status" in bad.stderr


def test_ledger_csv_cells_never_start_a_formula(sent: SentIssue, cli: Cli) -> None:
    with transaction(sent.pulse.db.sessions) as session:
        first = session.scalar(select(Delivery.id).order_by(Delivery.id))
        assert first is not None
        _fail(session, [first], 0, '=HYPERLINK("http://evil")')
    out = cli("issue", "deliveries", "--week", WEEK, "--status", "failed", "--format", "csv")
    (row,) = list(csv.DictReader(io.StringIO(out.stdout)))
    assert not row["reason"].startswith(("=", "+", "-", "@"))


def test_the_preferences_page_turns_click_counting_off_and_on(sent: SentIssue) -> None:
    with transaction(sent.pulse.db.sessions) as session:
        sid = session.scalar(select(Subscriber.id).order_by(Subscriber.id))
    assert sid is not None
    url = f"/preferences/{sent.pulse.signer.preferences_token(sid)}"
    assert "track my clicks" in sent.client.get(url).text
    off = sent.client.post(url, data={"action": "clicks-off"})
    assert off.status_code == 200 and "Your clicks are not counted" in off.text
    with transaction(sent.pulse.db.sessions) as session:
        assert session.get(Subscriber, sid).track_clicks is False  # type: ignore[union-attr]
    on = sent.client.post(url, data={"action": "clicks-on"})
    assert on.status_code == 200 and "track my clicks" in on.text
