"""Mailgun: HMAC-SHA256 of timestamp + token in the body, fresh timestamps, tokens used once."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from email.utils import getaddresses
from typing import Any

from pipeline.events.errors import MalformedEvent, WebhookRejected
from pipeline.events.models import BounceKind, EventType
from pipeline.events.normalised import (
    NormalisedEvent,
    clean_recipient,
    event_key,
    get_object,
    get_str,
    load_json,
    parse_unix_time,
    payload_hash,
    raw_json,
    require_object,
)
from pipeline.events.providers.base import EventSource, VerifyContext, WebhookRequest
from pipeline.events.providers.timing import check_fresh
from pipeline.events.replay import forget_tokens_before, remember_token

NAME = "mailgun"

_EVENTS = {
    "delivered": EventType.DELIVERED,
    "opened": EventType.OPENED,
    "clicked": EventType.CLICKED,
    "complained": EventType.COMPLAINED,
    "unsubscribed": EventType.UNSUBSCRIBED,
    "rejected": EventType.REJECTED,
}


def authenticate(request: WebhookRequest, context: VerifyContext) -> object:
    """Verify the body's signature block; remember the token so it is never accepted twice."""
    key = context.credentials.mailgun_signing_key
    if key is None:
        raise WebhookRejected(NAME, "the webhook signing key is not configured")
    # Mailgun signs inside the body, so the JSON must be decoded to find the signature;
    # nothing else in it is looked at until the signature holds.
    payload = load_json(request.body, NAME)
    if not isinstance(payload, dict) or not isinstance(payload.get("signature"), dict):
        raise WebhookRejected(NAME, "no signature block", status_code=401)
    block = payload["signature"]
    timestamp, token, signature = (block.get(k) for k in ("timestamp", "token", "signature"))
    if not all(isinstance(v, str) and v for v in (timestamp, token, signature)):
        raise WebhookRejected(NAME, "incomplete signature block", status_code=401)
    assert isinstance(timestamp, str) and isinstance(token, str) and isinstance(signature, str)
    expected = hmac.new(
        key.get_secret_value().encode(), (timestamp + token).encode(), hashlib.sha256
    ).hexdigest()
    if not hmac.compare_digest(expected.encode(), signature.encode()):
        raise WebhookRejected(NAME, "signature does not verify")
    check_fresh(NAME, timestamp, context)
    if len(token) > 200 or not remember_token(context.session, NAME, token):
        raise WebhookRejected(NAME, "token already used (replay)")
    # A token accepted at seen_at came with a timestamp within the tolerance of it, so a
    # replay can only verify within twice the tolerance: older tokens need not be kept.
    tolerance = timedelta(seconds=context.credentials.tolerance_seconds)
    forget_tokens_before(context.session, NAME, datetime.now(UTC) - 2 * tolerance)
    return payload


def parse(payload: object) -> list[NormalisedEvent]:
    """A webhook body ({signature, event-data}) or a bare event, as the Events API returns."""
    body = require_object(payload, "body")
    data = require_object(body["event-data"], "event-data") if "event-data" in body else body
    name = get_str(data, "event", field="event-data.event") or ""
    kind: BounceKind | None = None
    status = get_object(data, "delivery-status")
    detail = get_str(status, "description") or get_str(status, "message") or get_str(data, "reason")
    if name == "failed":
        # Mailgun's "severity" says whether it will retry; "temporary" is a deferral.
        if get_str(data, "severity") == "temporary":
            event_type = EventType.DEFERRED
        else:
            event_type, kind = EventType.BOUNCED, BounceKind.HARD
    else:
        event_type = _EVENTS.get(name, EventType.UNKNOWN)
    event_id = get_str(data, "id", field="event-data.id")
    # Mailgun's event id is unique only within a day, so the time goes into the key too.
    key = event_key("event", event_id, data.get("timestamp")) if event_id else payload_hash(data)
    return [
        NormalisedEvent(
            provider=NAME,
            event_key=key,
            type=event_type,
            bounce_kind=kind,
            recipient=_recipient(data),
            provider_message_id=_message_id(data),
            occurred_at=parse_unix_time(data.get("timestamp"), "event-data.timestamp"),
            # The signature block is request authentication, not the event: not kept.
            raw=raw_json({k: v for k, v in body.items() if k != "signature"}),
            detail=f"{name}: {detail}" if detail else name or None,
        )
    ]


def _recipient(data: Mapping[str, Any]) -> str | None:
    """``recipient``; Mailgun's documented ``rejected`` event has none, only the envelope's
    targets and the message's To header (documentation.mailgun.com, Webhook Payloads)."""
    found = get_str(data, "recipient", field="event-data.recipient")
    if found is None:
        found = get_str(
            get_object(data, "envelope"), "targets", field="event-data.envelope.targets"
        )
    if found is None:
        headers = get_object(get_object(data, "message"), "headers")
        to = get_str(headers, "to", field="event-data.message.headers.to")
        addresses = [address for _name, address in getaddresses([to])] if to else []
        # Only an unambiguous single addressee names the event's recipient.
        found = addresses[0] if len(addresses) == 1 else None
    return clean_recipient(found)


def _message_id(data: Mapping[str, Any]) -> str | None:
    headers = get_object(get_object(data, "message"), "headers")
    value = get_str(headers, "message-id", field="event-data.message.headers.message-id")
    if value is None:
        return None
    if not value.strip():
        raise MalformedEvent("event-data.message.headers.message-id", "is empty")
    # The send API answers "<id@domain>"; events carry the id without brackets.
    return f"<{value.strip().strip('<>')}>"


SOURCE = EventSource(NAME, authenticate, parse)
