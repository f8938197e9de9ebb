"""The issue report split by level and region: the main report's figures, per segment."""

from __future__ import annotations

import json

from sqlalchemy import select

from pipeline.delivery.models import Delivery
from pipeline.events.models import EventType
from pulse_core.database import transaction
from subscribers.models import Subscriber
from subscribers.preferences import unsubscribe
from tests.analytics.conftest import WEEK, SentIssue, click_urls
from tests.analytics.test_privacy_and_reports import BROWSER, _event, age_the_send, human_click
from tests.conftest import Cli

# Six readers: two senior in GB, one senior in US, one mid in US, two who said nothing.
PROFILES = [("senior", "GB"), ("senior", "GB"), ("senior", "US"), ("mid", "US"), (None, None)]


def test_the_report_splits_sends_openers_clickers_and_unsubscribes(
    sent: SentIssue, cli: Cli
) -> None:
    age_the_send(sent)
    with transaction(sent.pulse.db.sessions) as session:
        readers = list(
            session.scalars(
                select(Subscriber).join(Delivery, Delivery.subscriber_id == Subscriber.id)
                .order_by(Subscriber.id)
            )
        )  # fmt: skip
        for person, (level, region) in zip(readers, PROFILES, strict=False):
            person.level, person.region = level, region
        emails = [p.email for p in readers]
        ids = [p.id for p in readers]
        deliveries = {d.subscriber_id: d for d in session.scalars(select(Delivery))}
        # A provider's human open for the US senior; a machine's for a GB senior.
        _event(session, deliveries[ids[2]], EventType.OPENED, {"useragent": BROWSER}, "o1")
        _event(session, deliveries[ids[0]], EventType.OPENED, {"sg_machine_open": True}, "o2")
    mails = sent.mails()
    human_click(sent, click_urls(mails[emails[0]])[0])
    human_click(sent, click_urls(mails[emails[0]])[1])  # one reader, two clicks: one clicker
    human_click(sent, click_urls(mails[emails[3]])[0])
    unsubscribe(sent.pulse.subscribers, ids[1], cause="test")
    result = cli("issue", "report", "--week", WEEK, "--format", "json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    level = {row["value"]: row for row in report["segments"]["level"]}
    assert [row["value"] for row in report["segments"]["level"]] == ["senior", "none", "mid"]
    assert (level["senior"]["sent"], level["mid"]["sent"], level["none"]["sent"]) == (3, 1, 2)
    assert (
        level["senior"]["unique_human_clickers"] == 1 and level["mid"]["unique_human_clickers"] == 1
    )
    assert level["senior"]["unique_human_openers"] == 1  # the machine's open is not a reader's
    assert level["senior"]["unsubscribed_after"] == 1 and level["none"]["unsubscribed_after"] == 0
    assert level["mid"]["click_through_rate"] == 1.0
    region = {row["value"]: row for row in report["segments"]["region"]}
    assert (region["GB"]["sent"], region["US"]["sent"], region["none"]["sent"]) == (2, 2, 2)
    assert region["US"]["unique_human_openers"] == 1 and region["GB"]["unique_human_clickers"] == 1
    # Every split adds up to the whole report.
    for rows in report["segments"].values():
        assert sum(r["sent"] for r in rows) == report["sent"]
        assert sum(r["unique_human_clickers"] for r in rows) == report["unique_human_clickers"]
        assert sum(r["unsubscribed_after"] for r in rows) == report["unsubscribed_after"]
    table = cli("issue", "report", "--week", WEEK)
    assert table.exit_code == 0 and "senior" in table.stdout and "click-through" in table.stdout


def test_the_desk_report_page_shows_the_split(sent: SentIssue, desk) -> None:  # type: ignore[no-untyped-def]
    with transaction(sent.pulse.db.sessions) as session:
        for person in session.scalars(select(Subscriber)):
            person.region = "JP"
    page = desk.editor().get("/admin/report", params={"week": WEEK}).text
    assert 'id="segment-level"' in page and 'id="segment-region"' in page
    region = page.split('id="segment-region"')[1].split("</table>")[0]
    assert '<td>JP</td><td class="num">6</td>' in region
