"""Provider opens and clicks: documented payloads judged human or machine, folded into the report.

The payloads are in fixtures/provider_engagement (README.md there cites each one's source).
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from pipeline.analytics.classify import PROVIDER_FLAGGED, Fact, classify
from pipeline.analytics.provider_events import agent_of, facts_of, through_our_redirect
from pipeline.analytics.report import issue_report
from pipeline.delivery.models import Delivery
from pipeline.events.erasure import ERASED_PAYLOAD
from pipeline.events.models import EventType, ProviderEvent
from pipeline.events.providers import SOURCES
from pipeline.issues.links import links_from_json
from pipeline.issues.models import Issue
from pulse_core.database import transaction, utcnow
from tests.analytics.conftest import BROWSER, WEEK, SentIssue, click_urls, path_of

FIXTURES = Path(__file__).parent / "fixtures" / "provider_engagement"
LINK = "https://issue-link.example/LINK"
HUMAN = ()
APPLE = "apple-privacy-proxy"

# (fixture, provider, the event type it normalises to, the machine reasons it must get)
CASES = [
    # Flagged by SendGrid, and Apple's network with a bare agent: both reasons are kept.
    ("sendgrid_open_machine", "sendgrid", EventType.OPENED, ("provider-flagged", APPLE)),
    ("sendgrid_open_human", "sendgrid", EventType.OPENED, HUMAN),
    ("sendgrid_click_direct", "sendgrid", EventType.CLICKED, HUMAN),
    ("mailgun_opened_robot", "mailgun", EventType.OPENED, ("provider-flagged",)),
    ("mailgun_opened_human", "mailgun", EventType.OPENED, HUMAN),
    ("mailgun_clicked_human", "mailgun", EventType.CLICKED, HUMAN),
    ("postmark_open_apple_privacy", "postmark", EventType.OPENED, (APPLE,)),
    ("postmark_open_human", "postmark", EventType.OPENED, HUMAN),
    ("postmark_click_program", "postmark", EventType.CLICKED, ("machine-agent",)),
    ("ses_open_apple_privacy", "ses", EventType.OPENED, (APPLE,)),
    ("ses_open_human", "ses", EventType.OPENED, HUMAN),
    ("ses_click_scanner", "ses", EventType.CLICKED, ("machine-agent",)),
    ("resend_opened", "resend", EventType.OPENED, HUMAN),
    ("resend_clicked_human", "resend", EventType.CLICKED, HUMAN),
]


def payload(name: str, link: str = LINK) -> Any:
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8").replace(LINK, link))


def item(provider: str, raw: Any) -> Any:
    """The one event a fixture holds (SendGrid posts a list of events)."""
    return raw[0] if provider == "sendgrid" else raw


@pytest.mark.parametrize(("name", "provider", "event_type", "reasons"), CASES)
def test_documented_provider_payloads_are_judged_like_our_own(
    name: str, provider: str, event_type: EventType, reasons: tuple[str, ...]
) -> None:
    raw = payload(name)
    [event] = SOURCES[provider].parse(raw)  # the normaliser takes it as that kind of event
    assert event.type is event_type
    facts = facts_of(provider, item(provider, raw))
    fact = Fact(
        at=utcnow(),
        method="GET",
        prefetch=False,
        agent=agent_of(facts),
        position=0 if event_type is EventType.CLICKED else None,
    )
    [verdict] = classify([fact], utcnow() - timedelta(hours=3))
    judged = ((PROVIDER_FLAGGED,) if facts.flagged else ()) + verdict
    assert judged == reasons
    if event_type is EventType.CLICKED:
        assert facts.url == LINK
    # Only the family of the agent is ever kept, never the user agent itself.
    assert facts.agent is None or agent_of(facts) != facts.agent


def test_our_own_click_urls_are_recognised_whatever_the_base_url() -> None:
    assert through_our_redirect("https://news.example.com/c/12.3.4.AbCd-_9z")
    assert through_our_redirect("http://127.0.0.1:8000/c/1.1.-1.AAAAAAAA?utm=x")
    assert not through_our_redirect("https://jobs.example.com/c/careers")
    assert not through_our_redirect("https://example.com/jobs/12.3.4.abc")


def _issue(session: Session) -> Issue:
    issue = session.scalar(select(Issue).where(Issue.week_key == WEEK))
    assert issue is not None
    return issue


def _add(session: Session, delivery: Delivery, provider: str, name: str, raw: Any, at: Any) -> None:
    [event] = SOURCES[provider].parse(raw)
    session.add(
        ProviderEvent(
            provider=provider,
            event_key=f"{name}-{delivery.id}",
            type=event.type,
            delivery_id=delivery.id,
            subscriber_id=delivery.subscriber_id,
            occurred_at=at,
            raw=json.dumps(item(provider, raw)),
        )
    )


def test_provider_clicks_count_per_link_once_and_never_twice_with_our_redirect(
    sent: SentIssue,
) -> None:
    earlier = utcnow() - timedelta(hours=3)
    with transaction(sent.pulse.db.sessions) as session:
        session.execute(update(Delivery).values(sent_at=earlier))
        session.execute(update(Issue).values(send_started_at=earlier))
    # One reader clicks a link through our redirect; their provider reports the same click.
    ours = click_urls(next(iter(sent.mails().values())))[1]
    assert sent.client.get(path_of(ours), headers={"user-agent": BROWSER}).status_code == 302
    my_delivery, _issue_id, my_position = (
        int(n) for n in path_of(ours).split("/")[2].split(".")[:3]
    )
    now = utcnow()
    with transaction(sent.pulse.db.sessions) as session:
        issue = _issue(session)
        every = [link for link in links_from_json(issue.links_json) if not link.decoy]
        mine = next(link for link in every if link.position == my_position)
        urls = [link.url for link in every]
        others = [x for x in every if x is not mine and urls.count(x.url) == 1]
        links = [mine, *others]
        assert urls.count(mine.url) == 1 and len(links) >= 3
        deliveries = list(session.scalars(select(Delivery).order_by(Delivery.id)))
        me = next(d for d in deliveries if d.id == my_delivery)
        deliveries = [me] + [d for d in deliveries if d is not me]
        through_ours = payload("sendgrid_click_through_our_redirect")
        through_ours[0]["url"] = ours
        _add(session, me, "sendgrid", "ours", through_ours, now)
        # Three readers had direct links (say, click counting off): only the provider saw them.
        _add(
            session,
            deliveries[1],
            "sendgrid",
            "d1",
            payload("sendgrid_click_direct", mine.url),
            now,
        )
        _add(
            session, deliveries[2], "mailgun", "d2", payload("mailgun_clicked_human", mine.url), now
        )
        _add(
            session,
            deliveries[3],
            "resend",
            "d3",
            payload("resend_clicked_human", links[1].url),
            now,
        )
        # A scanner's click, a click on a URL this issue does not carry, an erased person's.
        _add(session, deliveries[4], "ses", "d4", payload("ses_click_scanner", links[1].url), now)
        _add(session, deliveries[5], "mailgun", "x", payload("mailgun_clicked_human"), now)
        erased = payload("resend_clicked_human", links[2].url)
        _add(session, deliveries[5], "resend", "gone", erased, now)
    with transaction(sent.pulse.db.sessions) as session:
        session.execute(
            update(ProviderEvent)
            .where(ProviderEvent.event_key == f"gone-{deliveries[5].id}")
            .values(raw=ERASED_PAYLOAD)
        )
    with transaction(sent.pulse.db.sessions) as session:
        report = issue_report(session, _issue(session), utcnow())
    by_position = {f.link.position: f for f in report.links}
    assert (by_position[mine.position].human_clicks, report.human_clickers) == (3, 4)
    assert by_position[mine.position].human_clickers == 3
    assert by_position[links[1].position].human_clicks == 1
    assert by_position[links[1].position].machine_clicks == 1
    assert by_position[links[2].position].human_clicks == 0
    assert (report.human_clicks, report.machine_clicks) == (4, 1)
    assert report.machine_reasons == {"machine-agent": 1}


def test_provider_opens_are_human_or_machine_and_the_timing_rules_apply(sent: SentIssue) -> None:
    with transaction(sent.pulse.db.sessions) as session:
        deliveries = list(session.scalars(select(Delivery).order_by(Delivery.id)))
        for delivery in deliveries:
            delivery.sent_at = utcnow() - timedelta(hours=3)
        later = utcnow()
        _add(session, deliveries[0], "sendgrid", "o", payload("sendgrid_open_machine"), later)
        _add(session, deliveries[1], "postmark", "o", payload("postmark_open_apple_privacy"), later)
        _add(session, deliveries[2], "ses", "o", payload("ses_open_human"), later)
        _add(session, deliveries[3], "mailgun", "o", payload("mailgun_opened_human"), later)
        # Resend says nothing of who fetched: an open two seconds after the send is a machine's.
        deliveries[4].sent_at = later - timedelta(seconds=2)
        _add(session, deliveries[4], "resend", "o", payload("resend_opened"), later)
    with transaction(sent.pulse.db.sessions) as session:
        report = issue_report(session, _issue(session), utcnow())
    assert (report.human_opens, report.machine_opens) == (2, 3)
    assert report.machine_reasons == {
        "provider-flagged": 1,
        "apple-privacy-proxy": 2,
        "seconds-after-delivery": 1,
    }
    assert report.human_clicks == report.machine_clicks == 0
