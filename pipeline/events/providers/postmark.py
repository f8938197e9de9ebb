"""Postmark: HTTP basic auth on the hook; one JSON record per request, named by RecordType."""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Mapping
from typing import Any

from pipeline.events.errors import WebhookRejected
from pipeline.events.models import BounceKind, EventType
from pipeline.events.normalised import (
    NormalisedEvent,
    clean_recipient,
    event_key,
    get_str,
    load_json,
    parse_iso_time,
    payload_hash,
    raw_json,
    require_object,
)
from pipeline.events.providers.base import EventSource, VerifyContext, WebhookRequest

NAME = "postmark"

# Bounce "Type" values (Postmark's bounce type list) mapped onto our vocabulary.
_BOUNCE_TYPES: dict[str, tuple[EventType, BounceKind | None]] = {
    "HardBounce": (EventType.BOUNCED, BounceKind.HARD),
    "BadEmailAddress": (EventType.BOUNCED, BounceKind.HARD),
    "SoftBounce": (EventType.BOUNCED, BounceKind.SOFT),
    "DnsError": (EventType.BOUNCED, BounceKind.SOFT),
    "Blocked": (EventType.BOUNCED, BounceKind.SOFT),
    "DMARCPolicy": (EventType.BOUNCED, BounceKind.SOFT),
    "Transient": (EventType.DEFERRED, None),
    "SpamComplaint": (EventType.COMPLAINED, None),
    "SpamNotification": (EventType.COMPLAINED, None),
    "Unsubscribe": (EventType.UNSUBSCRIBED, None),
    "ManuallyDeactivated": (EventType.REJECTED, None),
}


def authenticate(request: WebhookRequest, context: VerifyContext) -> object:
    """Check the Authorization header against the configured user and password."""
    credentials = context.credentials
    if credentials.postmark_user is None or credentials.postmark_password is None:
        raise WebhookRejected(NAME, "webhook credentials are not configured")
    header = request.header("authorization") or ""
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not encoded:
        raise WebhookRejected(NAME, "no basic-auth credentials", status_code=401)
    try:
        user, _, password = base64.b64decode(encoded, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError) as err:
        raise WebhookRejected(NAME, "unreadable basic-auth credentials", status_code=401) from err
    expected_password = credentials.postmark_password.get_secret_value()
    # Both compared in constant time, and both always compared.
    user_ok = hmac.compare_digest(user.encode(), credentials.postmark_user.encode())
    password_ok = hmac.compare_digest(password.encode(), expected_password.encode())
    if not (user_ok and password_ok):
        raise WebhookRejected(NAME, "wrong basic-auth credentials")
    return load_json(request.body, NAME)


def parse(payload: object) -> list[NormalisedEvent]:
    """One Postmark webhook record → one event."""
    record = require_object(payload, "record")
    record_type = get_str(record, "RecordType") or ""
    kind: BounceKind | None = None
    detail = get_str(record, "Details") or get_str(record, "Description")
    recipient = _recipient(record)
    time_field: str | None = None
    if record_type in ("Bounce", "SpamComplaint"):
        bounce_type = get_str(record, "Type") or record_type
        event_type, kind = _BOUNCE_TYPES.get(bounce_type, (EventType.UNKNOWN, None))
        time_field = "BouncedAt"
        detail = f"{bounce_type}: {detail}" if detail else bounce_type
    elif record_type == "Delivery":
        event_type, time_field = EventType.DELIVERED, "DeliveredAt"
    elif record_type in ("Open", "Click"):
        event_type = EventType.OPENED if record_type == "Open" else EventType.CLICKED
        time_field = "ReceivedAt"
    elif record_type == "SubscriptionChange":
        event_type, kind, detail = _subscription_change(record)
        time_field = "ChangedAt"
    else:
        event_type = EventType.UNKNOWN
    when = get_str(record, time_field) if time_field else None
    message_id = get_str(record, "MessageID")
    # Bounces and complaints carry a record ID; other records are identified by their content.
    record_id = record.get("ID")
    key = (
        event_key("record", record_type, record_id)
        if isinstance(record_id, int | str) and record_id != ""
        else payload_hash(record)
    )
    return [
        NormalisedEvent(
            provider=NAME,
            event_key=key,
            type=event_type,
            bounce_kind=kind,
            recipient=clean_recipient(recipient),
            provider_message_id=message_id or None,
            occurred_at=parse_iso_time(when, time_field or "time"),
            raw=raw_json(record),
            detail=detail,
        )
    ]


def _recipient(record: Mapping[str, Any]) -> str | None:
    # Bounce records name the address "Email"; delivery, open, click and changes "Recipient".
    return get_str(record, "Email") or get_str(record, "Recipient")


def _subscription_change(record: Mapping[str, Any]) -> tuple[EventType, BounceKind | None, str]:
    """Postmark reports its own suppressions; only ones that stop sending matter to us."""
    reason = get_str(record, "SuppressionReason") or ""
    if record.get("SuppressSending") is not True:
        return EventType.UNKNOWN, None, f"reactivated ({reason or 'no reason'})"
    if reason == "HardBounce":
        return EventType.BOUNCED, BounceKind.HARD, "suppressed: HardBounce"
    if reason == "SpamComplaint":
        return EventType.COMPLAINED, None, "suppressed: SpamComplaint"
    return EventType.UNSUBSCRIBED, None, f"suppressed: {reason or 'ManualSuppression'}"


SOURCE = EventSource(NAME, authenticate, parse)
