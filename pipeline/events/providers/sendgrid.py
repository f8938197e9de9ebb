"""SendGrid: the signed Event Webhook (ECDSA P-256 over timestamp + raw body); a JSON array."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_der_public_key

from pipeline.events.errors import WebhookRejected
from pipeline.events.models import BounceKind, EventType
from pipeline.events.normalised import (
    NormalisedEvent,
    clean_recipient,
    event_key,
    get_str,
    load_json,
    parse_unix_time,
    payload_hash,
    raw_json,
    require_object,
)
from pipeline.events.providers.base import EventSource, VerifyContext, WebhookRequest
from pipeline.events.providers.timing import check_fresh

NAME = "sendgrid"
SIGNATURE_HEADER = "x-twilio-email-event-webhook-signature"
TIMESTAMP_HEADER = "x-twilio-email-event-webhook-timestamp"

_EVENTS = {
    "delivered": EventType.DELIVERED,
    "deferred": EventType.DEFERRED,
    "open": EventType.OPENED,
    "click": EventType.CLICKED,
    "spamreport": EventType.COMPLAINED,
    "unsubscribe": EventType.UNSUBSCRIBED,
    "group_unsubscribe": EventType.UNSUBSCRIBED,
}

# A "dropped" message names why SendGrid would not send it; some reasons are list news.
_DROP_REASONS: dict[str, tuple[EventType, BounceKind | None]] = {
    "Bounced Address": (EventType.BOUNCED, BounceKind.HARD),
    "Invalid": (EventType.BOUNCED, BounceKind.HARD),
    "Spam Reporting Address": (EventType.COMPLAINED, None),
    "Unsubscribed Address": (EventType.UNSUBSCRIBED, None),
}


def public_key(encoded: str) -> ec.EllipticCurvePublicKey:
    """The verification key from its base64 DER form (what SendGrid's settings page shows)."""
    try:
        key = load_der_public_key(base64.b64decode(encoded, validate=True))
    except (binascii.Error, ValueError, UnsupportedAlgorithm) as err:
        raise WebhookRejected(NAME, "PULSE_SENDGRID_WEBHOOK_PUBLIC_KEY is not a key") from err
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise WebhookRejected(NAME, "PULSE_SENDGRID_WEBHOOK_PUBLIC_KEY is not an EC key")
    return key


def authenticate(request: WebhookRequest, context: VerifyContext) -> object:
    """Verify the ECDSA signature over timestamp + raw body before reading the body."""
    encoded = context.credentials.sendgrid_public_key
    if not encoded:
        raise WebhookRejected(NAME, "the webhook public key is not configured")
    signature = request.header(SIGNATURE_HEADER)
    timestamp = request.header(TIMESTAMP_HEADER)
    if not signature or not timestamp:
        raise WebhookRejected(NAME, "signature headers missing", status_code=401)
    check_fresh(NAME, timestamp, context)
    try:
        der_signature = base64.b64decode(signature, validate=True)
        public_key(encoded).verify(
            der_signature, timestamp.encode() + request.body, ec.ECDSA(hashes.SHA256())
        )
    except (binascii.Error, InvalidSignature, ValueError) as err:
        raise WebhookRejected(NAME, "signature does not verify") from err
    return load_json(request.body, NAME)


def parse(payload: object) -> list[NormalisedEvent]:
    """SendGrid posts an array of events; an item may also be one event object."""
    if isinstance(payload, list):
        return [event for item in payload for event in parse(item)]
    item = require_object(payload, "event")
    name = get_str(item, "event") or ""
    kind: BounceKind | None = None
    reason = get_str(item, "reason") or get_str(item, "response")
    if name == "bounce":
        # "blocked" is the receiver refusing this message (content, reputation), not the address.
        blocked = (get_str(item, "type") or "bounce") == "blocked"
        event_type, kind = EventType.BOUNCED, BounceKind.SOFT if blocked else BounceKind.HARD
    elif name == "dropped":
        event_type, kind = _DROP_REASONS.get(reason or "", (EventType.REJECTED, None))
    else:
        event_type = _EVENTS.get(name, EventType.UNKNOWN)
    event_id = get_str(item, "sg_event_id")
    return [
        NormalisedEvent(
            provider=NAME,
            event_key=event_key("event", event_id) if event_id else payload_hash(item),
            type=event_type,
            bounce_kind=kind,
            recipient=clean_recipient(get_str(item, "email")),
            provider_message_id=_message_id(item),
            occurred_at=parse_unix_time(item.get("timestamp"), "timestamp"),
            raw=raw_json(item),
            detail=f"{name}: {reason}" if reason else name or None,
        )
    ]


def _message_id(item: Mapping[str, Any]) -> str | None:
    """sg_message_id is the send response's X-Message-Id plus a ".filter…"/".recvd…" suffix."""
    value = get_str(item, "sg_message_id")
    if not value:
        return None
    for marker in (".filter", ".recvd", ".geopod"):
        if marker in value:
            return value.split(marker, 1)[0] or value
    return value


SOURCE = EventSource(NAME, authenticate, parse)
