"""Provider open and click events, judged human or machine like our own.

Providers that track opens and clicks themselves report them as webhooks, normalised by
``pipeline/events`` into ``opened`` / ``clicked``. The raw payload says who fetched: the
fields read here are the ones each provider documents for its open and click events.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipeline.analytics.privacy import agent_family
from pipeline.delivery.models import Delivery
from pipeline.events.models import EventType, ProviderEvent

MACHINE_FAMILIES = ("empty", "program", "apple-mpp")


def _dig(payload: Any, *path: str) -> Any:
    for name in path:
        if not isinstance(payload, Mapping):
            return None
        payload = payload.get(name)
    return payload


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def request_of(provider: str, payload: Any) -> tuple[str | None, str | None, bool]:
    """(user agent, IP address, provider says machine) from one raw event."""
    if provider == "sendgrid":
        # SendGrid event webhook: "useragent", "ip"; "sg_machine_open": true for opens it
        # attributes to Apple Mail Privacy Protection and other prefetchers.
        flagged = _dig(payload, "sg_machine_open") is True
        return _text(_dig(payload, "useragent")), _text(_dig(payload, "ip")), flagged
    if provider == "postmark":
        # Postmark Open / Click webhooks: "UserAgent", "Geo": {"IP": ...}.
        return _text(_dig(payload, "UserAgent")), _text(_dig(payload, "Geo", "IP")), False
    if provider == "mailgun":
        # Mailgun "opened" / "clicked": "client-info": {"user-agent", "bot"}, "ip".
        data = _dig(payload, "event-data") or payload
        bot = _dig(data, "client-info", "bot")
        agent = _text(_dig(data, "client-info", "user-agent"))
        return agent, _text(_dig(data, "ip")), isinstance(bot, str) and bool(bot)
    if provider == "ses":
        # SES event publishing: "open" / "click": {"userAgent", "ipAddress"}.
        message = payload
        if isinstance(_dig(payload, "Message"), str):
            try:
                message = json.loads(payload["Message"])
            except ValueError:
                return None, None, False
        section = _dig(message, "open") or _dig(message, "click")
        return _text(_dig(section, "userAgent")), _text(_dig(section, "ipAddress")), False
    if provider == "resend":
        # Resend "email.clicked": data.click {"userAgent", "ipAddress"}.
        click = _dig(payload, "data", "click")
        return _text(_dig(click, "userAgent")), _text(_dig(click, "ipAddress")), False
    return None, None, False


def judge(provider: str, raw: str) -> bool:
    """Whether a provider open/click event was a machine's (unreadable payloads: human)."""
    try:
        payload = json.loads(raw)
    except ValueError:
        return False
    agent, address, flagged = request_of(provider, payload)
    if flagged:
        return True
    if agent is None and address is None:
        return False  # the provider told us nothing either way
    family = agent_family(agent, address)
    return family in MACHINE_FAMILIES or family.startswith("scanner:")


def provider_verdicts(session: Session, issue_id: int, kind: EventType) -> list[bool]:
    """For each provider ``kind`` event of the issue, whether it was a machine's."""
    rows = session.execute(
        select(ProviderEvent.provider, ProviderEvent.raw)
        .join(Delivery, Delivery.id == ProviderEvent.delivery_id)
        .where(Delivery.issue_id == issue_id, ProviderEvent.type == kind)
    )
    return [judge(provider, raw) for provider, raw in rows]
