"""Provider open and click events, judged human or machine by the same rules as our own.

Providers that track opens and clicks themselves report them as webhooks, normalised by
``pipeline/events`` into ``opened`` / ``clicked`` with the raw payload kept. This module
reads, from each raw payload, only the fields the provider documents for those events (the
sources are cited per provider below and beside the fixtures in tests/analytics/fixtures):
who fetched (user agent, IP address), whether the provider itself calls it a machine's, and
for a click the URL. The facts then go through :func:`pipeline.analytics.classify.classify`,
one delivery at a time, so "seconds after delivery", bursts and the decoy apply here too.

Clicks are matched to the issue's links by URL, within that delivery's issue. **The dedupe
rule:** a provider click on one of our own ``/c/…`` URLs is never counted, because the
provider's redirect leads to ours and our redirect recorded that click already; a provider
click is counted only for a link that went out direct (a reader who turned click counting
off, or ``PULSE_TRACK_CLICKS=false``). A URL the issue does not carry (or an erased payload)
is not a click on this issue's links and is left out.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipeline.analytics.classify import PROVIDER_FLAGGED, Fact, classify
from pipeline.analytics.privacy import agent_family
from pipeline.delivery.models import Delivery
from pipeline.events.erasure import ERASED_PAYLOAD
from pipeline.events.models import EventType, ProviderEvent
from pipeline.issues.links import TrackedLink

# A click URL of ours: ``…/c/{delivery}.{issue}.{link}.{tag}`` (see analytics.tokens).
_OUR_CLICK_URL = re.compile(r"/c/\d+\.\d+\.-?\d+\.[A-Za-z0-9_-]+$")
# Mailgun's own client classification for programs (its "client-type" field).
_MAILGUN_MACHINE_TYPES = ("robot", "library")


@dataclass(frozen=True)
class ProviderFacts:
    """What one provider open/click event says about who fetched."""

    agent: str | None = None
    address: str | None = None
    flagged: bool = False  # the provider itself calls it a machine's
    url: str | None = None  # the link clicked (clicks only)


@dataclass(frozen=True)
class ProviderEngagement:
    """One provider open or click of an issue, with its verdict (see ``Engagement``)."""

    kind: EventType  # OPENED or CLICKED
    delivery_id: int
    subscriber_id: int
    position: int | None  # the issue's link clicked; None for an open
    at: datetime
    reasons: tuple[str, ...]

    @property
    def machine(self) -> bool:
        return bool(self.reasons)


def _dig(payload: Any, *path: str) -> Any:
    for name in path:
        if not isinstance(payload, Mapping):
            return None
        payload = payload.get(name)
    return payload


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def facts_of(provider: str, payload: Any) -> ProviderFacts:
    """The documented who-fetched fields of one raw open/click event."""
    if provider == "sendgrid":
        # Event Webhook reference (twilio.com/docs/sendgrid/for-developers/tracking-events/
        # event): "useragent", "ip", "url"; "sg_machine_open": true on opens SendGrid
        # attributes to Apple Mail Privacy Protection and other machine prefetches.
        return ProviderFacts(
            agent=_text(_dig(payload, "useragent")),
            address=_text(_dig(payload, "ip")),
            flagged=_dig(payload, "sg_machine_open") is True,
            url=_text(_dig(payload, "url")),
        )
    if provider == "postmark":
        # Open / Click webhooks (postmarkapp.com/developer/webhooks/open-tracking-webhook,
        # …/click-webhook): "UserAgent", "Geo": {"IP"}, "OriginalLink". Postmark does not
        # flag Apple's proxy; its fetches show as Apple's network with a bare agent.
        return ProviderFacts(
            agent=_text(_dig(payload, "UserAgent")),
            address=_text(_dig(payload, "Geo", "IP")),
            url=_text(_dig(payload, "OriginalLink")),
        )
    if provider == "mailgun":
        # Events (documentation.mailgun.com, "opened" / "clicked"): "ip", "url",
        # "client-info": {"user-agent", "client-type" (… "robot", "library" …), "bot"}.
        data = _dig(payload, "event-data") or payload
        bot = _text(_dig(data, "client-info", "bot"))
        client_type = _text(_dig(data, "client-info", "client-type")) or ""
        return ProviderFacts(
            agent=_text(_dig(data, "client-info", "user-agent")),
            address=_text(_dig(data, "ip")),
            flagged=bot is not None or client_type.lower() in _MAILGUN_MACHINE_TYPES,
            url=_text(_dig(data, "url")),
        )
    if provider == "ses":
        # Event publishing (docs.aws.amazon.com/ses/latest/dg/event-publishing-retrieving-
        # sns-contents.html): "open" / "click": {"userAgent", "ipAddress", "link"}.
        message = payload
        if isinstance(_dig(payload, "Message"), str):
            try:
                message = json.loads(payload["Message"])
            except ValueError:
                return ProviderFacts()
        section = _dig(message, "open") or _dig(message, "click")
        return ProviderFacts(
            agent=_text(_dig(section, "userAgent")),
            address=_text(_dig(section, "ipAddress")),
            url=_text(_dig(section, "link")),
        )
    if provider == "resend":
        # Webhook events (resend.com/docs/dashboard/webhooks/event-types): "email.clicked"
        # carries data.click {"userAgent", "ipAddress", "link"}; "email.opened" carries no
        # fetcher details at all, so only the timing rules can judge it.
        click = _dig(payload, "data", "click")
        return ProviderFacts(
            agent=_text(_dig(click, "userAgent")),
            address=_text(_dig(click, "ipAddress")),
            url=_text(_dig(click, "link")),
        )
    return ProviderFacts()


def agent_of(facts: ProviderFacts) -> str:
    """The agent family the rules read; "unknown" when the provider told us nothing."""
    if facts.agent is None and facts.address is None:
        return "unknown"
    return agent_family(facts.agent, facts.address)


def match_link(url: str | None, links: tuple[TrackedLink, ...]) -> TrackedLink | None:
    """The issue's link a provider click was on: the first with that URL (decoys last)."""
    if url is None:
        return None
    found = [link for link in links if link.url == url]
    found.sort(key=lambda link: link.decoy)
    return found[0] if found else None


def through_our_redirect(url: str) -> bool:
    """Whether a URL is one of our ``/c/{token}`` click URLs (whatever the base URL)."""
    return _OUR_CLICK_URL.search(url.split("?", 1)[0]) is not None


def provider_engagements(
    session: Session, issue_id: int, links: tuple[TrackedLink, ...]
) -> Iterator[ProviderEngagement]:
    """The issue's provider opens, and its provider clicks on direct links, classified."""
    rows = session.execute(
        select(
            ProviderEvent.type,
            ProviderEvent.provider,
            ProviderEvent.raw,
            ProviderEvent.occurred_at,
            ProviderEvent.delivery_id,
            Delivery.subscriber_id,
            Delivery.sent_at,
        )
        .join(Delivery, Delivery.id == ProviderEvent.delivery_id)
        .where(
            Delivery.issue_id == issue_id,
            ProviderEvent.type.in_((EventType.OPENED, EventType.CLICKED)),
        )
        .order_by(ProviderEvent.delivery_id, ProviderEvent.occurred_at, ProviderEvent.id)
    )
    per_delivery: dict[int, list[tuple[EventType, int, datetime, Fact, bool]]] = {}
    sent_at: dict[int, datetime | None] = {}
    for kind, provider, raw, at, delivery_id, subscriber_id, delivery_sent_at in rows:
        if delivery_id is None or raw == ERASED_PAYLOAD:
            continue  # the person was erased: their opens and clicks go with them
        try:
            facts = facts_of(provider, json.loads(raw))
        except ValueError:
            facts = ProviderFacts()
        position: int | None = None
        decoy = False
        if kind is EventType.CLICKED:
            if facts.url is not None and through_our_redirect(facts.url):
                continue  # through our own redirect: already recorded there
            link = match_link(facts.url, links)
            if link is None:
                continue
            position, decoy = link.position, link.decoy
        fact = Fact(
            at=at,
            method="GET",
            prefetch=False,
            agent=agent_of(facts),
            position=position,
            decoy=decoy,
        )
        sent_at[delivery_id] = delivery_sent_at
        per_delivery.setdefault(delivery_id, []).append(
            (kind, subscriber_id, at, fact, facts.flagged)
        )
    for delivery_id, entries in per_delivery.items():
        verdicts = classify([entry[3] for entry in entries], sent_at[delivery_id])
        for (kind, subscriber_id, at, fact, flagged), reasons in zip(
            entries, verdicts, strict=True
        ):
            yield ProviderEngagement(
                kind=kind,
                delivery_id=delivery_id,
                subscriber_id=subscriber_id,
                position=fact.position,
                at=at,
                reasons=((PROVIDER_FLAGGED,) if flagged else ()) + reasons,
            )
